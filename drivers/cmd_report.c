/* SPDX-License-Identifier: MIT */
/* parkit report: reads result records (JSON Lines from --record or `parkit scale`), groups them by
 * kernel, mode, size and provenance, and reports per point the median time with min, max and a
 * distribution-free 95% interval of the median, speedup, efficiency and the Karp-Flatt serial
 * fraction; an Amdahl (strong) or Gustafson (weak) least-squares fit with the serial fraction's
 * error; and speedups the fit predicts at larger counts, marked as a model. Output as a table,
 * CSV, Markdown or JSON, plus gnuplot plots. --baseline compares against another set of records
 * point by point with the Mann-Whitney rank test and names what differs in provenance (every
 * key); --fail-on-regression turns that into a verdict a CI job acts on (exit
 * 4), --junit writes it as JUnit XML and --html writes the whole report as one page.
 *
 * This file is the command: parse -> load -> analyse -> emit. The phases live in report/ (see
 * report/report.h). */
#include "commands.h"
#include "emit.h"
#include "opt.h"
#include "report/report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char description[] =
    "Reads records (JSON Lines written by --record or `parkit scale`) and groups them by kernel,\n"
    "mode (strong or weak) and size, and by provenance: records from different hosts, commits,\n"
    "compilers, flags or MPI libraries are never mixed, each group is labelled with its own.\n"
    "Records without a \"scale\" block count as strong-scaling points with workers = threads x\n"
    "ranks.\n"
    "\n"
    "Per point: the median, min and max time over every repetition, a 95% confidence interval of\n"
    "the median (order statistics; with fewer than 6 repetitions it is [min, max] and covers\n"
    "less, marked *), speedup and parallel efficiency against the 1-worker point (or the\n"
    "smallest count, said so), and the Karp-Flatt serial fraction. Per group: an Amdahl fit\n"
    "T(p) = a + b/p (strong) or a Gustafson fit S(p) = f + (1-f) p (weak) by least squares over\n"
    "every repetition, with the serial fraction f and its standard error, and the speedup the\n"
    "fit predicts at larger counts: a model, not a measurement.\n"
    "\n"
    "A bad record (invalid or truncated JSON, wrong types, unknown kernel, failed verification)\n"
    "is reported as FILE:LINE and skipped; the report of the good ones still appears and the\n"
    "exit status is 1. A missing or empty file is a usage error (2). Without gnuplot, --plots\n"
    "exits 1 after the tables.\n"
    "\n"
    "With --baseline, provenance is compared key by key, whatever keys the records carry (nested\n"
    "keys dotted: machine.host), and every key that differs is named, baseline -> now.\n"
    "--fail-on-regression PCT is the gate of a CI job: the exit status is 4 when a point is\n"
    "slower than the baseline by at least PCT percent (of the median) and the Mann-Whitney test\n"
    "gives p < alpha; faster points and changes it cannot tell from noise pass (exit 0). Each\n"
    "regression is named on stderr. A bad record or a failed write (exit 1) takes precedence.\n"
    "--junit writes one test case per point (failed: a regression; skipped: no baseline point;\n"
    "without --fail-on-regression any significant slowdown fails its case, the exit status\n"
    "staying 0). --html writes one self-contained page (inline SVG, no script, nothing fetched)\n"
    "with the tables, plots, fit, verdicts and provenance, readable on a phone.\n";

/* --format: report's own choices (it adds markdown to the shared table, csv, json). "md" is an
 * older spelling of markdown, kept. */
static const char *const format_names[] = {"table", "csv", "markdown", "json", "md", NULL};
static const enum fmt format_of[] = {FMT_TABLE, FMT_CSV, FMT_MARKDOWN, FMT_JSON, FMT_MARKDOWN};

/* --baseline is repeatable while a PATH option holds one value: the parser stores each value in
 * `last` (the first member, so the destination may point at the whole struct) and the check
 * appends it to the options' list (sized for every word of argv). */
struct baselines {
    const char *last;
    struct report_opts *o;
};

static int add_baseline(const struct pk_opt *opt, const char *text, struct pk_err *err)
{
    (void)err;
    struct baselines *b = opt->dest;
    b->o->baseline[b->o->nbaseline++] = text;
    return PK_OK;
}

static int check_pct(const struct pk_opt *opt, const char *text, struct pk_err *err)
{
    if (*(const double *)opt->dest > 0)
        return PK_OK;
    return pk_fail(err, PK_EINVAL, "--%s expects a percentage above 0 like 10, got '%s'",
                   opt->name, text);
}

static int check_alpha(const struct pk_opt *opt, const char *text, struct pk_err *err)
{
    double a = *(const double *)opt->dest;
    if (a > 0 && a < 1)
        return PK_OK;
    return pk_fail(err, PK_EINVAL,
                   "--%s expects a significance level between 0 and 1 (both excluded) like "
                   "0.05, got '%s'",
                   opt->name, text);
}

static int check_predict(const struct pk_opt *opt, const char *text, struct pk_err *err)
{
    const struct pk_count_list *l = opt->dest;
    if (l->n <= PK_REPORT_MAX_PREDICT)
        return PK_OK;
    return pk_fail(err, PK_EINVAL,
                   "--predict expects up to %d worker counts like 8,16,32, got '%s'",
                   PK_REPORT_MAX_PREDICT, text);
}

/* Options that need --baseline, and output files that would replace an input. Returns an exit
 * status, the usage error printed. */
static int check_combination(const struct pk_comm *c, const struct report_opts *o, bool alpha)
{
    char pct[32];
    snprintf(pct, sizeof pct, "%g", o->fail_pct);
    const char *needy[][2] = {{"--fail-on-regression", o->gate ? pct : NULL},
                              {"--junit", o->junit},
                              {"--alpha", alpha ? "given" : NULL}};
    for (size_t i = 0; i < 3 && !o->nbaseline; i++)
        if (needy[i][1]) {
            if (i == 2)
                pk_error(c, false, "report", "--alpha %g needs --baseline FILE (the records to "
                         "compare with)", o->alpha);
            else
                pk_error(c, false, "report", "%s %s needs --baseline FILE (the records to "
                         "compare with)", needy[i][0], needy[i][1]);
            return PK_EXIT_USAGE;
        }
    int status = pk_cli_distinct(c, "report", "--junit", o->junit, "--html", o->html);
    for (size_t i = 0; i < o->nfiles && status == PK_EXIT_OK; i++) {
        status = pk_cli_distinct(c, "report", "--junit", o->junit, "FILE", o->files[i]);
        if (status == PK_EXIT_OK)
            status = pk_cli_distinct(c, "report", "--html", o->html, "FILE", o->files[i]);
    }
    for (size_t i = 0; i < o->nbaseline && status == PK_EXIT_OK; i++) {
        status = pk_cli_distinct(c, "report", "--junit", o->junit, "--baseline", o->baseline[i]);
        if (status == PK_EXIT_OK)
            status = pk_cli_distinct(c, "report", "--html", o->html, "--baseline", o->baseline[i]);
    }
    return status;
}

/* Fills o (its baseline array allocated by the caller); on PK_EXIT_OK *args holds the files. */
static int parse(int argc, char **argv, const struct pk_comm *c, struct report_opts *o,
                 struct pk_args *args)
{
    struct baselines bl = {.o = o};
    struct pk_count_list predict = {0};
    int format = 0, gate = 0, alpha = 0;
    const struct pk_opt table[] = {
        {"baseline", 0, PK_OPT_PATH, &bl, "FILE",
         "compare with these records (repeatable): per point present in both,\n"
         "the change of the median, the Mann-Whitney p-value, and a verdict at\n"
         "alpha (0.05); every provenance key that differs, baseline -> now",
         .check = add_baseline},
        {"fail-on-regression", 0, PK_OPT_REAL, &o->fail_pct, "PCT",
         "with --baseline: exit 4 when a point is slower by at least PCT percent\n"
         "with Mann-Whitney p < alpha (faster and insignificant changes pass)",
         .rmin = 0, .rmax = 1e6, .check = check_pct, .tag = &gate, .tag_value = 1},
        {"alpha", 0, PK_OPT_REAL, &o->alpha, "A",
         "with --baseline: the significance level of the comparison and of\n"
         "--fail-on-regression, in (0, 1) (default 0.05)",
         .rmin = 0, .rmax = 1, .check = check_alpha, .tag = &alpha, .tag_value = 1},
        {"junit", 0, PK_OPT_PATH, &o->junit, "FILE",
         "with --baseline: JUnit XML, one test case per point, a regression failing\n"
         "its case with the change, p and the provenance that differs",
         .check = pk_opt_output_file},
        {"html", 0, PK_OPT_PATH, &o->html, "FILE",
         "the report as one self-contained HTML page: tables, SVG plots, the fit\n"
         "and its predictions, verdicts and provenance (no script)",
         .check = pk_opt_output_file},
        {"format", 0, PK_OPT_ENUM, &format, "F",
         "table (default), csv (a header row, then one row per point, model\n"
         "prediction and comparison), markdown (or md) or json",
         .choices = format_names},
        {"plots", 0, PK_OPT_PATH, &o->plots, "DIR",
         "per group: time, speedup (with the ideal line and the model) and\n"
         "efficiency, as PNG and SVG through gnuplot, with the .gp script and .dat\n"
         "data beside them to edit and redraw (`gnuplot NAME.gp` in DIR)"},
        {"predict", 0, PK_OPT_LIST, &predict, "LIST",
         "counts to predict the speedup at, up to 16 (default: 2x and 4x the\n"
         "largest)",
         .min = 1, .max = 1 << 24, .check = check_predict},
        {NULL},
    };
    /* No shared option: report reads records, it neither times, verifies nor records a run. */
    const struct pk_cmd_spec spec = {
        .name = "report",
        .synopsis = "FILE... [--baseline FILE]... [--fail-on-regression PCT] [--alpha A] "
                    "[--junit FILE] [--html FILE] [--format F] [--plots DIR] [--predict LIST]",
        .summary = "Scaling report of records: speedup, efficiency, Amdahl/Gustafson fits, plots, "
                   "baseline.",
        .description = description,
        .opts = table,
        .formats = PK_FORMATS_CSV,
        .operands = "at least one record file",
        .min_operands = 1,
    };
    int status = pk_opts_parse(&spec, c, argc, argv, NULL, args);
    if (status == PK_EXIT_OK) {
        o->format = format_of[format];
        for (size_t i = 0; i < predict.n; i++)
            o->predict[i] = (double)predict.v[i];
        o->npredict = predict.n;
        o->files = args->operand;
        o->nfiles = args->noperands;
        o->gate = gate;
        status = check_combination(c, o, alpha);
    }
    pk_count_list_free(&predict);
    return status;
}

/* Loads the records and the baseline, analyses both and compares them. Returns an exit
 * status; *cmp (malloc'd) holds *ncmp comparisons. */
static int load_and_analyse(const struct report_opts *o, struct report_set *now,
                            struct report_set *base, struct report_cmp **cmp, size_t *ncmp)
{
    int status = PK_EXIT_OK;
    for (size_t i = 0; i < o->nfiles && status == PK_EXIT_OK; i++)
        status = pk__report_load_file(o->files[i], now);
    for (size_t i = 0; i < o->nbaseline && status == PK_EXIT_OK; i++)
        status = pk__report_load_file(o->baseline[i], base);
    if (status != PK_EXIT_OK)
        return status;
    if (pk__report_analyse(now) != PK_OK || pk__report_analyse(base) != PK_OK ||
        (o->nbaseline && pk__report_compare(now, base, o->alpha, cmp, ncmp) != PK_OK)) {
        pk_error(NULL, false, "report", "out of memory");
        return PK_EXIT_RUNTIME;
    }
    return PK_EXIT_OK;
}

/* Prints the report as --format asks. Not pk_emit: the report is the analysis of many records,
 * in four views (markdown besides table, CSV and JSON), and no record of its own. Returns
 * PK_EXIT_RUNTIME when stdout cannot be written (a full disk, a closed pipe). */
static int emit(const struct report_opts *o, const struct report_set *now,
                const struct report_set *base, const struct report_cmp *cmp, size_t ncmp)
{
    switch (o->format) {
    case FMT_TABLE:
        pk__report_print_table(now, base, cmp, ncmp, o);
        break;
    case FMT_MARKDOWN:
        pk__report_print_markdown(now, cmp, ncmp, o);
        break;
    case FMT_CSV:
        pk__report_print_csv(now, cmp, ncmp, o);
        break;
    case FMT_JSON:
        pk__report_print_json(now, base, cmp, ncmp, o);
        break;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        pk_error(NULL, false, "report", "cannot write the output: %s", strerror(errno));
        return PK_EXIT_RUNTIME;
    }
    return PK_EXIT_OK;
}

/* The gate's verdict on stderr: each regression named. Returns PK_EXIT_REGRESSION or OK. */
static int gate_verdict(const struct pk_comm *c, const struct report_opts *o,
                        const struct report_cmp *cmp, size_t ncmp, size_t regressed)
{
    if (ncmp == 0) {
        pk_error(c, false, "report", "--fail-on-regression: no point is in both the records and "
                 "the baseline: nothing to compare");
        return PK_EXIT_RUNTIME;
    }
    for (size_t i = 0; i < ncmp; i++) {
        if (!cmp[i].regressed)
            continue;
        char name[256], *msg = pk__report_cmp_message(&cmp[i], o);
        pk__report_point_name(cmp[i].g, cmp[i].p, name, sizeof name);
        fprintf(stderr, "parkit report: %s (group %d): %s\n", name, cmp[i].g->id,
                msg ? msg : "regression");
        free(msg);
    }
    if (!regressed)
        return PK_EXIT_OK;
    fprintf(stderr,
            "parkit report: regression: %zu of %zu %s slower by at least %g%% with p < %g "
            "(exit 4)\n",
            regressed, ncmp, pk_plural(ncmp, "point", "points"), o->fail_pct, o->alpha);
    return PK_EXIT_REGRESSION;
}

/* --junit and --html. Returns an exit status. */
static int write_files(const struct report_opts *o, const struct report_set *now,
                       const struct report_set *base, const struct report_cmp *cmp, size_t ncmp)
{
    int status = PK_EXIT_OK;
    if (o->junit)
        status = pk__report_write_junit(now, cmp, ncmp, o);
    if (o->html) {
        int h = pk__report_write_html(now, base, cmp, ncmp, o);
        status = status == PK_EXIT_OK ? h : status;
    }
    return status;
}

/* After the analysis: the views, the files, the plots, the gate, and the status the bad records
 * leave (a runtime failure outranks a regression: the gate judged incomplete data). */
static int finish(const struct pk_comm *c, const struct report_opts *o, struct report_set *now,
                  const struct report_set *base, struct report_cmp *cmp, size_t ncmp)
{
    size_t regressed = pk__report_gate(cmp, ncmp, o);
    int status = emit(o, now, base, cmp, ncmp);
    if (now->n) {
        int w = write_files(o, now, base, cmp, ncmp);
        status = status == PK_EXIT_OK ? w : status;
    }
    if (now->n == 0)
        pk_error(c, false, "report", "no good records to report");
    if (o->plots && now->n) {
        int plotted = pk__report_write_plots(now, o);
        if (status == PK_EXIT_OK)
            status = plotted;
    }
    size_t bad = now->bad + base->bad;
    if (bad) {
        pk_error(c, false, "report", "%zu bad %s skipped (named above)", bad,
                 pk_plural(bad, "record", "records"));
        status = PK_EXIT_RUNTIME;
    } else if (now->n == 0) {
        status = PK_EXIT_RUNTIME;
    }
    if (o->gate && now->n) {
        int v = gate_verdict(c, o, cmp, ncmp, regressed);
        status = status == PK_EXIT_OK ? v : status;
    }
    return status;
}

int pk_cmd_report(int argc, char **argv, const struct pk_comm *c)
{
    if (c->nranks > 1 && c->rank != 0) /* under mpirun by mistake: rank 0 reports alone */
        return PK_EXIT_OK;
    struct report_opts o = {.format = FMT_TABLE, .alpha = PK_REPORT_ALPHA};
    o.baseline = calloc((size_t)argc + 1, sizeof *o.baseline);
    if (!o.baseline) {
        pk_error(c, false, "report", "out of memory");
        return PK_EXIT_RUNTIME;
    }
    struct pk_args args = {0};
    int status = parse(argc, argv, c, &o, &args);
    if (status != PK_EXIT_OK) { /* the operands too: a combination can fail after parsing */
        pk_args_free(&args);
        free(o.baseline);
        return pk_opts_exit(status);
    }
    struct report_set now = {0}, base = {0};
    struct report_cmp *cmp = NULL;
    size_t ncmp = 0;
    status = load_and_analyse(&o, &now, &base, &cmp, &ncmp);
    if (status == PK_EXIT_OK)
        status = finish(c, &o, &now, &base, cmp, ncmp);
    free(cmp);
    pk__report_set_free(&now);
    pk__report_set_free(&base);
    pk_args_free(&args);
    free(o.baseline);
    return status;
}
