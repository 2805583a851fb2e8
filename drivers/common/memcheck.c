/* SPDX-License-Identifier: MIT */
#include "memcheck.h"

#include "cli.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* A limit this large is "no limit" (cgroup v1 writes 2^63 rounded down to a page). */
#define UNLIMITED (UINT64_C(1) << 62)

static void lower(struct pk_mem_budget *b, uint64_t bytes, const char *source)
{
    if (bytes < b->bytes) {
        b->bytes = bytes;
        b->source = source;
    }
}

/* The number after `key` in the /proc file at path (in kB for meminfo and status), or -1. */
static long long proc_field(const char *path, const char *key)
{
    FILE *f = fopen(path, "r");
    char line[256];
    long long v = -1;
    size_t n = strlen(key);
    while (f && v < 0 && fgets(line, sizeof line, f))
        if (strncmp(line, key, n) == 0)
            v = atoll(line + n);
    if (f)
        fclose(f);
    return v;
}

/* One number in a file (a cgroup's limit or usage); UINT64_MAX for "max" or when unreadable. */
static uint64_t file_number(const char *dir, const char *name)
{
    char path[PATH_MAX + 64], buf[64];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    bool ok = f && fgets(buf, sizeof buf, f) && buf[0] >= '0' && buf[0] <= '9';
    if (f)
        fclose(f);
    return ok ? strtoull(buf, NULL, 10) : UINT64_MAX;
}

/* Where the memory controller is mounted: cgroup2 (v2) or the v1 hierarchy with "memory" in
 * its options, from /proc/self/mountinfo. Returns false when neither is. */
static bool memory_mount(char *mnt, size_t size, bool *v2)
{
    FILE *f = fopen("/proc/self/mountinfo", "r");
    char line[1024], point[512];
    bool found = false;
    while (f && !found && fgets(line, sizeof line, f)) {
        const char *dash = strstr(line, " - ");
        if (!dash || sscanf(line, "%*s %*s %*s %*s %511s", point) != 1)
            continue;
        if (strncmp(dash, " - cgroup2 ", 11) == 0)
            found = *v2 = true;
        else if (strncmp(dash, " - cgroup ", 10) == 0 && strstr(dash, "memory"))
            found = !(*v2 = false);
    }
    if (f)
        fclose(f);
    if (found)
        snprintf(mnt, size, "%s", point);
    return found;
}

/* This process's path in the hierarchy: "0::PATH" (v2) or "N:...memory...:PATH" (v1). */
static bool cgroup_path(bool v2, char *path, size_t size)
{
    FILE *f = fopen("/proc/self/cgroup", "r");
    char line[1024];
    bool found = false;
    while (f && !found && fgets(line, sizeof line, f)) {
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        *c2 = '\0';
        found = v2 ? strcmp(c1 + 1, "") == 0 && strncmp(line, "0", 1) == 0
                   : strstr(c1 + 1, "memory") != NULL;
        if (found) {
            c2[1 + strcspn(c2 + 1, "\n")] = '\0';
            snprintf(path, size, "%s", c2 + 1);
        }
    }
    if (f)
        fclose(f);
    return found;
}

/* The tightest limit less usage along the process's cgroup and its ancestors. */
static void cgroup_budget(struct pk_mem_budget *b)
{
    char mnt[512], rel[1024], dir[PATH_MAX];
    bool v2 = false;
    if (!memory_mount(mnt, sizeof mnt, &v2) || !cgroup_path(v2, rel, sizeof rel))
        return;
    const char *limit = v2 ? "memory.max" : "memory.limit_in_bytes";
    const char *usage = v2 ? "memory.current" : "memory.usage_in_bytes";
    for (;;) { /* the cgroup, then each parent up to the root ("") */
        snprintf(dir, sizeof dir, "%s%s", mnt, rel);
        uint64_t max = file_number(dir, limit), used = file_number(dir, usage);
        if (max < UNLIMITED)
            lower(b, used < max ? max - used : 0,
                  v2 ? "the cgroup's memory.max allows" : "the cgroup's memory limit allows");
        char *slash = strrchr(rel, '/');
        if (rel[0] == '\0' || !slash)
            break;
        *slash = '\0';
    }
}

void pk_mem_budget(struct pk_mem_budget *b)
{
    *b = (struct pk_mem_budget){.bytes = UINT64_MAX, .source = "unlimited"};
    long long avail_kb = proc_field("/proc/meminfo", "MemAvailable:");
    if (avail_kb >= 0)
        lower(b, (uint64_t)avail_kb * 1024, "available (MemAvailable)");
    cgroup_budget(b);
    struct rlimit rl;
    long long vm_kb = proc_field("/proc/self/status", "VmSize:");
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && vm_kb >= 0) {
        uint64_t used = (uint64_t)vm_kb * 1024;
        lower(b, rl.rlim_cur > used ? rl.rlim_cur - used : 0, "left under ulimit -v");
    }
    long long data_kb = proc_field("/proc/self/status", "VmData:");
    if (getrlimit(RLIMIT_DATA, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && data_kb >= 0) {
        uint64_t used = (uint64_t)data_kb * 1024;
        lower(b, rl.rlim_cur > used ? rl.rlim_cur - used : 0, "left under ulimit -d");
    }
}

/* The check on this process: a usage error naming both figures when the estimate is larger. */
static int check_here(const struct pk_comm *c, bool every_rank, const char *cmd, const char *what,
                      uint64_t estimate, uint64_t max_memory, const char *hint)
{
    struct pk_mem_budget b;
    pk_mem_budget(&b);
    if (max_memory)
        b = (struct pk_mem_budget){max_memory, "allowed by --max-memory"};
    if (estimate <= b.bytes)
        return PK_EXIT_OK;
    pk_error(c, every_rank, cmd, "%s needs about %.3g GB (estimate), more than the %.3g GB %s; %s",
             what, (double)estimate * 1e-9, (double)b.bytes * 1e-9, b.source, hint);
    return PK_EXIT_USAGE;
}

int pk_mem_check(const struct pk_comm *c, const char *cmd, const char *what, uint64_t estimate,
                 uint64_t max_memory, const char *hint)
{
    if (c->rank != 0)
        return PK_EXIT_OK;
    return check_here(c, false, cmd, what, estimate, max_memory, hint);
}

int pk_mem_check_each(const struct pk_comm *c, const char *cmd, const char *what,
                      uint64_t estimate, const char *hint)
{
    return check_here(c, c->nranks > 1, cmd, what, estimate, 0, hint);
}
