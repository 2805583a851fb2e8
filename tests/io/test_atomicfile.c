/* SPDX-License-Identifier: MIT */
/* Tests of the atomic file writer (parkit/atomicfile.h): the file appears whole with the mode a
 * plain create gives, replaces an old one only on commit, and an abort or a failure leaves no
 * temporary behind. Each case works in its own directory under /tmp. */
#ifndef _POSIX_C_SOURCE
#    define _POSIX_C_SOURCE 200809L
#endif

#include "check.h"
#include "parkit/atomicfile.h"
#include "parkit/dirlist.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64], path[128];

static int setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/pk_atomic_XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/out.txt", dir);
    return 0;
}

/* Entries left in the directory (the target included). */
static size_t entries(void)
{
    struct pk_dirlist l;
    size_t n = pk_dirlist_read(dir, NULL, true, &l) == 0 ? l.n : (size_t)-1;
    pk_dirlist_free(&l);
    return n;
}

static void teardown(void)
{
    struct pk_dirlist l;
    if (pk_dirlist_read(dir, NULL, true, &l) == 0)
        for (size_t i = 0; i < l.n; i++) {
            char p[256];
            snprintf(p, sizeof p, "%s/%s", dir, l.name[i]);
            unlink(p);
        }
    pk_dirlist_free(&l);
    rmdir(dir);
}

static int read_back(char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
    return 0;
}

static int case_lines_and_mode(void)
{
    CHECK_OK(setup());
    mode_t old = umask(022);
    char *lines[] = {"a,b", "1,2"};
    int rc = pk_atomicfile_write_lines(path, lines, 2, NULL);
    umask(old);
    char buf[64] = "";
    struct stat st;
    bool ok = rc == PK_OK && read_back(buf, sizeof buf) == 0 && strcmp(buf, "a,b\n1,2\n") == 0 &&
              stat(path, &st) == 0 && (st.st_mode & 0777) == 0644 && entries() == 1;
    teardown();
    CHECK(ok);
    return 0;
}

static int case_replace_only_on_commit(void)
{
    CHECK_OK(setup());
    char *old[] = {"old"};
    CHECK_OK(pk_atomicfile_write_lines(path, old, 1, NULL));
    struct pk_atomicfile a;
    int rc = pk_atomicfile_open(&a, path, NULL);
    char before[16] = "", after[16] = "";
    size_t during = 0;
    if (rc == PK_OK) {
        fputs("new\n", a.f);
        fflush(a.f);
        during = entries(); /* target and temporary */
        read_back(before, sizeof before);
        rc = pk_atomicfile_commit(&a, NULL);
    }
    read_back(after, sizeof after);
    bool ok = rc == PK_OK && during == 2 && strcmp(before, "old\n") == 0 &&
              strcmp(after, "new\n") == 0 && entries() == 1 && a.tmp == NULL;
    teardown();
    CHECK(ok);
    return 0;
}

static int case_abort_and_errors(void)
{
    CHECK_OK(setup());
    struct pk_atomicfile a;
    int rc = pk_atomicfile_open(&a, path, NULL);
    if (rc == PK_OK) {
        fputs("partial", a.f);
        pk_atomicfile_abort(&a);
        pk_atomicfile_abort(&a);
    }
    pk_atomicfile_abort(NULL);
    size_t left = entries();
    struct pk_err err = {0};
    char missing[160];
    snprintf(missing, sizeof missing, "%s/no/such/file", dir);
    int rc2 = pk_atomicfile_write_lines(missing, NULL, 0, &err);
    teardown();
    CHECK(rc == PK_OK && left == 0);
    CHECK_EQ_INT(rc2, PK_EIO);
    CHECK(strstr(err.msg, "cannot create") && strstr(err.msg, "no/such/file"));
    return 0;
}

static const struct check_case cases[] = {
    {"lines_and_mode", case_lines_and_mode},
    {"replace_only_on_commit", case_replace_only_on_commit},
    {"abort_and_errors", case_abort_and_errors},
};

int main(int argc, char **argv)
{
    return CHECK_MAIN(cases);
}
