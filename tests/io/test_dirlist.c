/* SPDX-License-Identifier: MIT */
/* Tests of the directory lister (parkit/dirlist.h): sorted names, hidden entries, patterns and
 * the errno of a directory that cannot be read. Each case makes its own directory under /tmp. */
#ifndef _POSIX_C_SOURCE
#    define _POSIX_C_SOURCE 200809L
#endif

#include "check.h"
#include "parkit/dirlist.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static int make_dir(const char *const *names)
{
    snprintf(dir, sizeof dir, "/tmp/pk_dirlist_XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    for (size_t i = 0; names[i]; i++) {
        char path[160];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        int fd = open(path, O_CREAT | O_WRONLY, 0644);
        if (fd < 0)
            return -1;
        close(fd);
    }
    return 0;
}

static void remove_dir(const char *const *names)
{
    for (size_t i = 0; names[i]; i++) {
        char path[160];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

static const char *const files[] = {"b.csv", "a.csv", ".hidden.csv", "c.png", "A.csv", NULL};

static int case_sorted_visible(void)
{
    CHECK_OK(make_dir(files));
    struct pk_dirlist l;
    int rc = pk_dirlist_read(dir, NULL, false, &l);
    bool ok = rc == 0 && l.n == 4 && strcmp(l.name[0], "A.csv") == 0 &&
              strcmp(l.name[1], "a.csv") == 0 && strcmp(l.name[2], "b.csv") == 0 &&
              strcmp(l.name[3], "c.png") == 0;
    pk_dirlist_free(&l);
    remove_dir(files);
    CHECK(ok);
    CHECK(l.n == 0 && l.name == NULL);
    return 0;
}

static int case_hidden_and_pattern(void)
{
    CHECK_OK(make_dir(files));
    struct pk_dirlist all, csv, dotted;
    int rc1 = pk_dirlist_read(dir, NULL, true, &all);
    int rc2 = pk_dirlist_read(dir, "*.csv", true, &csv);
    int rc3 = pk_dirlist_read(dir, ".*.csv", true, &dotted);
    bool ok = rc1 == 0 && all.n == 5 && strcmp(all.name[0], ".hidden.csv") == 0 && rc2 == 0 &&
              csv.n == 3 && rc3 == 0 && dotted.n == 1;
    pk_dirlist_free(&all);
    pk_dirlist_free(&csv);
    pk_dirlist_free(&dotted);
    remove_dir(files);
    CHECK(ok);
    return 0;
}

static int case_errors(void)
{
    struct pk_dirlist l;
    CHECK_EQ_INT(pk_dirlist_read("/nonexistent/pk", NULL, false, &l), ENOENT);
    CHECK(l.n == 0);
    pk_dirlist_free(&l);
    CHECK_EQ_INT(pk_dirlist_read("/dev/null", NULL, false, &l), ENOTDIR);
    pk_dirlist_free(&l);
    pk_dirlist_free(NULL);
    static const char *const none[] = {NULL};
    CHECK_OK(make_dir(none));
    int rc = pk_dirlist_read(dir, NULL, false, &l);
    remove_dir(none);
    CHECK(rc == 0 && l.n == 0);
    pk_dirlist_free(&l);
    return 0;
}

static const struct check_case cases[] = {
    {"sorted_visible", case_sorted_visible},
    {"hidden_and_pattern", case_hidden_and_pattern},
    {"errors", case_errors},
};

int main(int argc, char **argv)
{
    return CHECK_MAIN(cases);
}
