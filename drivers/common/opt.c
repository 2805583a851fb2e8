/* SPDX-License-Identifier: MIT */
/* The option parser and --help generator of opt.h. */
#include "opt.h"

#include "parkit/atomicfile.h"
#include "timing.h"

#include <jansson.h>

#include <limits.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

static const char *const format_names[] = {"table", "csv", "json", NULL};

const struct pk_opt pk_shared_opts[] = {
    {"threads", 't', PK_OPT_INT, NULL, "T",
     "OpenMP threads per rank (default: OMP_NUM_THREADS or all cores)", .min = 1, .max = 4096},
    {"reps", 'r', PK_OPT_INT, NULL, "R",
     "timed repetitions; the maximum over ranks is kept", .min = 1, .max = 100000},
    {"warmup", 0, PK_OPT_INT, NULL, "W", "untimed runs before the timed ones",
     .max = 100000},
    {"record", 0, PK_OPT_PATH, NULL, "FILE",
     "append one JSON line per run: parameters, result, every timing and\n"
     "provenance (version, commit, compiler, libraries, hosts, affinity)"},
    {"format", 0, PK_OPT_ENUM, NULL, "F", "stdout format", .choices = format_names},
    {"no-verify", 0, PK_OPT_FLAG, NULL, NULL,
     "skip verification (recorded as such)"},
    {NULL},
};

unsigned pk_shared_bit(size_t i)
{
    return 1u << i;
}

void pk_count_list_free(struct pk_count_list *l)
{
    if (!l)
        return;
    free(l->v);
    *l = (struct pk_count_list){0};
}

void pk_args_free(struct pk_args *a)
{
    if (!a)
        return;
    free(a->operand);
    *a = (struct pk_args){0};
}

/* ---- values ------------------------------------------------------------------------------ */

static uint64_t count_max(const struct pk_opt *o)
{
    if (o->kind == PK_OPT_INT)
        return o->max ? o->max : INT_MAX;
    return o->max ? o->max : UINT64_MAX;
}

/* Seconds: a number with an optional unit (s, ms, us, m, h). */
static int parse_seconds(const char *name, const char *text, const struct pk_opt *o, double *out,
                         struct pk_err *err)
{
    static const struct {
        const char *unit;
        double scale;
    } units[] = {{"", 1}, {"s", 1}, {"ms", 1e-3}, {"us", 1e-6}, {"m", 60}, {"h", 3600}};
    char *end = NULL;
    double v = strtod(text, &end);
    double max = o->rmax > 0 ? o->rmax : INFINITY;
    for (size_t i = 0; end != text && i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(end, units[i].unit) != 0)
            continue;
        v *= units[i].scale;
        if (isfinite(v) && v >= o->rmin && v <= max) {
            *out = v;
            return PK_OK;
        }
        break;
    }
    return pk_fail(err, PK_EINVAL,
                   "%s expects seconds like 0.5, 500ms or 2s in [%g, %g], got '%s'", name, o->rmin,
                   max, text);
}

/* Size: a count with an optional binary suffix (K, M, G, T, optionally followed by iB or B). */
static int parse_size(const char *name, const char *text, const struct pk_opt *o, uint64_t *out,
                      struct pk_err *err)
{
    size_t len = strlen(text);
    char buf[64];
    if (len == 0 || len >= sizeof buf)
        return pk_fail(err, PK_EINVAL, "%s expects a size like 4096, 64K or 8MiB, got '%s'", name,
                       text);
    memcpy(buf, text, len + 1);
    if (len > 2 && strcmp(buf + len - 2, "iB") == 0)
        buf[len -= 2] = '\0';
    else if (len > 1 && buf[len - 1] == 'B')
        buf[--len] = '\0';
    int shift = 0;
    const char *suffixes = "KMGT";
    const char *s = len ? strchr(suffixes, buf[len - 1]) : NULL;
    if (s && *s) {
        shift = 10 * (int)(s - suffixes + 1);
        buf[--len] = '\0';
    }
    uint64_t v;
    int rc = pk_parse_count(name, buf, 0, UINT64_MAX >> shift, &v, err);
    if (rc != PK_OK)
        return pk_fail(err, PK_EINVAL, "%s expects a size like 4096, 64K or 8MiB, got '%s'", name,
                       text);
    v <<= shift;
    if (v < o->min || v > count_max(o))
        return pk_fail(err, PK_EINVAL, "%s must be in [%llu, %llu] bytes, got '%s'", name,
                       (unsigned long long)o->min, (unsigned long long)count_max(o), text);
    *out = v;
    return PK_OK;
}

static int parse_list(const char *name, const char *text, const struct pk_opt *o,
                      struct pk_count_list *out, struct pk_err *err)
{
    size_t n = 1;
    for (const char *p = text; *p; p++)
        n += *p == ',';
    uint64_t *v = calloc(n, sizeof *v);
    char *copy = strdup(text);
    if (!v || !copy) {
        free(v);
        free(copy);
        return pk_fail(err, PK_ENOMEM, "out of memory");
    }
    char *item = copy;
    int rc = PK_OK;
    for (size_t i = 0; i < n && rc == PK_OK; i++) {
        char *comma = strchr(item, ',');
        if (comma)
            *comma = '\0';
        rc = pk_parse_count(name, item, o->min, count_max(o), &v[i], err);
        item = comma ? comma + 1 : item;
    }
    free(copy);
    if (rc != PK_OK) {
        free(v);
        return rc;
    }
    pk_count_list_free(out);
    *out = (struct pk_count_list){v, n};
    return PK_OK;
}

static int parse_enum(const char *name, const char *text, const struct pk_opt *o, int *out,
                      struct pk_err *err)
{
    char list[256] = "";
    for (int i = 0; o->choices[i]; i++) {
        if (strcmp(text, o->choices[i]) == 0) {
            *out = i;
            return PK_OK;
        }
        size_t len = strlen(list);
        snprintf(list + len, sizeof list - len, "%s%s", i == 0 ? "" : !o->choices[i + 1] ? " or " : ", ",
                 o->choices[i]);
    }
    return pk_fail(err, PK_EINVAL, "%s expects %s, got '%s'", name, list, text);
}

/* Stores text into o's destination; name is the option as the user wrote it. */
int pk_opt_output_file(const struct pk_opt *opt, const char *text, struct pk_err *err)
{
    struct pk_err why = {0};
    if (pk_atomicfile_check_target(text, &why) == PK_OK)
        return PK_OK;
    return pk_fail(err, PK_EINVAL, "--%s: %s", opt->name, why.msg);
}

static int set_value(const struct pk_opt *o, const char *name, const char *text,
                     struct pk_err *err)
{
    uint64_t v;
    int rc;
    switch (o->kind) {
    case PK_OPT_FLAG:
        *(bool *)o->dest = true;
        return PK_OK;
    case PK_OPT_COUNT:
        return pk_parse_count(name, text, o->min, count_max(o), o->dest, err);
    case PK_OPT_INT:
        rc = pk_parse_count(name, text, o->min, count_max(o), &v, err);
        if (rc == PK_OK)
            *(int *)o->dest = (int)v;
        return rc;
    case PK_OPT_REAL:
        return pk_parse_real(name, text, o->rmin == 0 && o->rmax == 0 ? -HUGE_VAL : o->rmin,
                             o->rmin == 0 && o->rmax == 0 ? HUGE_VAL : o->rmax, o->dest, err);
    case PK_OPT_SECONDS:
        return parse_seconds(name, text, o, o->dest, err);
    case PK_OPT_SIZE:
        return parse_size(name, text, o, o->dest, err);
    case PK_OPT_ENUM:
        return parse_enum(name, text, o, o->dest, err);
    case PK_OPT_LIST:
        return parse_list(name, text, o, o->dest, err);
    case PK_OPT_STRING:
    case PK_OPT_PATH:
        if (!*text)
            return pk_fail(err, PK_EINVAL, "%s expects %s, got ''", name,
                           o->kind == PK_OPT_PATH ? "a file name" : "a value");
        *(const char **)o->dest = text;
        return PK_OK;
    }
    return pk_fail(err, PK_EINVAL, "%s: unknown option kind", name);
}

/* ---- parsing ----------------------------------------------------------------------------- */

struct parser {
    const struct pk_cmd_spec *spec;
    const struct pk_comm *c;
    struct pk_common_opts *common;
    int format;
    struct pk_args *args;
    const char *group_first[32]; /* the name of the first option given of each group */
    int reps_tag;                /* 1 once --reps is given */
    struct pk_err err;
};

/* The destination of shared option i inside the parser's state. */
static void *shared_dest(struct parser *p, size_t i)
{
    void *dest[] = {&p->common->nthreads, &p->common->reps,   &p->common->warmup,
                    &p->common->record,   &p->format,         &p->common->no_verify};
    return dest[i];
}

static bool shadowed(const struct pk_cmd_spec *s, const struct pk_opt *shared)
{
    for (const struct pk_opt *o = s->opts; o && o->name; o++)
        if (strcmp(o->name, shared->name) == 0 ||
            (shared->short_name && o->short_name == shared->short_name))
            return true;
    return false;
}

/* A match: the option, a copy for shared ones (dest filled), and whether the command takes it. */
struct match {
    struct pk_opt opt;
    bool found, applies;
    int candidates;
};

static void consider(struct parser *p, struct match *m, const struct pk_opt *o, int shared_index)
{
    m->opt = *o;
    m->found = true;
    m->applies = true;
    if (shared_index >= 0) {
        m->opt.dest = shared_dest(p, (size_t)shared_index);
        if (m->opt.dest == &p->common->reps) { /* an explicit --reps is never cut short */
            m->opt.tag = &p->reps_tag;
            m->opt.tag_value = 1;
        }
        m->applies = (p->spec->shared & pk_shared_bit((size_t)shared_index)) != 0;
    }
}

/* Looks a long name up (exact, else a unique prefix) or a short letter (name NULL). */
static struct match lookup(struct parser *p, const char *name, size_t len, char letter)
{
    struct match exact = {0}, prefix = {0};
    for (int pass = 0; pass < 2; pass++) {
        const struct pk_opt *table = pass == 0 ? p->spec->opts : pk_shared_opts;
        for (size_t i = 0; table && table[i].name; i++) {
            const struct pk_opt *o = &table[i];
            if (pass == 1 && shadowed(p->spec, o))
                continue;
            int si = pass == 1 ? (int)i : -1;
            if (!name) {
                if (letter && o->short_name == letter)
                    consider(p, &exact, o, si);
            } else if (strlen(o->name) == len && strncmp(o->name, name, len) == 0) {
                consider(p, &exact, o, si);
            } else if (strncmp(o->name, name, len) == 0 && !o->hidden &&
                       (pass == 0 || (p->spec->shared & pk_shared_bit(i)))) {
                /* abbreviations only among what the command takes */
                consider(p, &prefix, o, si);
                prefix.candidates++;
            }
        }
    }
    if (exact.found || prefix.candidates != 1)
        return exact.found ? exact : (struct match){.candidates = prefix.candidates};
    return prefix;
}

static void report(const struct parser *p, const char *fmt, const char *a, const char *b)
{
    char msg[512];
    snprintf(msg, sizeof msg, fmt, a, b ? b : "");
    pk_error(p->c, false, p->spec->name, "%s (see parkit %s --help)", msg, p->spec->name);
}

/* "give only one of --a, --b and --c" for o's group. */
static void report_group(const struct parser *p, const struct pk_opt *o)
{
    char list[512] = "";
    int k = 0, total = 0;
    for (const struct pk_opt *q = p->spec->opts; q->name; q++)
        total += q->group == o->group && !q->hidden;
    for (const struct pk_opt *q = p->spec->opts; q->name; q++) {
        if (q->group != o->group || q->hidden)
            continue;
        size_t len = strlen(list);
        snprintf(list + len, sizeof list - len, "%s--%s", k == 0 ? "" : k == total - 1 ? " and " : ", ",
                 q->name);
        k++;
    }
    pk_error(p->c, false, p->spec->name, "give only one of %s", list);
}

/* Applies one option: name is how the user wrote it, value NULL for a flag. */
static int apply(struct parser *p, const struct pk_opt *o, const char *name, const char *value)
{
    if (o->group > 0 && o->group < 32) {
        const char *first = p->group_first[o->group];
        if (first && strcmp(first, o->name) != 0) {
            report_group(p, o);
            return PK_EXIT_USAGE;
        }
        p->group_first[o->group] = o->name;
    }
    int rc = set_value(o, name, value, &p->err);
    if (rc == PK_OK && o->check)
        rc = o->check(o, value, &p->err);
    if (rc != PK_OK) {
        pk_error(p->c, false, p->spec->name, "%s", p->err.msg);
        return PK_EXIT_USAGE;
    }
    if (o->tag)
        *o->tag = o->tag_value;
    return PK_EXIT_OK;
}

static int resolve(struct parser *p, const struct match *m, const char *written)
{
    if (m->candidates > 1) {
        report(p, "option '%s' is ambiguous", written, NULL);
        return PK_EXIT_USAGE;
    }
    if (!m->found) {
        report(p, "unknown option '%s'", written, NULL);
        return PK_EXIT_USAGE;
    }
    if (!m->applies) {
        report(p, "option '%s' does not apply to parkit %s", written, p->spec->name);
        return PK_EXIT_USAGE;
    }
    return PK_EXIT_OK;
}

static int long_option(struct parser *p, int argc, char **argv, int *i)
{
    const char *a = argv[*i] + 2;
    const char *eq = strchr(a, '=');
    size_t len = eq ? (size_t)(eq - a) : strlen(a);
    char written[128];
    snprintf(written, sizeof written, "--%.*s", (int)(len < 100 ? len : 100), a);
    if (len == 4 && strncmp(a, "help", 4) == 0)
        return PK_OPTS_HELP;
    if (strcmp(a, "options-json") == 0)
        return PK_OPTS_JSON;
    struct match m = lookup(p, a, len, 0);
    int rc = resolve(p, &m, written);
    if (rc != PK_EXIT_OK)
        return rc;
    snprintf(written, sizeof written, "--%s", m.opt.name);
    const char *value = eq ? eq + 1 : NULL;
    if (m.opt.kind == PK_OPT_FLAG && value) {
        report(p, "option '%s' takes no value", written, NULL);
        return PK_EXIT_USAGE;
    }
    if (m.opt.kind != PK_OPT_FLAG && !value) {
        if (*i + 1 >= argc) {
            pk_error(p->c, false, p->spec->name, "option '%s' needs a value", written);
            return PK_EXIT_USAGE;
        }
        value = argv[++*i];
    }
    return apply(p, &m.opt, written, value);
}

/* -abc: flags a and b, then c (which may take "the rest" or the next word as its value). */
static int short_options(struct parser *p, int argc, char **argv, int *i)
{
    char long_name[128];
    for (const char *s = argv[*i] + 1; *s; s++) {
        char written[3] = {'-', *s, '\0'};
        if (*s == 'h')
            return PK_OPTS_HELP;
        struct match m = lookup(p, NULL, 0, *s);
        int rc = resolve(p, &m, written);
        if (rc != PK_EXIT_OK)
            return rc;
        if (m.opt.kind == PK_OPT_FLAG) {
            rc = apply(p, &m.opt, written, NULL);
            if (rc != PK_EXIT_OK)
                return rc;
            continue;
        }
        const char *value = s[1] ? s + 1 : NULL;
        if (!value && *i + 1 >= argc) {
            pk_error(p->c, false, p->spec->name, "option '%s' needs a value", written);
            return PK_EXIT_USAGE;
        }
        snprintf(long_name, sizeof long_name, "--%s", m.opt.name);
        return apply(p, &m.opt, long_name, value ? value : argv[++*i]);
    }
    return PK_EXIT_OK;
}

static int check_operands(struct parser *p)
{
    const struct pk_cmd_spec *s = p->spec;
    struct pk_args *a = p->args;
    if (a->noperands > 0 && (!s->operands || (s->max_operands && a->noperands > s->max_operands))) {
        size_t extra = s->operands ? s->max_operands : 0;
        report(p, "unexpected argument '%s'", a->operand[extra], NULL);
        return PK_EXIT_USAGE;
    }
    if (s->operands && a->noperands < s->min_operands) {
        report(p, "give %s", s->operands, NULL);
        return PK_EXIT_USAGE;
    }
    if (p->format == PK_FORMAT_CSV && !(s->formats & PK_FORMATS_CSV)) {
        report(p, "--format csv is not available for parkit %s: its output has no row form; use "
                  "table or json",
               s->name, NULL);
        return PK_EXIT_USAGE;
    }
    return PK_EXIT_OK;
}

static int parse_words(struct parser *p, int argc, char **argv)
{
    struct pk_args *a = p->args;
    for (int i = 1; i < argc; i++) {
        char *w = argv[i];
        int rc = PK_EXIT_OK;
        if (a->dashdash) {
            if (p->spec->rest)
                a->rest[a->nrest++] = w;
            else
                a->operand[a->noperands++] = w;
        } else if (strcmp(w, "--") == 0) {
            a->dashdash = true;
        } else if (w[0] == '-' && w[1] == '-') {
            rc = long_option(p, argc, argv, &i);
        } else if (w[0] == '-' && w[1] != '\0') {
            rc = short_options(p, argc, argv, &i);
        } else if (p->spec->rest && p->spec->rest_at_operand) {
            a->dashdash = true;
            a->rest[a->nrest++] = w;
        } else {
            a->operand[a->noperands++] = w;
        }
        if (rc != PK_EXIT_OK)
            return rc;
    }
    return PK_EXIT_OK;
}

static int operand_counts(struct parser *p)
{
    const struct pk_args *a = p->args;
    struct pk_count_list *l = p->spec->counts;
    pk_count_list_free(l);
    if (a->noperands == 0)
        return PK_EXIT_OK;
    if (!(l->v = calloc(a->noperands, sizeof *l->v))) {
        pk_error(p->c, false, p->spec->name, "out of memory");
        return PK_EXIT_RUNTIME;
    }
    l->n = a->noperands;
    for (size_t i = 0; i < a->noperands; i++) {
        if (pk_parse_count("N", a->operand[i], 0, p->spec->counts_max, &l->v[i], &p->err) != PK_OK) {
            pk_error(p->c, false, p->spec->name, "%s", p->err.msg);
            pk_count_list_free(l);
            return PK_EXIT_USAGE;
        }
    }
    return PK_EXIT_OK;
}

int pk_opts_parse(const struct pk_cmd_spec *spec, const struct pk_comm *c, int argc, char **argv,
                  struct pk_common_opts *common, struct pk_args *args)
{
    struct pk_common_opts unused;
    struct pk_args local = {0};
    struct parser p = {.spec = spec, .c = c, .common = common ? common : &unused,
                       .args = args ? args : &local};
    pk_common_defaults(p.common);
    p.common->reps = spec->reps_default > 0 ? spec->reps_default : 3;
    p.common->warmup = spec->warmup_default < 0 ? 0 : spec->warmup_default == 0 ? 1 : spec->warmup_default;
    /* operands and rest share one allocation: argc words each at most */
    *p.args = (struct pk_args){0};
    p.args->operand = calloc(2 * ((size_t)argc + 1), sizeof *p.args->operand);
    if (!p.args->operand) {
        pk_error(c, false, spec->name, "out of memory");
        return PK_EXIT_RUNTIME;
    }
    p.args->rest = spec->rest ? p.args->operand + argc + 1 : NULL;
    int rc = parse_words(&p, argc, argv);
    if (rc == PK_EXIT_OK)
        rc = check_operands(&p);
    if (rc == PK_EXIT_OK && spec->counts)
        rc = operand_counts(&p);
    p.common->format = (enum pk_format)p.format;
    p.common->reps_given = p.reps_tag != 0;
    if (rc == PK_OPTS_HELP && (!c || c->rank == 0))
        pk_opts_help(spec, stdout);
    if (rc == PK_OPTS_JSON && (!c || c->rank == 0))
        pk_opts_json(spec, stdout);
    if (rc == PK_OPTS_JSON)
        rc = PK_OPTS_HELP;
    if (rc != PK_EXIT_OK || !args)
        pk_args_free(p.args);
    return rc;
}

/* ---- help -------------------------------------------------------------------------------- */

#define HELP_INDENT 24

/* Writes help text lines, the first after the option column, the others indented to it. */
static void help_lines(FILE *f, const char *text)
{
    for (const char *line = text; line && *line;) {
        const char *nl = strchr(line, '\n');
        int len = nl ? (int)(nl - line) : (int)strlen(line);
        fprintf(f, "%.*s\n", len, line);
        line = nl ? nl + 1 : NULL;
        if (line && *line)
            fprintf(f, "%*s", HELP_INDENT, "");
    }
}

static void help_option(FILE *f, const struct pk_opt *o, const char *extra)
{
    char left[96];
    int n = snprintf(left, sizeof left, "  %c%c%s--%s%s%s", o->short_name ? '-' : ' ',
                     o->short_name ? o->short_name : ' ', o->short_name ? ", " : "  ", o->name,
                     o->arg ? " " : "", o->arg ? o->arg : "");
    if (n >= HELP_INDENT - 1)
        fprintf(f, "%s\n%*s", left, HELP_INDENT, "");
    else
        fprintf(f, "%-*s", HELP_INDENT, left);
    if (extra) {
        char text[1024];
        snprintf(text, sizeof text, "%s%s", o->help, extra);
        help_lines(f, text);
    } else {
        help_lines(f, o->help);
    }
}

/* What a shared option's help adds for this command: defaults and formats. */
static const char *shared_extra(const struct pk_cmd_spec *s, size_t i, char *buf, size_t size)
{
    const char *name = pk_shared_opts[i].name;
    if (strcmp(name, "reps") == 0 && s->reps_cut)
        snprintf(buf, size, " (default %d;\nwithout --reps, a first run over %g s is the only one)",
                 s->reps_default > 0 ? s->reps_default : 3, PK_REPS_BUDGET_S);
    else if (strcmp(name, "reps") == 0)
        snprintf(buf, size, " (default %d)", s->reps_default > 0 ? s->reps_default : 3);
    else if (strcmp(name, "warmup") == 0)
        snprintf(buf, size, " (default %d)",
                 s->warmup_default < 0 ? 0 : s->warmup_default == 0 ? 1 : s->warmup_default);
    else if (strcmp(name, "format") == 0)
        snprintf(buf, size, ": table (default), %sjson",
                 s->formats & PK_FORMATS_CSV ? "csv (a header row, then rows), " : "");
    else
        return NULL;
    return buf;
}

static bool takes_counts(const struct pk_cmd_spec *s)
{
    for (const struct pk_opt *o = s->opts; o && o->name; o++)
        if (o->kind == PK_OPT_COUNT || o->kind == PK_OPT_LIST)
            return true;
    return s->operands != NULL;
}

void pk_opts_help(const struct pk_cmd_spec *s, FILE *f)
{
    fprintf(f, "Usage: parkit %s %s\n%s\n", s->name, s->synopsis ? s->synopsis : "[options]",
            s->summary);
    if (s->opts && s->opts->name) {
        fprintf(f, "\nOptions:\n");
        for (const struct pk_opt *o = s->opts; o->name; o++)
            if (!o->hidden)
                help_option(f, o, NULL);
    }
    fprintf(f, "\n%s:\n", s->shared ? "Shared options" : "Other options");
    char extra[160];
    for (size_t i = 0; pk_shared_opts[i].name; i++)
        if ((s->shared & pk_shared_bit(i)) && !shadowed(s, &pk_shared_opts[i]))
            help_option(f, &pk_shared_opts[i], shared_extra(s, i, extra, sizeof extra));
    static const struct pk_opt help = {"help", 'h', PK_OPT_FLAG, NULL, NULL, "this help"};
    help_option(f, &help, NULL);
    if (s->description)
        fprintf(f, "\n%s", s->description);
    if (takes_counts(s))
        fprintf(f, "\nCounts accept 1000000, 1e6, 1.5e6 and 2^20.\n");
    fprintf(f, "\n%s", pk_exit_help);
}

/* ---- the table as data (tests, man pages, completions) ----------------------------------- */

static const char *const kind_names[] = {"flag",  "count", "int",  "real",   "seconds",
                                         "size",  "enum",  "list", "string", "path"};

static json_t *opt_json(const struct pk_opt *o)
{
    json_t *j = json_pack("{s:s, s:s, s:s?, s:s, s:b}", "name", o->name, "kind",
                          kind_names[o->kind], "arg", o->arg, "help", o->help, "hidden", o->hidden);
    if (o->short_name)
        json_object_set_new(j, "short", json_stringn(&o->short_name, 1));
    if (o->choices) {
        json_t *c = json_array();
        for (int i = 0; o->choices[i]; i++)
            json_array_append_new(c, json_string(o->choices[i]));
        json_object_set_new(j, "choices", c);
    }
    return j;
}

void pk_opts_json(const struct pk_cmd_spec *s, FILE *f)
{
    json_t *opts = json_array(), *shared = json_array(), *formats = json_array();
    for (const struct pk_opt *o = s->opts; o && o->name; o++)
        json_array_append_new(opts, opt_json(o));
    for (size_t i = 0; pk_shared_opts[i].name; i++)
        if ((s->shared & pk_shared_bit(i)) && !shadowed(s, &pk_shared_opts[i]))
            json_array_append_new(shared, opt_json(&pk_shared_opts[i]));
    json_array_append_new(formats, json_string("table"));
    if (s->formats & PK_FORMATS_CSV)
        json_array_append_new(formats, json_string("csv"));
    json_array_append_new(formats, json_string("json"));
    json_t *j = json_pack("{s:s, s:s?, s:s, s:o, s:o, s:o, s:s?, s:s?}", "command", s->name,
                          "synopsis", s->synopsis, "summary", s->summary, "options", opts,
                          "shared", shared, "formats", formats, "operands", s->operands, "rest",
                          s->rest);
    json_dumpf(j, f, JSON_INDENT(2));
    fputc('\n', f);
    json_decref(j);
}
