/* SPDX-License-Identifier: MIT */
#include "cli.h"

#include "parkit/atomicfile.h"
#include "parkit/range.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

__extension__ typedef unsigned __int128 u128;

const char pk_exit_help[] = "Exit status:\n"
                            "  0  success, result verified\n"
                            "  1  runtime failure (I/O, memory, MPI)\n"
                            "  2  usage error (bad option or value)\n"
                            "  3  verification failed\n"
                            "  4  regression (report --fail-on-regression: a point slower by\n"
                            "     at least PCT percent with Mann-Whitney p < alpha)\n";

static int bad_count(struct pk_err *err, const char *option, const char *text, const char *why)
{
    return pk_fail(err, PK_EINVAL,
                   "%s expects a non-negative integer like 1000000, 1e6 or 2^20, "
                   "got '%s' (%s)",
                   option, text, why);
}

/* Reads a run of decimal digits into *v; returns the number of digits, -1 on overflow. */
static int read_digits(const char **p, u128 *v)
{
    int n = 0;
    *v = 0;
    while (isdigit((unsigned char)**p)) {
        if (*v > ((u128)UINT64_MAX * 1000)) /* far above any accepted value: stop growing */
            return -1;
        *v = *v * 10 + (u128)(**p - '0');
        (*p)++;
        n++;
    }
    return n;
}

int pk_parse_real(const char *option, const char *text, double min, double max, double *out,
                  struct pk_err *err)
{
    char *end = NULL;
    errno = 0;
    /* decimal only: strtod would also take inf, nan and hex */
    bool decimal = text && text[strspn(text, "0123456789+-.eE")] == '\0';
    double v = decimal ? strtod(text, &end) : 0;
    if (!decimal || end == text || *end || errno == ERANGE || !isfinite(v) ||
        !(v >= min && v <= max))
        return pk_fail(err, PK_EINVAL, "%s expects a number in [%g, %g], got '%s'", option, min,
                       max, text ? text : "");
    *out = v;
    return PK_OK;
}

/* What went wrong with a count's spelling: NULL for nothing, TOO_LARGE, or why it is no count. */
static const char TOO_LARGE[] = "too large";

/* *value ^ (the digits at p, up to the end) */
static const char *apply_power(const char *p, u128 *value)
{
    u128 exp, base = *value;
    if (read_digits(&p, &exp) <= 0 || *p)
        return "bad power";
    *value = 1;
    if (exp > 0 && base <= 1) {
        *value = base;
        return NULL;
    }
    for (u128 i = 0; i < exp; i++) {
        if (*value > UINT64_MAX / base)
            return TOO_LARGE;
        *value *= base;
    }
    return NULL;
}

/* The fraction's digits at *p, appended to *value; their count in *ndigits. */
static const char *read_fraction(const char **p, u128 *value, int *ndigits)
{
    const char *start = *p;
    for (; isdigit((unsigned char)**p); (*p)++) {
        if (*value > (u128)UINT64_MAX * 1000)
            return TOO_LARGE;
        *value = *value * 10 + (u128)(**p - '0');
    }
    *ndigits = (int)(*p - start);
    return NULL;
}

/* An exponent [+-]digits at *p into *exp10. */
static const char *read_exponent(const char **p, long *exp10)
{
    bool negative = **p == '-';
    if (**p == '-' || **p == '+')
        (*p)++;
    u128 e;
    if (read_digits(p, &e) <= 0)
        return "bad exponent";
    if (e > 400)
        return TOO_LARGE;
    *exp10 = negative ? -(long)e : (long)e;
    return NULL;
}

/* *value [.digits][e[+-]digits] (the rest at p): the whole number it spells, exactly. */
static const char *apply_decimal(const char *p, u128 *value)
{
    int frac_digits = 0;
    long exp10 = 0;
    const char *why = NULL;
    if (*p == '.') {
        p++;
        if ((why = read_fraction(&p, value, &frac_digits)))
            return why;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if ((why = read_exponent(&p, &exp10)))
            return why;
    }
    if (*p)
        return "trailing characters";
    for (exp10 -= frac_digits; exp10 < 0; exp10++) {
        if (*value % 10 != 0)
            return "not an integer";
        *value /= 10;
    }
    for (; exp10 > 0; exp10--) {
        if (*value > UINT64_MAX / 10 && *value != 0)
            return TOO_LARGE;
        *value *= 10;
    }
    return NULL;
}

int pk_parse_count(const char *option, const char *text, uint64_t min, uint64_t max, uint64_t *out,
                   struct pk_err *err)
{
    *out = 0;
    const char *p = text;
    if (!text || !*text)
        return bad_count(err, option, text ? text : "", "empty");
    if (!isdigit((unsigned char)*p))
        return bad_count(err, option, text,
                         *p == '-' || *p == '+' ? "no sign allowed" : "not a number");
    u128 value;
    const char *why = read_digits(&p, &value) < 0 ? TOO_LARGE
                      : *p == '^'                 ? apply_power(p + 1, &value)
                                                  : apply_decimal(p, &value);
    if (!why && (value > UINT64_MAX || value > max))
        why = TOO_LARGE;
    if (why == TOO_LARGE)
        return pk_fail(err, PK_EINVAL, "%s value '%s' is too large (at most %llu)", option, text,
                       (unsigned long long)max);
    if (why)
        return bad_count(err, option, text, why);
    if (value < min)
        return pk_fail(err, PK_EINVAL, "%s must be at least %llu, got '%s'", option,
                       (unsigned long long)min, text);
    *out = (uint64_t)value;
    return PK_OK;
}

void pk_common_defaults(struct pk_common_opts *o)
{
    *o = (struct pk_common_opts){.nthreads = omp_get_max_threads(),
                                 .reps = 5,
                                 .warmup = 1,
                                 .record = NULL,
                                 .format = PK_FORMAT_TABLE,
                                 .no_verify = false};
}

static void verror(const struct pk_comm *c, bool every_rank, const char *cmd, const char *fmt,
                   va_list ap)
{
    if (c && c->rank != 0 && !every_rank)
        return;
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (c && c->nranks > 1 && c->rank != 0)
        fprintf(stderr, "[rank %d] parkit %s: error: %s\n", c->rank, cmd, msg);
    else
        fprintf(stderr, "parkit %s: error: %s\n", cmd, msg);
}

void pk_error(const struct pk_comm *c, bool every_rank, const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verror(c, every_rank, cmd, fmt, ap);
    va_end(ap);
}

int pk_usage_error(const struct pk_comm *c, const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verror(c, false, cmd, fmt, ap);
    va_end(ap);
    return PK_EXIT_USAGE;
}

int pk_cli_single_process(const struct pk_comm *c, const char *cmd)
{
    if (c->nranks <= 1)
        return PK_EXIT_OK;
    return pk_usage_error(c, cmd, "runs on one process (threads only); start it without mpirun");
}

int pk_check_value(const char *where, double v, double lo, double hi, const char *what,
                   struct pk_err *err)
{
    if (isfinite(v) && v >= lo && v <= hi)
        return PK_OK;
    return pk_fail(err, PK_EINVAL,
                   "%s is %.9g: %s takes finite values in [%.6g, %.6g] for this input", where, v,
                   what, lo, hi);
}

int pk_check_values(const char *file, const double *x, size_t n, uint64_t first, double lo,
                    double hi, const char *what, struct pk_err *err)
{
    size_t start = pk_range_first_outside(x, n, lo, hi);
    for (size_t i = start; i < n; i++) {
        if (isfinite(x[i]) && x[i] >= lo && x[i] <= hi)
            continue;
        char where[512];
        snprintf(where, sizeof where, "'%s': value %llu (byte offset %llu)", file,
                 (unsigned long long)(first + i), (unsigned long long)(first + i) * 8);
        return pk_check_value(where, x[i], lo, hi, what, err);
    }
    return PK_OK;
}

int pk_cli_distinct(const struct pk_comm *c, const char *cmd, const char *out_opt, const char *out,
                    const char *in_opt, const char *in)
{
    if (!out || !in || !pk_atomicfile_same(out, in))
        return PK_EXIT_OK;
    return pk_usage_error(c, cmd, "%s '%s' would overwrite %s '%s'", out_opt, out, in_opt, in);
}
