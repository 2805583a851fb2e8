/* SPDX-License-Identifier: MIT */
/* parkit report: reads result records (JSON Lines from --record or `parkit scale`), groups them by
 * kernel, mode, size and provenance, and reports per point the median time with min, max and a
 * distribution-free 95% interval of the median, speedup, efficiency and the Karp-Flatt serial
 * fraction; an Amdahl (strong) or Gustafson (weak) least-squares fit with the serial fraction's
 * error; and speedups the fit predicts at larger counts, marked as a model. Output as a table,
 * CSV, Markdown or JSON, plus gnuplot plots. --baseline compares against another set of records
 * point by point with the Mann-Whitney rank test and lists what differs in the provenance of a
 * point that got slower.
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
    "exits 1 after the tables.\n";

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

static int check_predict(const struct pk_opt *opt, const char *text, struct pk_err *err)
{
    const struct pk_count_list *l = opt->dest;
    if (l->n <= PK_REPORT_MAX_PREDICT)
        return PK_OK;
    return pk_fail(err, PK_EINVAL,
                   "--predict expects up to %d worker counts like 8,16,32, got '%s'",
                   PK_REPORT_MAX_PREDICT, text);
}

/* Fills o (its baseline array allocated by the caller); on PK_EXIT_OK *args holds the files. */
static int parse(int argc, char **argv, const struct pk_comm *c, struct report_opts *o,
                 struct pk_args *args)
{
    struct baselines bl = {.o = o};
    struct pk_count_list predict = {0};
    int format = 0;
    const struct pk_opt table[] = {
        {"baseline", 0, PK_OPT_PATH, &bl, "FILE",
         "compare with these records (repeatable): per point present in both,\n"
         "the change of the median, the Mann-Whitney p-value, and a verdict at\n"
         "alpha = 0.05; for a point that got slower, what differs in provenance",
         .check = add_baseline},
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
        .synopsis = "FILE... [--baseline FILE]... [--format F] [--plots DIR] [--predict LIST]",
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
        (o->nbaseline && pk__report_compare(now, base, cmp, ncmp) != PK_OK)) {
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

/* After the analysis: the views, the plots, and the status the bad records leave. */
static int finish(const struct pk_comm *c, const struct report_opts *o, struct report_set *now,
                  const struct report_set *base, const struct report_cmp *cmp, size_t ncmp)
{
    int status = emit(o, now, base, cmp, ncmp);
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
    return status;
}

int pk_cmd_report(int argc, char **argv, const struct pk_comm *c)
{
    if (c->nranks > 1 && c->rank != 0) /* under mpirun by mistake: rank 0 reports alone */
        return PK_EXIT_OK;
    struct report_opts o = {.format = FMT_TABLE};
    o.baseline = calloc((size_t)argc + 1, sizeof *o.baseline);
    if (!o.baseline) {
        pk_error(c, false, "report", "out of memory");
        return PK_EXIT_RUNTIME;
    }
    struct pk_args args = {0};
    int status = parse(argc, argv, c, &o, &args);
    if (status != PK_EXIT_OK) {
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
