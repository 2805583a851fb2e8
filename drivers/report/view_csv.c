/* SPDX-License-Identifier: MIT */
/* parkit report, CSV view: one header row, then one row per measured point ("measured"), per
 * predicted count ("model") and per baseline comparison ("compare"), all with the same columns
 * (empty where a kind has no value). Every text field goes through csv_field, which quotes per
 * RFC 4180, so that one function is all a shared CSV writer has to replace. */
#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char csv_header[] =
    "kind,group,kernel,mode,size,host,git_commit,compiler,c_flags,mpi,workers,threads,ranks,"
    "oversubscribed,point_size,reps,median_s,min_s,max_s,ci_lo_s,ci_hi_s,ci_coverage,base_workers,"
    "speedup,"
    "efficiency,karp_flatt,fit_model,serial_fraction,serial_fraction_err,baseline_median_s,"
    "change_pct,p_value,verdict,provenance_diff\n";

/* One text field, quoted per RFC 4180 when it holds a comma, quote, CR or LF. */
static void csv_field(const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, stdout);
        return;
    }
    putchar('"');
    for (; *s; s++) {
        if (*s == '"')
            putchar('"');
        putchar(*s);
    }
    putchar('"');
}

/* A comma and a number, or only the comma when it is undefined. */
static void csv_num(double v)
{
    if (isfinite(v))
        printf(",%.9g", v);
    else
        printf(",");
}

/* The columns group..mpi, which say which group a row belongs to. */
static void csv_group_cols(const struct report_group *g)
{
    printf("%d,", g->id);
    csv_field(g->kernel);
    printf(",%s%s,", g->weak ? "weak" : "strong", g->serial ? "-serial" : "");
    csv_field(g->size);
    const char *prov[] = {g->host, g->commit, g->compiler, g->flags, g->mpi};
    for (size_t i = 0; i < 5; i++) {
        putchar(',');
        csv_field(prov[i]);
    }
}

/* The columns workers..reps of a measured point; its size may be a list (factsum's 1,2,3). */
static void csv_point_cols(const struct report_point *p)
{
    printf(",%d,%d,%d,%s,", p->workers, p->threads, p->ranks, p->oversub ? "yes" : "no");
    csv_field(p->size);
    printf(",%zu", p->n);
}

static void csv_measured(const struct report_group *g, const struct report_point *p)
{
    printf("measured,");
    csv_group_cols(g);
    csv_point_cols(p);
    csv_num(p->median);
    csv_num(p->min);
    csv_num(p->max);
    csv_num(p->ci_lo);
    csv_num(p->ci_hi);
    csv_num(p->ci_cov);
    printf(",%d", g->pt[g->base].workers);
    csv_num(p->speedup);
    csv_num(p->eff);
    csv_num(p->kf);
    printf(",%s", g->fit_ok ? pk__report_model_name(g) : "");
    csv_num(g->fit_ok ? g->fit.f : NAN);
    csv_num(g->fit_ok ? g->fit.f_err : NAN);
    printf(",,,,,\n");
}

static void csv_model(const struct report_group *g, const struct report_prediction *pr)
{
    printf("model,");
    csv_group_cols(g);
    printf(",%.0f,,,,,,,,,,,,%d", pr->workers, g->pt[g->base].workers);
    csv_num(pr->speedup);
    csv_num(pr->efficiency);
    printf(",,%s", pk__report_model_name(g));
    csv_num(g->fit.f);
    csv_num(g->fit.f_err);
    printf(",,,,,\n");
}

/* The provenance that differs, one fact after another separated by ';'. */
static void csv_prov_diff(const struct report_cmp *x)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return;
    pk__report_prov_diff(f, "", x->b->prov, x->g->prov);
    fclose(f);
    for (char *q = buf; q && *q; q++)
        if (*q == '\n')
            *q = q[1] ? ';' : 0;
    csv_field(buf ? buf : "");
    free(buf);
}

static void csv_compare(const struct report_cmp *x)
{
    printf("compare,");
    csv_group_cols(x->g);
    csv_point_cols(x->p);
    csv_num(x->p->median);
    printf(",,,,,,,,,,,,");
    csv_num(x->bp->median);
    csv_num(x->change_pct);
    csv_num(x->p_value);
    printf(",%s,", x->verdict);
    if (strcmp(x->verdict, "slower") == 0)
        csv_prov_diff(x);
    printf("\n");
}

void pk__report_print_csv(const struct report_set *now, const struct report_cmp *c, size_t nc,
                          const struct report_opts *o)
{
    fputs(csv_header, stdout);
    for (size_t gi = 0; gi < now->n; gi++) {
        const struct report_group *g = &now->g[gi];
        for (size_t k = 0; k < g->npt; k++)
            csv_measured(g, &g->pt[k]);
        struct report_prediction pr[PK_REPORT_MAX_PREDICT];
        size_t np = pk__report_predict(g, o, pr);
        for (size_t i = 0; i < np; i++)
            csv_model(g, &pr[i]);
    }
    for (size_t i = 0; i < nc; i++)
        csv_compare(&c[i]);
}
