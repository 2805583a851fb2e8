/* SPDX-License-Identifier: MIT */
#include "record.h"

#include "parkit/dist.h"
#include "parkit/features.h"
#include "timing.h"

#include <errno.h>
#include <fcntl.h>
#include <gmp.h>
#include <gsl/gsl_version.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef __clang__
#    define PK_COMPILER "clang " __clang_version__
#else
#    define PK_COMPILER "gcc " __VERSION__
#endif

json_t *pk_record_new(const char *command)
{
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_pack("{s:s, s:s, s:s}", "schema", "parkit.record/1", "command", command, "time_utc",
                     when);
}

void pk_record_set_timing(json_t *rec, const double *rep_s, int reps, int warmup)
{
    json_t *all = json_array();
    for (int i = 0; i < reps; i++)
        json_array_append_new(all, json_real(rep_s[i]));
    struct pk_stats s = pk_stats_of(rep_s, reps);
    json_object_set_new(rec, "timing",
                        json_pack("{s:i, s:o, s:f, s:f, s:f, s:f, s:f, s:f}", "warmup", warmup,
                                  "reps_s", all, "median_s", s.median, "min_s", s.min, "max_s",
                                  s.max, "mean_s", s.mean, "stddev_s", s.stddev, "clock_tick_s",
                                  pk_clock_tick_s()));
}

void pk_record_set_reps(json_t *rec, const struct pk_reps *p)
{
    pk_record_set_timing(rec, p->rep_s, p->reps_run, p->warmup_run);
    json_t *t = json_object_get(rec, "timing");
    json_object_set_new(t, "reps_cut_short", json_boolean(p->cut));
    json_object_set_new(t, "reps_budget_s", p->may_cut ? json_real(p->budget_s) : json_null());
    json_t *params = json_object_get(rec, "params");
    if (params) {
        json_object_set_new(params, "reps", json_integer(p->reps_run));
        json_object_set_new(params, "warmup", json_integer(p->warmup_run));
    }
}

static json_t *build_facts(void)
{
    char mpi[256];
    pk_dist_library_version(mpi, sizeof mpi);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:i, s:s, s:s, s:s, s:s}", "version",
                     PK_VERSION, "git_commit", PK_GIT_SHA, "compiler", PK_COMPILER, "c_flags",
                     PK_C_FLAGS, "build_type", PK_BUILD_TYPE, "native", PK_NATIVE_BUILD, "openmp",
                     _OPENMP, "mpi", mpi, "gsl", gsl_version, "gmp", gmp_version, "jansson",
                     JANSSON_VERSION);
}

void pk_record_set_provenance(json_t *rec, const json_t *sysinfo)
{
    json_t *p = build_facts();
    if (sysinfo)
        json_object_set_new(p, "machine", json_deep_copy(sysinfo));
    json_object_set_new(rec, "provenance", p);
}

int pk_record_append(const char *path, const json_t *rec, struct pk_err *err)
{
    char *line = json_dumps(rec, JSON_COMPACT | JSON_REAL_PRECISION(17));
    if (!line)
        return pk_fail(err, PK_ENOMEM, "cannot serialise the record");
    size_t len = strlen(line);
    line[len] = '\n'; /* json_dumps leaves room for its terminator; reuse it for the newline */
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    int status = PK_OK;
    if (fd < 0) {
        status = pk_fail(err, PK_EIO, "cannot open record file '%s': %s", path, strerror(errno));
    } else {
        ssize_t w = write(fd, line, len + 1);
        if (w != (ssize_t)(len + 1))
            status = pk_fail(err, PK_EIO, "cannot append to '%s': %s", path,
                             w < 0 ? strerror(errno) : "short write");
        if (close(fd) != 0 && status == PK_OK)
            status = pk_fail(err, PK_EIO, "cannot close '%s': %s", path, strerror(errno));
    }
    free(line);
    return status;
}

/* The length of the UTF-8 sequence at p (1..4), or 0 when it is not one: overlong forms,
 * surrogates and code points above U+10FFFF are not (RFC 3629). */
static size_t utf8_len(const unsigned char *p)
{
    unsigned c = p[0];
    if (c < 0x80)
        return 1;
    size_t n = c >= 0xc2 && c <= 0xdf   ? 2
               : c >= 0xe0 && c <= 0xef ? 3
               : c >= 0xf0 && c <= 0xf4 ? 4
                                        : 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f) || (c == 0xf0 && p[1] < 0x90) ||
        (c == 0xf4 && p[1] > 0x8f))
        return 0;
    return n;
}

json_t *pk_json_text(const char *text)
{
    if (!text)
        return json_null();
    const unsigned char *s = (const unsigned char *)text;
    size_t len = strlen(text), bad = 0;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_len(s + i);
        bad += n == 0;
        i += n ? n : 1;
    }
    if (bad == 0)
        return json_string(text);
    char *out = malloc(len + 3 * bad + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_len(s + i);
        if (n == 0) {
            o += (size_t)snprintf(out + o, 5, "\\x%02x", s[i]);
            i++;
            continue;
        }
        memcpy(out + o, s + i, n);
        o += n;
        i += n;
    }
    out[o] = 0;
    json_t *j = json_string(out);
    free(out);
    return j;
}

const json_t *pk_json_path(const json_t *o, const char *path)
{
    char key[256];
    while (o && *path) {
        size_t n = strcspn(path, ".");
        if (n >= sizeof key)
            return NULL;
        memcpy(key, path, n);
        key[n] = 0;
        o = json_object_get(o, key);
        path += n + (path[n] == '.');
    }
    return o;
}

json_t *pk_json_u64(uint64_t v)
{
    if (v <= (uint64_t)INT64_MAX)
        return json_integer((json_int_t)v);
    char digits[24];
    snprintf(digits, sizeof digits, "%llu", (unsigned long long)v);
    return json_string(digits);
}

void pk_version_print(FILE *f)
{
    char mpi[256];
    pk_dist_library_version(mpi, sizeof mpi);
    fprintf(f, "parkit %s (commit %s, %s build%s)\n", PK_VERSION, PK_GIT_SHA, PK_BUILD_TYPE,
            PK_NATIVE_BUILD ? ", -march=native" : "");
    fprintf(f, "compiler: %s\nflags:    %s\n", PK_COMPILER, PK_C_FLAGS);
    fprintf(f, "OpenMP:   %d\nMPI:      %s\nGSL:      %s\nGMP:      %s\njansson:  %s\n", _OPENMP,
            mpi, gsl_version, gmp_version, JANSSON_VERSION);
    fprintf(f,
            "parts:    MPI %s\n          curl %s\n          SLEEF %s\n          images %s\n"
            "          hwloc %s\n          FLINT %s\n",
            PK_FEATURE_WHY_MPI, PK_FEATURE_WHY_CURL, PK_FEATURE_WHY_SLEEF, PK_FEATURE_WHY_IMAGES,
            PK_FEATURE_WHY_HWLOC, PK_FEATURE_WHY_FLINT);
}
