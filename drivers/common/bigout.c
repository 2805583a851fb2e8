/* SPDX-License-Identifier: MIT */
#include "bigout.h"

#include "parkit/atomicfile.h"
#include "parkit/factsum.h"
#include "record.h"
#include "timing.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The checksums, which every path computes from x itself. */
static void summarize_mods(const mpz_t x, struct pk_bigsummary *s)
{
    s->mod_2_64 = mpz_size(x) ? (uint64_t)mpz_getlimbn(x, 0) : 0;
    s->mod_1e9_7 = mpz_fdiv_ui(x, PK_MOD_1E9_7);
}

/* From the whole decimal string (the --digits file needs it): converted on nthreads threads,
 * *text receives it; checked (unless !check) against x mod 4 primes. The canary changes its last
 * digit before the check, so that the check is seen to fail. */
static int summarize_text(const mpz_t x, int nthreads, bool check, bool canary,
                          struct pk_bigsummary *s, char **text, bool *ok)
{
    size_t len;
    int rc = pk_mpz_to_decimal(x, nthreads, text, &len);
    if (rc != PK_OK)
        return rc;
    s->digits = len;
    size_t edge = len < PK_EDGE_DIGITS ? len : PK_EDGE_DIGITS;
    memcpy(s->first, *text, edge);
    memcpy(s->last, *text + len - edge, edge);
    summarize_mods(x, s);
    if (canary)
        (*text)[len - 1] = (*text)[len - 1] == '1' ? '2' : '1';
    *ok = !check || pk_decimal_matches(*text, len, x, nthreads);
    return PK_OK;
}

/* From the first and last digits alone: no decimal string of the whole value (for !1e7 that
 * conversion took 9.3 of the run's 15.9 s, to print 40 digits). The printed digits are checked
 * against x by exact inequalities; the canary changes the last printed digit first. */
static int summarize_edges(const mpz_t x, bool check, bool canary, struct pk_bigsummary *s,
                           bool *ok)
{
    struct pk_decimal_edges e;
    int rc = pk_decimal_edges(x, PK_EDGE_DIGITS, &e);
    if (rc != PK_OK)
        return rc;
    size_t n = strlen(e.last);
    if (canary)
        e.last[n - 1] = e.last[n - 1] == '1' ? '2' : '1';
    *ok = !check || pk_decimal_edges_match(x, &e);
    s->digits = e.digits;
    memcpy(s->first, e.first, sizeof s->first);
    memcpy(s->last, e.last, sizeof s->last);
    summarize_mods(x, s);
    pk_decimal_edges_clear(&e);
    return PK_OK;
}

json_t *pk_big_summary_json(const struct pk_bigsummary *s)
{
    char m64[24];
    snprintf(m64, sizeof m64, "%llu", (unsigned long long)s->mod_2_64);
    return json_pack("{s:I, s:s, s:s, s:s, s:I}", "digits", (json_int_t)s->digits, "first",
                     s->first, "last", s->last, "mod_2_64", m64, "mod_1e9_7",
                     (json_int_t)s->mod_1e9_7);
}

/* ---- the record ------------------------------------------------------------------------- */

/* Every value's summary, and its whole decimal text when it is to be written. Unless
 * verification is off, the digits printed (and written) are checked against the value: *bad
 * counts the values whose digits differ. The canary corrupts the first value's last digit. */
static int summarize_all(const struct pk_big_run *r, struct pk_bigsummary *sum, char **text,
                         size_t *bad)
{
    int rc = PK_OK;
    bool check = !r->common->no_verify;
    *bad = 0;
    for (size_t i = 0; i < r->count && rc == PK_OK; i++) {
        bool ok = true, canary = r->canary && i == 0 && check;
        rc = r->digits_path ? summarize_text(r->value[i], r->common->nthreads, check, canary,
                                             &sum[i], &text[i], &ok)
                            : summarize_edges(r->value[i], check, canary, &sum[i], &ok);
        *bad += !ok;
    }
    return rc;
}

/* The decimal check in the record's verification block; a mismatch fails the run. */
static void note_decimal_check(struct pk_big_run *r, size_t bad)
{
    if (r->common->no_verify || !r->verification)
        return;
    json_object_set_new(
        r->verification, "decimal",
        json_string(r->digits_path ? "every decimal text against its value mod 4 primes near "
                                     "2^62 (Horner over 18-digit words)"
                                   : "the digits printed against each value: first * 10^k <= "
                                     "value < (first + 1) * 10^k, 5^k checked mod 4 primes near "
                                     "2^62; last = value mod 10^20 by CRT of value mod 2^20 "
                                     "and mod 5^20"));
    json_object_set_new(r->verification, "decimal_mismatches", json_integer((json_int_t)bad));
    if (bad)
        r->verified = false;
}

static json_t *build_record(const struct pk_big_run *r, const struct pk_bigsummary *sum,
                            double decimal_s)
{
    const struct pk_common_opts *o = r->common;
    json_t *rec = pk_record_new(r->command);
    json_t *results = json_array(), *ns = json_array();
    for (size_t i = 0; i < r->count; i++) {
        json_t *one = pk_big_summary_json(&sum[i]);
        json_object_set_new(one, "n", json_integer((json_int_t)r->n[i]));
        json_array_append_new(results, one);
        json_array_append_new(ns, json_integer((json_int_t)r->n[i]));
    }
    json_object_set_new(rec, "params",
                        json_pack("{s:o, s:i, s:i, s:i, s:i, s:b, s:b, s:s}", "n", ns, "threads",
                                  o->nthreads, "ranks", r->nranks, "reps", o->reps, "warmup",
                                  o->warmup, "verify", !o->no_verify, "canary", r->canary, "method",
                                  r->method));
    json_object_set_new(rec, "result", results);
    json_object_set_new(rec, "verified", o->no_verify ? json_null() : json_boolean(r->verified));
    json_object_set(rec, "verification", r->verification);
    json_object_set_new(rec, "decimal_s", json_real(decimal_s));
    if (r->extra)
        json_object_update(rec, r->extra);
    pk_record_set_reps(rec, r->reps);
    pk_record_set_provenance(rec, r->sysinfo);
    return rec;
}

int pk_big_record(const struct pk_comm *c, struct pk_big_run *r, json_t **rec)
{
    *rec = NULL;
    struct pk_err err = {0};
    double t0 = pk_now_s();
    struct pk_bigsummary *sum = calloc(r->count, sizeof *sum);
    char **text = calloc(r->count, sizeof *text);
    size_t bad = 0;
    int rc = sum && text ? summarize_all(r, sum, text, &bad) : PK_ENOMEM;
    double decimal_s = pk_now_s() - t0;
    if (rc == PK_OK)
        note_decimal_check(r, bad);
    /* A value that failed verification is never written out as if it were the answer. */
    bool write_digits = r->digits_path && (r->verified || r->common->no_verify);
    if (rc == PK_OK && write_digits &&
        pk_atomicfile_write_lines(r->digits_path, text, r->count, &err) != PK_OK)
        rc = err.status;
    if (rc == PK_OK)
        *rec = build_record(r, sum, decimal_s);
    else
        pk_error(c, false, r->command, "%s", err.msg[0] ? err.msg : pk_strerror(rc));
    for (size_t i = 0; text && i < r->count; i++)
        free(text[i]);
    free(text);
    free(sum);
    json_decref(r->verification);
    json_decref(r->extra);
    r->verification = r->extra = NULL;
    if (rc == PK_OK && bad)
        return PK_EXIT_VERIFY;
    return rc == PK_OK ? PK_EXIT_OK : rc == PK_EINVAL ? PK_EXIT_USAGE : PK_EXIT_RUNTIME;
}

/* ---- the views ------------------------------------------------------------------------- */

static long long param_int(const json_t *rec, const char *key)
{
    return (long long)json_integer_value(json_object_get(json_object_get(rec, "params"), key));
}

static double timing_s(const json_t *rec, const char *key)
{
    return json_real_value(json_object_get(json_object_get(rec, "timing"), key));
}

static const char *verified_text(const json_t *rec)
{
    const json_t *v = json_object_get(rec, "verified");
    return json_is_null(v) ? "skipped (--no-verify)" : json_is_true(v) ? "yes" : "NO";
}

static void print_table(const json_t *rec, const void *ctx)
{
    (void)ctx;
    const json_t *res = json_object_get(rec, "result");
    size_t count = json_array_size(res);
    printf("# parkit %s: %zu %s, threads=%lld ranks=%lld reps=%lld\n",
           json_string_value(json_object_get(rec, "command")), count,
           pk_plural(count, "value", "values"), param_int(rec, "threads"), param_int(rec, "ranks"),
           param_int(rec, "reps"));
    printf("%12s %10s  %-20s  %-20s  %20s  %10s\n", "N", "digits", "first 20", "last 20",
           "mod 2^64", "mod 1e9+7");
    size_t i;
    const json_t *one;
    json_array_foreach(res, i, one)
    {
        printf("%12lld %10lld  %-20s  %-20s  %20s  %10lld\n",
               (long long)json_integer_value(json_object_get(one, "n")),
               (long long)json_integer_value(json_object_get(one, "digits")),
               json_string_value(json_object_get(one, "first")),
               json_string_value(json_object_get(one, "last")),
               json_string_value(json_object_get(one, "mod_2_64")),
               (long long)json_integer_value(json_object_get(one, "mod_1e9_7")));
    }
    const char *method =
        json_string_value(json_object_get(json_object_get(rec, "verification"), "method"));
    printf("verified  %s%s%s%s\n", verified_text(rec), method ? " (" : "", method ? method : "",
           method ? ")" : "");
    printf("time_s    median %.6f  min %.6f  max %.6f  (%lld reps, max over ranks); decimal %.6f\n",
           timing_s(rec, "median_s"), timing_s(rec, "min_s"), timing_s(rec, "max_s"),
           param_int(rec, "reps"), json_real_value(json_object_get(rec, "decimal_s")));
    const json_t *mem = json_object_get(rec, "memory");
    if (mem)
        printf("memory    GMP peak %.3g MB on rank 0 (estimate %.3g MB)\n",
               (double)json_integer_value(json_object_get(mem, "gmp_peak_bytes")) * 1e-6,
               (double)json_integer_value(json_object_get(mem, "estimate_bytes")) * 1e-6);
}

static void print_csv(const json_t *rec, struct pk_csvw *w, const void *ctx)
{
    (void)ctx;
    static const char *const header[] = {"driver",    "n",         "digits",   "first20", "last20",
                                         "mod_2_64",  "mod_1e9_7", "nthreads", "nranks",  "time_s",
                                         "decimal_s", "verified",  NULL};
    const json_t *v = json_object_get(rec, "verified");
    const char *verified = json_is_null(v) ? "skipped" : json_is_true(v) ? "yes" : "no";
    pk_csvw_row(w, header);
    size_t i;
    const json_t *one;
    json_array_foreach(json_object_get(rec, "result"), i, one)
    {
        pk_csvw_field(w, json_string_value(json_object_get(rec, "command")));
        pk_csvw_fieldf(w, "%lld", (long long)json_integer_value(json_object_get(one, "n")));
        pk_csvw_fieldf(w, "%lld", (long long)json_integer_value(json_object_get(one, "digits")));
        pk_csvw_field(w, json_string_value(json_object_get(one, "first")));
        pk_csvw_field(w, json_string_value(json_object_get(one, "last")));
        pk_csvw_field(w, json_string_value(json_object_get(one, "mod_2_64")));
        pk_csvw_fieldf(w, "%lld", (long long)json_integer_value(json_object_get(one, "mod_1e9_7")));
        pk_csvw_fieldf(w, "%lld", param_int(rec, "threads"));
        pk_csvw_fieldf(w, "%lld", param_int(rec, "ranks"));
        pk_csvw_fieldf(w, "%.9f", timing_s(rec, "median_s"));
        pk_csvw_fieldf(w, "%.9f", json_real_value(json_object_get(rec, "decimal_s")));
        pk_csvw_field(w, verified);
        pk_csvw_end(w);
    }
}

const struct pk_view pk_big_view = {print_table, print_csv};

/* ---- GMP out of memory ---------------------------------------------------------------------- */

/* File-static because GMP's allocation hooks take no context pointer. */
static const struct pk_comm *oom_comm;
static const char *oom_cmd;
static uint64_t oom_limit;

/* Called by GMP from any thread; must not return. */
static void gmp_out_of_memory(size_t requested)
{
    char msg[256], who[32] = "", cap[64] = "";
    if (oom_comm && oom_comm->nranks > 1)
        snprintf(who, sizeof who, "[rank %d] ", oom_comm->rank);
    if (oom_limit)
        snprintf(cap, sizeof cap, ", past --max-memory %llu", (unsigned long long)oom_limit);
    int len = snprintf(msg, sizeof msg,
                       "%sparkit %s: error: out of memory in GMP (%zu more bytes requested%s)\n",
                       who, oom_cmd, requested, cap);
    if (len > 0)
        (void)!write(2, msg, (size_t)len < sizeof msg ? (size_t)len : sizeof msg - 1);
    pk_dist_abort(oom_comm, PK_EXIT_RUNTIME);
    _exit(PK_EXIT_RUNTIME);
}

void pk_gmp_guard_for(const struct pk_comm *c, const char *cmd, uint64_t limit_bytes)
{
    oom_comm = c;
    oom_cmd = cmd;
    oom_limit = limit_bytes;
    pk_gmp_guard_install(limit_bytes, gmp_out_of_memory);
}
