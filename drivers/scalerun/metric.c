/* SPDX-License-Identifier: MIT */
/* scale run's figure of merit, read from the program's output as benchpark's figures of
 * merit are: a regex's first group, or a field of the last JSON object printed. */
#include "record.h"
#include "run.h"

#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* text[0..len) as a finite number with nothing else but blanks around it. */
static bool number_of(const char *text, size_t len, double *v)
{
    char buf[64];
    while (len && (*text == ' ' || *text == '\t')) {
        text++;
        len--;
    }
    if (len == 0 || len >= sizeof buf)
        return false;
    memcpy(buf, text, len);
    buf[len] = 0;
    char *end;
    *v = strtod(buf, &end);
    while (*end == ' ' || *end == '\t')
        end++;
    return end != buf && *end == 0 && isfinite(*v);
}

int pk__run_metric_check(const char *re, struct pk_err *err)
{
    regex_t rx;
    int rc = regcomp(&rx, re, REG_EXTENDED | REG_NEWLINE);
    if (rc != 0) {
        char msg[128];
        regerror(rc, &rx, msg, sizeof msg);
        return pk_fail(err, PK_EINVAL, "--metric: '%s' is not a regular expression (%s)", re, msg);
    }
    size_t groups = rx.re_nsub;
    regfree(&rx);
    if (groups == 0)
        return pk_fail(err, PK_EINVAL,
                       "--metric: '%s' has no group: put the number in parentheses, e.g. "
                       "'rate: ([0-9.]+)'",
                       re);
    return PK_OK;
}

static bool by_regex(const char *re, const char *out, double *v, char *why, size_t whylen)
{
    regex_t rx;
    if (regcomp(&rx, re, REG_EXTENDED | REG_NEWLINE) != 0) {
        snprintf(why, whylen, "--metric '%s' does not compile", re);
        return false;
    }
    regmatch_t m[2];
    const char *p = out, *last = NULL;
    size_t last_len = 0;
    while (*p && regexec(&rx, p, 2, m, p == out ? 0 : REG_NOTBOL) == 0) {
        if (m[1].rm_so >= 0) {
            last = p + m[1].rm_so;
            last_len = (size_t)(m[1].rm_eo - m[1].rm_so);
        }
        p += m[0].rm_eo > 0 ? m[0].rm_eo : 1;
    }
    regfree(&rx);
    if (!last) {
        snprintf(why, whylen, "no line of its output matches --metric '%s'", re);
        return false;
    }
    if (!number_of(last, last_len, v)) {
        snprintf(why, whylen, "--metric '%s' matched '%.*s', not a number", re,
                 (int)(last_len > 40 ? 40 : last_len), last);
        return false;
    }
    return true;
}

/* The last JSON object that starts a line of out (objects inside it are skipped). */
static json_t *last_object(const char *out, size_t len)
{
    json_t *last = NULL;
    size_t i = 0;
    while (i < len) {
        size_t k = i;
        while (k < len && (out[k] == ' ' || out[k] == '\t'))
            k++;
        json_error_t e;
        json_t *j = k < len && out[k] == '{'
                        ? json_loadb(out + k, len - k, JSON_DISABLE_EOF_CHECK, &e)
                        : NULL;
        if (json_is_object(j)) {
            json_decref(last);
            last = j;
            i = k + (size_t)e.position;
        } else {
            json_decref(j);
        }
        const char *nl = memchr(out + i, '\n', len - i);
        i = nl ? (size_t)(nl - out) + 1 : len;
    }
    return last;
}

bool pk__run_metric(const struct pk_run_opts *o, const char *out, size_t len, double *v, char *why,
                    size_t whylen)
{
    if (o->metric_re)
        return by_regex(o->metric_re, out ? out : "", v, why, whylen);
    json_t *j = last_object(out ? out : "", out ? len : 0);
    const json_t *f = pk_json_path(j, o->metric_json);
    bool ok = json_is_number(f) && isfinite(json_number_value(f));
    if (ok)
        *v = json_number_value(f);
    else if (!j)
        snprintf(why, whylen, "its output holds no JSON object (--metric-json %s)", o->metric_json);
    else
        snprintf(why, whylen, "its last JSON object has no number at '%s'", o->metric_json);
    json_decref(j);
    return ok;
}
