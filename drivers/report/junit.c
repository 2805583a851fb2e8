/* SPDX-License-Identifier: MIT */
/* parkit report, JUnit XML (--junit): one <testsuite>, one <testcase> per point of the records.
 * A point compared with the baseline fails when it regressed (gate.c; without
 * --fail-on-regression, any significant slowdown), its message naming the change, p and the
 * provenance that differs; a point the baseline lacks is skipped. The file is written atomically:
 * a CI job never reads half of it. */
#include "commands.h"
#include "parkit/atomicfile.h"
#include "report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Whether another group of s measures the same experiment as g (names then carry the group). */
static bool shared_experiment(const struct report_set *s, const struct report_group *g)
{
    for (size_t i = 0; i < s->n; i++)
        if (&s->g[i] != g && pk__report_same_experiment(&s->g[i], g))
            return true;
    return false;
}

static size_t count_matches(const struct report_cmp *c, size_t nc, const struct report_point *p)
{
    size_t n = 0;
    for (size_t i = 0; i < nc; i++)
        n += c[i].p == p;
    return n;
}

static void attr(FILE *f, const char *name, const char *value)
{
    fprintf(f, " %s=\"", name);
    pk__report_xml_text(f, value);
    fputc('"', f);
}

/* One test case: a comparison x of point p (NULL: the baseline has no such point). */
static int write_case(FILE *f, const struct report_set *s, const struct report_group *g,
                      const struct report_point *p, const struct report_cmp *x, bool many,
                      const struct report_opts *o)
{
    char name[512], cls[160];
    size_t len = 0;
    pk__report_point_name(g, p, name, sizeof name);
    len = strlen(name);
    if (shared_experiment(s, g))
        len += (size_t)snprintf(name + len, sizeof name - len, " (group %d)", g->id);
    if (x && many && len < sizeof name)
        snprintf(name + len, sizeof name - len, " vs baseline group B%d", x->b->id);
    snprintf(cls, sizeof cls, "parkit.report.%s", g->kernel);
    fprintf(f, "  <testcase");
    attr(f, "classname", cls);
    attr(f, "name", name);
    fprintf(f, " time=\"%.6f\">\n", p->median);
    if (!x) {
        fprintf(f, "    <skipped message=\"no such point in the baseline\"/>\n  </testcase>\n");
        return PK_OK;
    }
    char *msg = pk__report_cmp_message(x, o);
    if (!msg)
        return PK_ENOMEM;
    fprintf(f, x->regressed ? "    <failure type=\"regression\"" : "    <system-out>");
    if (x->regressed) {
        attr(f, "message", msg);
        fprintf(f, ">");
    }
    pk__report_xml_text(f, msg);
    fprintf(f, x->regressed ? "</failure>\n  </testcase>\n" : "</system-out>\n  </testcase>\n");
    free(msg);
    return PK_OK;
}

/* The whole document into f. Returns a pk_status. */
static int write_doc(FILE *f, const struct report_set *now, const struct report_cmp *c, size_t nc,
                     const struct report_opts *o)
{
    size_t tests = 0, failures = 0, skipped = 0;
    for (size_t gi = 0; gi < now->n; gi++)
        for (size_t k = 0; k < now->g[gi].npt; k++) {
            size_t m = count_matches(c, nc, &now->g[gi].pt[k]);
            tests += m ? m : 1;
            skipped += m == 0;
        }
    for (size_t i = 0; i < nc; i++)
        failures += c[i].regressed;
    fprintf(f,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"parkit report\" "
            "tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\">\n",
            tests, failures, skipped);
    fprintf(f, "  <properties>\n    <property name=\"alpha\" value=\"%g\"/>\n", o->alpha);
    fprintf(f, "    <property name=\"fail_on_regression_pct\" value=\"%g\"/>\n", o->fail_pct);
    for (size_t i = 0; i < o->nbaseline; i++) {
        fprintf(f, "    <property name=\"baseline\"");
        attr(f, "value", o->baseline[i]);
        fprintf(f, "/>\n");
    }
    fprintf(f, "  </properties>\n");
    for (size_t gi = 0; gi < now->n; gi++)
        for (size_t k = 0; k < now->g[gi].npt; k++) {
            const struct report_point *p = &now->g[gi].pt[k];
            size_t m = count_matches(c, nc, p);
            int rc = m ? PK_OK : write_case(f, now, &now->g[gi], p, NULL, false, o);
            for (size_t i = 0; i < nc && rc == PK_OK; i++)
                if (c[i].p == p)
                    rc = write_case(f, now, &now->g[gi], p, &c[i], m > 1, o);
            if (rc != PK_OK)
                return rc;
        }
    fprintf(f, "</testsuite>\n");
    return PK_OK;
}

int pk__report_write_junit(const struct report_set *now, const struct report_cmp *c, size_t nc,
                           const struct report_opts *o)
{
    struct pk_atomicfile a;
    struct pk_err err = {0};
    if (pk_atomicfile_open(&a, o->junit, &err) != PK_OK) {
        pk_error(NULL, false, "report", "--junit: %s", err.msg);
        return PK_EXIT_RUNTIME;
    }
    int rc = write_doc(a.f, now, c, nc, o);
    if (rc != PK_OK || ferror(a.f)) {
        pk_error(NULL, false, "report", "--junit: cannot write '%s': %s", o->junit,
                 rc == PK_ENOMEM ? "out of memory" : strerror(errno));
        pk_atomicfile_abort(&a);
        return PK_EXIT_RUNTIME;
    }
    if (pk_atomicfile_commit(&a, &err) != PK_OK) {
        pk_error(NULL, false, "report", "--junit: %s", err.msg);
        return PK_EXIT_RUNTIME;
    }
    return PK_EXIT_OK;
}
