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

#include <fcntl.h>
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
        during = entries(); /* the target, and the temporary unless it is unnamed */
        read_back(before, sizeof before);
        rc = pk_atomicfile_commit(&a, NULL);
    }
    read_back(after, sizeof after);
    bool ok = rc == PK_OK && (during == 1 || during == 2) && strcmp(before, "old\n") == 0 &&
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

/* A FIFO target is written in place: it stays a FIFO and the reader gets the bytes. */
static int case_fifo_in_place(void)
{
    CHECK_OK(setup());
    CHECK_OK(mkfifo(path, 0600));
    int rd = open(path, O_RDWR | O_NONBLOCK); /* a reader, so the writer's open does not wait */
    char *lines[] = {"through"};
    int rc = pk_atomicfile_write_lines(path, lines, 1, NULL);
    char buf[32] = "";
    ssize_t got = rd >= 0 ? read(rd, buf, sizeof buf - 1) : -1;
    struct stat st;
    bool fifo = stat(path, &st) == 0 && S_ISFIFO(st.st_mode);
    if (rd >= 0)
        close(rd);
    size_t left = entries();
    teardown();
    CHECK_EQ_INT(rc, PK_OK);
    CHECK(fifo && got == 8 && strcmp(buf, "through\n") == 0 && left == 1);
    return 0;
}

/* A directory target is refused (PK_EINVAL); no_replace keeps an existing file; a named
 * temporary is registered and removed by pk_atomicfile_remove_temps. */
static int case_refusals_and_named(void)
{
    CHECK_OK(setup());
    struct pk_err err = {0};
    int dir_rc = pk_atomicfile_write_lines(dir, NULL, 0, &err);
    bool dir_msg = strstr(err.msg, "is a directory") != NULL;
    char *old[] = {"old"};
    int first = pk_atomicfile_write_lines(path, old, 1, NULL);
    struct pk_atomicfile a;
    struct pk_atomicfile_opts o = {.no_replace = true, .named = true, .mode = 0640};
    int rc = pk_atomicfile_open_with(&a, path, &o, &err);
    bool named = rc == PK_OK && a.tmp && entries() == 2;
    pk_atomicfile_remove_temps(); /* as a signal handler would */
    size_t after_signal = entries();
    if (rc == PK_OK)
        pk_atomicfile_abort(&a);
    rc = pk_atomicfile_open_with(&a, path, &o, &err);
    int commit = rc == PK_OK ? pk_atomicfile_commit(&a, &err) : rc;
    char buf[16] = "";
    read_back(buf, sizeof buf);
    bool same = pk_atomicfile_same(path, path) && !pk_atomicfile_same(path, dir);
    teardown();
    CHECK_EQ_INT(dir_rc, PK_EINVAL);
    CHECK(dir_msg && first == PK_OK && named && after_signal == 1 && same);
    CHECK_EQ_INT(commit, PK_EIO);
    CHECK(strstr(err.msg, "not replacing existing") && strcmp(buf, "old\n") == 0);
    return 0;
}

static const struct check_case cases[] = {
    {"fifo_in_place", case_fifo_in_place},
    {"refusals_and_named", case_refusals_and_named},
    {"lines_and_mode", case_lines_and_mode},
    {"replace_only_on_commit", case_replace_only_on_commit},
    {"abort_and_errors", case_abort_and_errors},
};

int main(int argc, char **argv)
{
    return CHECK_MAIN(cases);
}
