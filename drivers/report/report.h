/* SPDX-License-Identifier: MIT */
/* The inside of `parkit report`, shared by its files only. A report is a set of groups (one per
 * kernel, mode, size and provenance), each holding points (one per threads x ranks) with every
 * repetition's time. The phases, one file each:
 *   load.c       records (JSON Lines) -> a set; a bad line is named FILE:LINE and skipped
 *   analyse.c    sorting, per-point statistics, speedups, the Amdahl/Gustafson fit, predictions
 *   baseline.c   point-by-point comparison with a baseline set, provenance differences
 *   gate.c       the CI verdict (--fail-on-regression): which points regressed, and why
 *   view_text.c  table and Markdown; view_csv.c CSV; view_json.c JSON
 *   junit.c      JUnit XML, one test case per point (--junit)
 *   view_html.c  one self-contained HTML page (--html); svg.c its inline plots
 *   markup.c     text escaped for XML and HTML
 *   plots.c      gnuplot data and scripts, written atomically, and running gnuplot
 * cmd_report.c parses the options and strings the phases together. */
#ifndef PK_REPORT_H
#define PK_REPORT_H

#include "scaling.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define PK_REPORT_CI_LEVEL    0.95 /* coverage of the interval of each median */
#define PK_REPORT_ALPHA       0.05 /* default significance level of the baseline comparison */
#define PK_REPORT_MAX_PREDICT 16   /* --predict counts */

enum fmt { FMT_TABLE, FMT_CSV, FMT_MARKDOWN, FMT_JSON };

struct report_opts {
    char **files;
    size_t nfiles;
    const char **baseline; /* owned array of argv pointers */
    size_t nbaseline;
    enum fmt format;
    const char *plots;
    double predict[PK_REPORT_MAX_PREDICT];
    size_t npredict;
    double alpha;    /* --alpha: significance level of the comparison and the gate */
    double fail_pct; /* --fail-on-regression PCT; 0 without it (then JUnit fails any slowdown) */
    bool gate;       /* --fail-on-regression given: exit 4 on a regression */
    const char *junit, *html;
};

struct report_point {
    int workers, threads, ranks;
    char size[96]; /* the problem size of this point (weak scaling: base size x workers) */
    bool oversub;
    double *t; /* every repetition's time (owned), sorted by the analysis */
    size_t n, cap;
    double median, min, max, ci_lo, ci_hi, ci_cov;
    double speedup, speedup_lo, speedup_hi, eff, kf; /* NaN where undefined */
    json_t *prov;  /* provenance of the point's first record (a reference owned) */
    json_t *noise; /* why its runs were noisy: scale run's reasons, each once (owned array) */
};

struct report_group {
    char *kernel, *size, *host, *commit, *compiler, *flags, *mpi; /* owned */
    double size_num; /* for ordering: the size, or the largest of a list */
    bool weak, serial;
    json_t *prov;  /* provenance of the first record (owned) */
    json_t *scale; /* the first record's "scale" block, or NULL (a reference owned) */
    size_t order;  /* first appearance, to keep provenance variants in input order */
    size_t records;
    struct report_point *pt; /* owned */
    size_t npt, cap;
    size_t base; /* index of the point speedups are relative to */
    struct pk_scaling_fit fit;
    bool fit_ok;
    size_t fit_left_out; /* oversubscribed points the fit leaves out */
    char slug[128];      /* file name stem of its plots */
    int id;              /* 1-based number in the output */
};

struct report_set {
    struct report_group *g; /* owned; pk__report_set_free releases it */
    size_t n, cap;
    size_t records, bad;
};

/* One point present in both sets; the pointers borrow from the two sets. */
struct report_cmp {
    const struct report_group *g, *b;
    const struct report_point *p, *bp;
    double change_pct, p_value;
    bool exact;
    bool regressed;      /* fails the gate (gate.c) */
    const char *verdict; /* static text */
};

/* A speedup the fit predicts: a model, not a measurement. */
struct report_prediction {
    double workers, speedup, efficiency;
};

/* load.c */
/* Reads one JSON Lines file into s; bad lines go to stderr as FILE:LINE: reason and are counted
 * in s->bad. Returns an exit status: PK_EXIT_USAGE for a missing, unreadable or empty file,
 * PK_EXIT_RUNTIME when out of memory. */
int pk__report_load_file(const char *path, struct report_set *s);
void pk__report_set_free(struct report_set *s); /* leaves s empty */

/* analyse.c */
/* Sorts groups and points and computes every derived number. Returns a pk_status. */
int pk__report_analyse(struct report_set *s);
/* The speedups the group's fit predicts at --predict (default 2x and 4x the largest count) into
 * out[PK_REPORT_MAX_PREDICT]; none without a fit or with f outside [0, 1]. Returns how many. */
size_t pk__report_predict(const struct report_group *g, const struct report_opts *o,
                          struct report_prediction *out);
bool pk__report_fit_in_range(const struct report_group *g);
/* The fitted model's speedup at `workers`, relative to the group's base point (needs fit_ok). */
double pk__report_model_speedup(const struct report_group *g, double workers);
const char *pk__report_model_name(const struct report_group *g); /* Amdahl or Gustafson */
const char *pk__report_mode_text(const struct report_group *g);  /* strong or weak scaling */
double pk__report_tidy(double v);                   /* fit noise (|v| < 1e-12) shown as 0 */
double pk__report_tidy_rel(double v, double other); /* v, or 0 when noise next to other */
/* Same kernel, mode and size (possibly of different provenance). */
bool pk__report_same_experiment(const struct report_group *a, const struct report_group *b);

/* baseline.c */
/* Every point present in both sets (same kernel, mode, size, threads and ranks) with its
 * Mann-Whitney test. On PK_OK *out (malloc'd, the caller frees it) holds *nout entries that
 * borrow from now and base. */
int pk__report_compare(const struct report_set *now, const struct report_set *base, double alpha,
                       struct report_cmp **out, size_t *nout);
/* Whether samples of n and m could ever give p < alpha. */
bool pk__report_detectable(size_t n, size_t m, double alpha);
/* Calls fn(ctx, key, baseline text, now text) for every provenance key whose value differs,
 * whatever keys the records carry: nested keys dotted (machine.host), a key on one side only
 * shown as (absent). Returns how many. */
typedef void (*pk__report_diff_fn)(void *ctx, const char *key, const char *base, const char *now);
int pk__report_prov_each(const json_t *base, const json_t *now, pk__report_diff_fn fn, void *ctx);
/* Prints, one per line after prefix, the provenance facts that differ. Returns how many. */
int pk__report_prov_diff(FILE *out, const char *prefix, const json_t *base, const json_t *now);
/* The same as an object {label: {baseline, now}} (a new reference). */
json_t *pk__report_prov_diff_json(const json_t *base, const json_t *now);
/* Names the key provenance fields in which two groups differ, comma-separated, into buf. */
void pk__report_key_diff(const struct report_group *a, const struct report_group *b, char *buf,
                         size_t len);

/* view_text.c, view_csv.c, view_json.c: the report on stdout. */
void pk__report_print_table(const struct report_set *now, const struct report_set *base,
                            const struct report_cmp *c, size_t nc, const struct report_opts *o);
void pk__report_print_markdown(const struct report_set *now, const struct report_cmp *c, size_t nc,
                               const struct report_opts *o);
void pk__report_print_csv(const struct report_set *now, const struct report_cmp *c, size_t nc,
                          const struct report_opts *o);
void pk__report_print_json(const struct report_set *now, const struct report_set *base,
                           const struct report_cmp *c, size_t nc, const struct report_opts *o);

/* gate.c */
/* Marks each comparison that regressed: slower by at least o->fail_pct percent with p < alpha.
 * Returns how many. */
size_t pk__report_gate(struct report_cmp *c, size_t n, const struct report_opts *o);
/* A comparison's verdict in one line (malloc'd, NULL when out of memory): the change, p, and
 * for a slower point the provenance that differs. */
char *pk__report_cmp_message(const struct report_cmp *x, const struct report_opts *o);
/* The name of a point: KERNEL MODE size SIZE TxR (e.g. "sumsq:range strong size 1e6 2x1"). */
void pk__report_point_name(const struct report_group *g, const struct report_point *p, char *buf,
                           size_t len);

/* markup.c */
/* Writes s as XML/HTML text, safe in element content and in double-quoted attributes: & < > " '
 * escaped, control characters other than tab and newline and invalid UTF-8 bytes as U+FFFD. */
void pk__report_xml_text(FILE *f, const char *s);

/* junit.c, view_html.c: written atomically through io/atomicfile. Return an exit status; errors
 * are printed. */
int pk__report_write_junit(const struct report_set *now, const struct report_cmp *c, size_t nc,
                           const struct report_opts *o);
int pk__report_write_html(const struct report_set *now, const struct report_set *base,
                          const struct report_cmp *c, size_t nc, const struct report_opts *o);

/* svg.c: one inline SVG plot of a group (what: 0 time, 1 speedup, 2 efficiency); the model's
 * curve and predictions drawn dashed and labelled as predictions. */
void pk__report_svg_plot(FILE *f, const struct report_group *g, const struct report_opts *o,
                         int what);

/* plots.c */
/* Names each group's plot files (its slug), then draws every group's six plots into o->plots.
 * Returns an exit status; errors are printed. */
int pk__report_write_plots(struct report_set *s, const struct report_opts *o);

/* A string member of o, or dflt when absent or not a string. */
static inline const char *pk__report_str_or(const json_t *o, const char *key, const char *dflt)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : dflt;
}

#endif
