/* SPDX-License-Identifier: MIT */
/* parkit report, plots: per group DIR/SLUG.dat (the numbers) and DIR/SLUG.gp (a gnuplot script
 * that draws time, speedup and efficiency as PNG and SVG), kept beside the plots so that a user
 * can edit and redraw them. Plot files appear only complete: gnuplot writes them under a
 * temporary prefix, and they are renamed once all six exist, else removed. */
#include "bigout.h"
#include "commands.h"
#include "interrupt.h"
#include "parkit/atomicfile.h"
#include "report.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const plot_names[] = {"time", "speedup", "efficiency"};
static const char *const plot_exts[] = {"png", "svg"};
enum { NPLOTS = 3, NEXTS = 2 };

/* Keeps [A-Za-z0-9._-], maps the rest to '-'. */
static void slug_part(char *dst, size_t len, const char *src)
{
    size_t n = strlen(dst);
    for (; *src && n + 1 < len; src++) {
        char ch = *src;
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
        dst[n++] = ok ? ch : '-';
    }
    dst[n] = 0;
}

/* KERNEL-MODE-nSIZE, with -2, -3 ... for groups that differ only in provenance. */
static void make_slugs(struct report_set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        struct report_group *g = &s->g[i];
        g->slug[0] = 0;
        slug_part(g->slug, 64, g->kernel);
        slug_part(g->slug, sizeof g->slug, g->weak ? "-weak" : "-strong");
        slug_part(g->slug, sizeof g->slug, g->serial ? "-serial-n" : "-n");
        slug_part(g->slug, 100, g->size);
        int dup = 1;
        for (size_t j = 0; j < i; j++)
            dup += strncmp(s->g[j].slug, g->slug, strlen(g->slug)) == 0 &&
                   (s->g[j].slug[strlen(g->slug)] == 0 || s->g[j].slug[strlen(g->slug)] == '-');
        if (dup > 1) {
            char suffix[16];
            snprintf(suffix, sizeof suffix, "-%d", dup);
            slug_part(g->slug, sizeof g->slug, suffix);
        }
    }
}

/* Text for a gnuplot double-quoted string: quotes and backslashes become '_'. */
static void gp_text(FILE *f, const char *s)
{
    for (; *s; s++)
        fputc(*s == '"' || *s == '\\' || *s == '\n' ? '_' : *s, f);
}

/* Whether the counts double (p0, 2 p0, 4 p0, ...): then the x axes are log2. */
static bool counts_double(const struct report_group *g)
{
    if (g->npt < 3)
        return g->npt == 2 && g->pt[1].workers == 2 * g->pt[0].workers;
    for (size_t k = 0; k < g->npt; k++) {
        double r = (double)g->pt[k].workers / g->pt[0].workers;
        if (r != ldexp(1, (int)lround(log2(r))))
            return false;
    }
    return true;
}

static void write_dat(FILE *d, const struct report_group *g)
{
    fprintf(d, "# parkit report group %d: %s, %s, size %s\n", g->id, g->kernel,
            pk__report_mode_text(g), g->size);
    fprintf(d, "# workers threads ranks median_s min_s max_s ci_lo_s ci_hi_s speedup speedup_lo "
               "speedup_hi efficiency oversubscribed\n");
    for (size_t k = 0; k < g->npt; k++) {
        const struct report_point *p = &g->pt[k];
        fprintf(d, "%d %d %d %.9g %.9g %.9g %.9g %.9g %.9g %.9g %.9g %.9g %d\n", p->workers,
                p->threads, p->ranks, p->median, p->min, p->max, p->ci_lo, p->ci_hi, p->speedup,
                p->speedup_lo, p->speedup_hi, p->eff, p->oversub ? 1 : 0);
    }
}

/* The script's variables: output prefix, data file, base count, label and the model. */
static void write_gp_head(FILE *f, const struct report_group *g)
{
    fprintf(f, "# parkit report: group %d, %s, %s, size %s\n", g->id, g->kernel,
            pk__report_mode_text(g), g->size);
    fprintf(f, "# Redraw with `gnuplot %s.gp` in this directory; edit freely.\n", g->slug);
    fprintf(f, "if (!exists(\"out\")) out = \"%s-\"\n", g->slug);
    fprintf(f, "dat = \"%s.dat\"\n", g->slug);
    fprintf(f, "p0 = %g\n", (double)g->pt[g->base].workers);
    fprintf(f, "label = \"%s%s, %s, size %s%s\\nhost ", g->kernel, g->serial ? " (serial)" : "",
            pk__report_mode_text(g), g->size, g->weak ? " per worker" : "");
    gp_text(f, g->host);
    fprintf(f, ", commit ");
    gp_text(f, g->commit);
    fprintf(f, ", ");
    gp_text(f, g->compiler);
    fprintf(f, "\"\n");
    if (g->fit_ok) {
        if (g->weak)
            fprintf(f, "f = %.9g\nmodel(p) = f + (1 - f) * p / p0\n", g->fit.f);
        else
            fprintf(f, "a = %.9g\nb = %.9g\nmodel(p) = (a + b / p0) / (a + b / p)\n", g->fit.a,
                    g->fit.b);
    }
    fprintf(f, "set grid\nset key top left\nset xlabel \"workers (threads x ranks)\"\n");
}

/* The x range of a plot reaching `top` workers: log2 axes get a margin by ratio. */
static void gp_xrange(FILE *f, bool logx, double xlo, double top)
{
    fprintf(f, "  set xrange [%g:%g]\n", xlo, logx ? top * 1.3 : top + 1);
}

static void write_gp_time(FILE *f, const struct report_group *g, bool logx, double xlo)
{
    fprintf(f, "  set output out . \"time.\" . fmt\n");
    fprintf(f, "  set title \"Time: \" . label\n");
    fprintf(f, "  set ylabel \"time per run (s), median with min..max\"\n");
    gp_xrange(f, logx, xlo, g->pt[g->npt - 1].workers);
    if (logx && !g->weak)
        fprintf(f, "  set logscale y\n");
    fprintf(f, "  set yrange [*:*]\n");
    /* oversubscribed points (more threads than cores) are circled in red on every plot */
    fprintf(f, "  plot dat using 1:4:5:6 with yerrorlines lw 1.5 pt 7 title \"median (bars: "
               "min..max)\", dat using 1:($13 > 0 ? $4 : 1/0) with points pt 6 ps 2.5 lw 1.5 lc "
               "rgb \"red\" title \"oversubscribed\"\n");
    fprintf(f, "  unset logscale y\n");
}

/* The speedup plot reaches the largest predicted count, so the model shows where it leads. */
static void write_gp_speedup(FILE *f, const struct report_group *g, const struct report_opts *o,
                             bool logx, double xlo)
{
    double pmod = g->pt[g->npt - 1].workers;
    struct report_prediction pr[PK_REPORT_MAX_PREDICT];
    size_t np = pk__report_predict(g, o, pr);
    for (size_t i = 0; i < np; i++)
        pmod = pr[i].workers > pmod ? pr[i].workers : pmod;
    fprintf(f, "  set output out . \"speedup.\" . fmt\n");
    fprintf(f, "  set title \"%s: \" . label\n", g->weak ? "Scaled speedup" : "Speedup");
    fprintf(f, "  set ylabel \"%s\"\n",
            g->weak ? "scaled speedup p T(base) / T(p) (ratio; bars: 95% CI)"
                    : "speedup T(base) / T(p) (ratio; bars: 95% CI)");
    gp_xrange(f, logx, xlo, pmod);
    /* log-log where the counts double: the ideal line is then straight */
    fprintf(f, logx ? "  set logscale y 2\n  set yrange [*:*]\n" : "  set yrange [0:*]\n");
    fprintf(f, "  plot x / p0 with lines dt 2 lc rgb \"gray40\" title \"ideal\", "
               "dat using 1:9:10:11 with yerrorlines lw 1.5 pt 7 title \"measured\", "
               "dat using 1:($13 > 0 ? $9 : 1/0) with points pt 6 ps 2.5 lw 1.5 lc rgb \"red\" "
               "title \"oversubscribed\"");
    if (g->fit_ok)
        fprintf(f,
                ", model(x) with lines dt 3 lw 2 title sprintf(\"%s fit, f = %%.4f (model)\", "
                "%.9g)",
                pk__report_model_name(g), pk__report_tidy(g->fit.f));
    fprintf(f, "\n  unset logscale y\n");
}

static void write_gp_efficiency(FILE *f, const struct report_group *g, bool logx, double xlo)
{
    fprintf(f, "  set output out . \"efficiency.\" . fmt\n");
    fprintf(f, "  set title \"Parallel efficiency: \" . label\n");
    fprintf(f, "  set ylabel \"efficiency %s (fraction of ideal)\"\n",
            g->weak ? "T(base) / T(p)" : "speedup / p");
    gp_xrange(f, logx, xlo, g->pt[g->npt - 1].workers);
    fprintf(f, "  set yrange [0:1.2]\n");
    fprintf(f, "  plot 1 with lines dt 2 lc rgb \"gray40\" title \"ideal\", "
               "dat using 1:12 with linespoints lw 1.5 pt 7 title \"measured\", "
               "dat using 1:($13 > 0 ? $12 : 1/0) with points pt 6 ps 2.5 lw 1.5 lc rgb \"red\" "
               "title \"oversubscribed\"\n");
}

/* The script writes OUT.time.png etc.; run as parkit runs it, OUT is a temporary prefix; run by
 * hand it is SLUG-. */
static void write_gp(FILE *f, const struct report_group *g, const struct report_opts *o)
{
    bool logx = counts_double(g);
    double p0 = g->pt[g->base].workers;
    double xlo = logx ? p0 / 1.3 : (p0 > 1 ? p0 - 1 : 0);
    write_gp_head(f, g);
    if (logx)
        fprintf(f, "set logscale x 2\n");
    fprintf(f, "set format x \"%%g\"\n");
    fprintf(f, "do for [fmt in \"png svg\"] {\n");
    fprintf(f, "  if (fmt eq \"png\") { set terminal pngcairo noenhanced size 900,600 } "
               "else { set terminal svg noenhanced size 900,600 }\n");
    write_gp_time(f, g, logx, xlo);
    write_gp_speedup(f, g, o, logx, xlo);
    write_gp_efficiency(f, g, logx, xlo);
    fprintf(f, "  set output\n}\n");
}

/* Writes text (its last newline dropped: pk_atomicfile_write_lines ends the line) to DIR/SLUG.EXT
 * atomically. Returns a pk_status. */
static int write_text(const char *dir, const char *slug, const char *ext, char *text,
                      struct pk_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.%s", dir, slug, ext);
    size_t len = strlen(text);
    if (len && text[len - 1] == '\n')
        text[len - 1] = 0;
    char *lines[1] = {text};
    return pk_atomicfile_write_lines(path, lines, 1, err);
}

/* Writes DIR/SLUG.dat and DIR/SLUG.gp. Returns a pk_status. */
static int write_plot_inputs(const char *dir, const struct report_group *g,
                             const struct report_opts *o, struct pk_err *err)
{
    char *dat = NULL, *gp = NULL;
    size_t dlen = 0, glen = 0;
    FILE *d = open_memstream(&dat, &dlen);
    FILE *f = d ? open_memstream(&gp, &glen) : NULL;
    if (!f) {
        if (d)
            fclose(d);
        free(dat);
        return pk_fail(err, PK_ENOMEM, "out of memory");
    }
    write_dat(d, g);
    fclose(d);
    write_gp(f, g, o);
    fclose(f);
    int rc = write_text(dir, g->slug, "dat", dat, err);
    if (rc == PK_OK)
        rc = write_text(dir, g->slug, "gp", gp, err);
    free(dat);
    free(gp);
    return rc;
}

/* One group's plots while gnuplot draws them under temporary names: what the interrupt handler
 * removes (and the child it stops) when a signal ends the run meanwhile. */
struct drawing {
    char tmp[NPLOTS * NEXTS][4096];
    atomic_int pid; /* gnuplot while it runs, else 0 */
};

/* Async-signal-safe: kill, waitpid and unlink only. */
static void drop_drawing(void *arg)
{
    struct drawing *d = arg;
    pid_t pid = atomic_load(&d->pid);
    if (pid > 0 && kill(pid, SIGKILL) == 0)
        waitpid(pid, NULL, 0);
    for (size_t i = 0; i < NPLOTS * NEXTS; i++)
        unlink(d->tmp[i]);
}

/* Runs `gnuplot -e "out='PREFIX'" SLUG.gp` in dir; stdout goes to stderr so that ours carries
 * results only. Returns the exit status, 127 when gnuplot cannot be started. */
static int run_gnuplot(const char *dir, const char *slug, const char *prefix, atomic_int *child)
{
    char script[256], expr[512];
    snprintf(script, sizeof script, "%s.gp", slug);
    snprintf(expr, sizeof expr, "out='%s'", prefix);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        return 127;
    if (pid == 0) {
        if (chdir(dir) != 0)
            _exit(126);
        dup2(STDERR_FILENO, STDOUT_FILENO);
        execlp("gnuplot", "gnuplot", "-e", expr, script, (char *)NULL);
        _exit(127);
    }
    atomic_store(child, pid);
    int st;
    pid_t got;
    while ((got = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
        continue;
    atomic_store(child, 0);
    if (got < 0)
        return 127;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* Renames the six plots gnuplot wrote under prefix to their final names when all six are there
 * and not empty; otherwise (or when a rename fails) removes what is left under the prefix.
 * Returns whether all six are in place; *status becomes PK_EXIT_RUNTIME after a failed rename. */
static bool keep_plots(const char *dir, const char *slug, char (*tmp)[4096], bool drawn,
                       int *status)
{
    struct stat st;
    bool complete = drawn;
    for (size_t i = 0; i < NPLOTS * NEXTS; i++)
        complete = complete && stat(tmp[i], &st) == 0 && st.st_size > 0;
    for (size_t i = 0; i < NPLOTS * NEXTS; i++) {
        char final[4096];
        snprintf(final, sizeof final, "%s/%s-%s.%s", dir, slug, plot_names[i / NEXTS],
                 plot_exts[i % NEXTS]);
        if (complete && rename(tmp[i], final) != 0) {
            pk_error(NULL, false, "report", "cannot rename to '%s': %s", final, strerror(errno));
            complete = false;
            *status = PK_EXIT_RUNTIME;
        }
        if (!complete)
            unlink(tmp[i]);
    }
    return complete;
}

/* Draws one group's plots into dir. Returns an exit status. */
static int draw_group(const char *dir, const struct report_group *g, const struct report_opts *o)
{
    struct pk_err err = {0};
    if (write_plot_inputs(dir, g, o, &err) != PK_OK) {
        pk_error(NULL, false, "report", "%s", err.msg);
        return PK_EXIT_RUNTIME;
    }
    char prefix[200];
    snprintf(prefix, sizeof prefix, ".tmp.%ld.%s-", (long)getpid(), g->slug);
    struct drawing *d = calloc(1, sizeof *d);
    if (!d) {
        pk_error(NULL, false, "report", "out of memory");
        return PK_EXIT_RUNTIME;
    }
    for (size_t i = 0; i < NPLOTS * NEXTS; i++)
        snprintf(d->tmp[i], sizeof d->tmp[i], "%s/%s%s.%s", dir, prefix, plot_names[i / NEXTS],
                 plot_exts[i % NEXTS]);
    int cleanup = pk_interrupt_cleanup_add(drop_drawing, d);
    int rc = run_gnuplot(dir, g->slug, prefix, &d->pid);
    int status = PK_EXIT_OK;
    bool complete = keep_plots(dir, g->slug, d->tmp, rc == 0, &status);
    pk_interrupt_cleanup_remove(cleanup);
    free(d);
    if (rc == 127) {
        pk_error(NULL, false, "report",
                 "cannot run gnuplot (is it installed?): no plots drawn; the scripts and data "
                 "are in '%s' (%s.gp)",
                 dir, g->slug);
        status = PK_EXIT_RUNTIME;
    } else if (!complete && status == PK_EXIT_OK) {
        pk_error(NULL, false, "report", "gnuplot %s on '%s/%s.gp' (exit %d): no plots of it left",
                 rc == 0 ? "did not write all six plots" : "failed", dir, g->slug, rc);
        status = PK_EXIT_RUNTIME;
    } else if (complete) {
        fprintf(stderr,
                "parkit report: plots of group %d in %s/%s-{time,speedup,efficiency}.{png,svg}\n",
                g->id, dir, g->slug);
    }
    return status;
}

int pk__report_write_plots(struct report_set *s, const struct report_opts *o)
{
    const char *dir = o->plots;
    make_slugs(s);
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        pk_error(NULL, false, "report", "cannot create --plots directory '%s': %s", dir,
                 strerror(errno));
        return PK_EXIT_RUNTIME;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        pk_error(NULL, false, "report", "--plots '%s' is not a directory", dir);
        return PK_EXIT_RUNTIME;
    }
    int status = PK_EXIT_OK;
    for (size_t gi = 0; gi < s->n && status == PK_EXIT_OK; gi++)
        status = draw_group(dir, &s->g[gi], o);
    return status;
}
