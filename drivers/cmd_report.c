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
#include "report/report.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "Usage: parkit report FILE... [--baseline FILE]... [--format table|csv|markdown|json]\n"
    "                     [--plots DIR] [--predict P1,P2,...]\n"
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
    "  --baseline FILE   compare with these records (repeatable): per point present in both,\n"
    "                    the change of the median, the Mann-Whitney p-value, and a verdict at\n"
    "                    alpha = 0.05; for a point that got slower, what differs in provenance\n"
    "  --format F        table (default), csv, markdown or json\n"
    "  --plots DIR       per group: time, speedup (with the ideal line and the model) and\n"
    "                    efficiency, as PNG and SVG through gnuplot, with the .gp script and .dat\n"
    "                    data beside them to edit and redraw (`gnuplot NAME.gp` in DIR)\n"
    "  --predict LIST    counts to predict the speedup at (default: 2x and 4x the largest)\n"
    "  -h, --help        this help\n"
    "\n"
    "A bad record (invalid or truncated JSON, wrong types, unknown kernel, failed verification)\n"
    "is reported as FILE:LINE and skipped; the report of the good ones still appears and the\n"
    "exit status is 1. A missing or empty file is a usage error (2). Without gnuplot, --plots\n"
    "exits 1 after the tables.\n\n";

static int parse_predict(const char *text, struct report_opts *o, struct pk_err *err)
{
    o->npredict = 0;
    const char *p = text;
    while (*p) {
        size_t n = strcspn(p, ",");
        char item[32];
        if (n == 0 || n >= sizeof item || o->npredict == PK_REPORT_MAX_PREDICT)
            return pk_fail(err, PK_EINVAL,
                           "--predict expects up to %d worker counts like 8,16,32, got '%s'",
                           PK_REPORT_MAX_PREDICT, text);
        memcpy(item, p, n);
        item[n] = 0;
        uint64_t v;
        if (pk_parse_count("--predict", item, 1, 1 << 24, &v, err) != PK_OK)
            return PK_EINVAL;
        o->predict[o->npredict++] = (double)v;
        p += n + (p[n] == ',');
    }
    if (o->npredict == 0)
        return pk_fail(err, PK_EINVAL, "--predict expects worker counts like 8,16,32");
    return PK_OK;
}

static int parse(int argc, char **argv, const struct pk_comm *c, struct report_opts *o)
{
    static const struct option longopts[] = {
        {"baseline", required_argument, NULL, 'b'}, {"format", required_argument, NULL, 'F'},
        {"plots", required_argument, NULL, 'P'},    {"predict", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, PK_OPT_HELP},   {NULL, 0, NULL, 0}};
    struct pk_common_opts common;
    pk_common_defaults(&common);
    struct pk_err err = {0};
    opterr = 0;
    optind = 1;
    int code;
    while ((code = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        int rc = PK_OK;
        switch (code) {
        case 'b':
            o->baseline[o->nbaseline++] = optarg;
            break;
        case 'F':
            if (strcmp(optarg, "table") == 0)
                o->format = FMT_TABLE;
            else if (strcmp(optarg, "csv") == 0)
                o->format = FMT_CSV;
            else if (strcmp(optarg, "markdown") == 0 || strcmp(optarg, "md") == 0)
                o->format = FMT_MARKDOWN;
            else if (strcmp(optarg, "json") == 0)
                o->format = FMT_JSON;
            else
                rc = pk_fail(&err, PK_EINVAL,
                             "--format expects table, csv, markdown or json, got '%s'", optarg);
            break;
        case 'P':
            o->plots = optarg;
            if (!*optarg)
                rc = pk_fail(&err, PK_EINVAL, "--plots expects a directory");
            break;
        case 'p':
            rc = parse_predict(optarg, o, &err);
            break;
        case PK_OPT_HELP:
            printf("%s%s", usage, pk_exit_help);
            return -1;
        default: {
            int handled = pk_cli_option(c, "report", usage, code, argv, &common);
            if (handled == PK_OPT_HELP_SHOWN)
                return -1;
            return PK_EXIT_USAGE;
        }
        }
        if (rc != PK_OK) {
            pk_error(c, false, "report", "%s", err.msg);
            return PK_EXIT_USAGE;
        }
    }
    o->files = argv + optind;
    o->nfiles = optind < argc ? (size_t)(argc - optind) : 0;
    if (o->nfiles == 0) {
        pk_error(c, false, "report", "give at least one record file (see parkit report --help)");
        return PK_EXIT_USAGE;
    }
    return PK_EXIT_OK;
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

static void emit(const struct report_opts *o, const struct report_set *now,
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
    fflush(stdout);
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
    int status = parse(argc, argv, c, &o);
    if (status != PK_EXIT_OK) {
        free(o.baseline);
        return status < 0 ? PK_EXIT_OK : status;
    }
    struct report_set now = {0}, base = {0};
    struct report_cmp *cmp = NULL;
    size_t ncmp = 0;
    status = load_and_analyse(&o, &now, &base, &cmp, &ncmp);
    if (status == PK_EXIT_OK) {
        emit(&o, &now, &base, cmp, ncmp);
        if (now.n == 0)
            pk_error(c, false, "report", "no good records to report");
        if (o.plots && now.n)
            status = pk__report_write_plots(&now, &o);
        size_t bad = now.bad + base.bad;
        if (bad) {
            pk_error(c, false, "report", "%zu bad record%s skipped (named above)", bad,
                     bad == 1 ? "" : "s");
            status = PK_EXIT_RUNTIME;
        } else if (now.n == 0) {
            status = PK_EXIT_RUNTIME;
        }
    }
    free(cmp);
    pk__report_set_free(&now);
    pk__report_set_free(&base);
    free(o.baseline);
    return status;
}
