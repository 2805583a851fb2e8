/* SPDX-License-Identifier: MIT */
/* parkit fetch: real HTTP(S) GETs on the io/ pool, the tutorials' threaded downloads and
 * fetch_url_info. The HTTP client is io/http (libcurl: retries with backoff, redirect limit,
 * http/https only, atomic saves); this file is the command, in phases: parse the options, plan
 * (URL list, output names, --out created, one client per worker), run (optionally a sequential
 * pass first, then the pool), verify, emit.
 *
 * Each worker owns one client for the whole run (handed out through a queue), so connections and
 * DNS results are reused as a browser or curl would.
 *
 * Verified: every 2xx body has the length the server announced; a saved file, read back, has
 * the bytes and CRC-32 that came off the wire. With --compare each run is checked so on its own;
 * URLs whose bytes differ between the two runs (pages that change between requests) are
 * counted and warned about, and fail verification only under --expect-identical. */
#include "commands.h"
#include "emit.h"
#include "interrupt.h"
#include "opt.h"
#include "parkit/http.h"
#include "parkit/lines.h"
#include "parkit/loop.h"
#include "parkit/outdir.h"
#include "parkit/pool.h"
#include "record.h"
#include "sysinfo.h"
#include "timing.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define MAX_RETRIES 10
#define MAX_URLS    (UINT64_C(1) << 24)

static const char description[] =
    "Connections are kept alive and reused. Prints, per URL in the order given, the HTTP\n"
    "status, bytes, seconds, attempts and any error, then requests/s and MB/s.\n"
    "\n"
    "A URL is a failure when it could not be fetched or its final status is not 2xx. Verified:\n"
    "each 2xx body has the announced Content-Length and each saved file reads back with the\n"
    "same bytes and CRC-32 (exit 3 otherwise). With --compare, URLs whose bytes differ between\n"
    "the two runs (a page that changes between requests) are counted with a warning; they fail\n"
    "verification only with --expect-identical.\n"
    "--format csv: a header, then one row per URL in the order given (--quiet does not apply).\n"
    "Ctrl-C cancels what has not finished, aborts transfers within about a second, reports what\n"
    "finished and exits 1; a second Ctrl-C exits at once.\n";

enum { ENGINE_THREADS, ENGINE_LOOP };
static const char *const engine_names[] = {"threads", "loop", NULL};

struct fetch_opts {
    uint64_t workers, retries, max_redirs, max_bytes;
    int engine; /* ENGINE_* */
    double connect_timeout_s, timeout_s, backoff_s;
    const char *out_dir, *url_file;
    bool force, compare, expect_identical, quiet, canary;
    struct pk_common_opts common;
};

/* What every job of a run shares. Read-only while jobs run; the queue is thread-safe. */
struct shared {
    const struct fetch_opts *o;
    struct pk_queue *clients; /* idle io/http clients, one per worker */
    unsigned file_mode;       /* of saved files: 0666 less the umask */
};

struct url_result {
    struct pk_http_result h;
    bool ok;
    char error[sizeof((struct pk_err *)0)->msg];
};

/* One URL's task; written only by the thread that runs it, read after its future completes. */
struct job {
    const struct shared *s;
    const char *url;
    const char *name;                /* file name in --out, NULL when not saving */
    const struct pk_http_save *save; /* --out/name, NULL when not saving */
    struct url_result r;
};

/* The whole run, phase to phase. */
struct run {
    char **urls, **names, **paths; /* paths: --out/name, made with the names */
    struct pk_http_save *saves;
    size_t n;
    struct job *jobs, *seq; /* seq: the --compare sequential pass, else NULL */
    struct shared s;
    int rc; /* PK_OK unless the run itself (not a URL) failed */
    bool interrupted;
    size_t finished, failed, retried, bad;
    size_t differ, first_differ; /* --compare: URLs whose bytes differ between the runs */
    uint64_t bytes;
    double seq_s, pool_s;
    char first_bad[PATH_MAX + 128];
};

/* What the table cannot say: one process, one URL source, a canary only when verifying. */
static int check_parsed(const struct pk_comm *c, const struct fetch_opts *o,
                        const struct pk_args *args)
{
    if (pk_cli_single_process(c, "fetch") != PK_EXIT_OK)
        return PK_EXIT_USAGE;
    if (o->url_file && args->noperands > 0)
        return pk_usage_error(c, "fetch",
                              "give URLs as operands or --url-file, not both (got '%s')",
                              args->operand[0]);
    if (o->expect_identical && !o->compare)
        return pk_usage_error(c, "fetch", "--expect-identical compares two runs: add --compare");
    if (o->canary && o->common.no_verify)
        return pk_usage_error(c, "fetch",
                              "--canary proves that verification fails; drop --no-verify");
    return PK_EXIT_OK;
}

/* Fills o and args (the URL operands) from argv. Returns PK_EXIT_OK to go on, else the
 * pk_opts_parse result or a usage error that was printed. */
static int parse(int argc, char **argv, const struct pk_comm *c, struct fetch_opts *o,
                 struct pk_args *args)
{
    *o = (struct fetch_opts){.workers = 8,
                             .retries = 2,
                             .max_redirs = 5,
                             .max_bytes = UINT64_C(1) << 30,
                             .connect_timeout_s = 10,
                             .timeout_s = 60,
                             .backoff_s = 0.2};
    const struct pk_opt table[] = {
        {"url-file", 0, PK_OPT_PATH, &o->url_file, "FILE",
         "URLs one per line ('-' for stdin); blank lines and # comments\nare skipped"},
        {"workers", 0, PK_OPT_COUNT, &o->workers, "W",
         "concurrent requests, 1..16384 (default 8); threads: more than\n"
         "1024 need a higher open-file limit (ulimit -n)",
         .min = 1, .max = 16384},
        {"engine", 0, PK_OPT_ENUM, &o->engine, "E",
         "threads: a pool thread and a libcurl handle per request in\n"
         "flight; loop: one event loop per core, each a libcurl multi\n"
         "handle holding many transfers (default threads)",
         .choices = engine_names},
        {"connect-timeout", 0, PK_OPT_SECONDS, &o->connect_timeout_s, "S",
         "time to connect (default 10s)", .rmin = 0.001, .rmax = 3600},
        {"timeout", 0, PK_OPT_SECONDS, &o->timeout_s, "S", "time for a whole request (default 60s)",
         .rmin = 0.001, .rmax = 86400},
        {"retries", 0, PK_OPT_COUNT, &o->retries, "R",
         "attempts after a transient failure: connect error, timeout,\n"
         "truncated reply, HTTP 408, 429 or 5xx; 0..10 (default 2)",
         .max = MAX_RETRIES},
        {"backoff", 0, PK_OPT_SECONDS, &o->backoff_s, "S",
         "the first retry waits S, doubling each time up to 30s;\n"
         "a Retry-After header wins (default 0.2s)",
         .rmax = PK_HTTP_BACKOFF_CAP_S},
        {"max-redirects", 0, PK_OPT_COUNT, &o->max_redirs, "N",
         "redirects followed, 0..50 (default 5); http and https only", .max = 50},
        {"max-bytes", 0, PK_OPT_SIZE, &o->max_bytes, "BYTES",
         "a larger body fails, at most 1TiB (default 1GiB)", .max = UINT64_C(1) << 40},
        {"out", 0, PK_OPT_PATH, &o->out_dir, "DIR",
         "save each 2xx body as DIR/<last path segment> ('index.html'\n"
         "when empty, cut to 200 bytes when longer, with a warning; '.K'\n"
         "appended to a name used earlier in the list),\n"
         "written under a temporary name and renamed when complete, with\n"
         "the mode any new file gets (0666 less the umask); DIR is\n"
         "created with its missing parents when it does not exist; an\n"
         "existing file is an error for that URL unless --force"},
        {"force", 0, PK_OPT_FLAG, &o->force, NULL, "replace existing files in DIR"},
        {"compare", 0, PK_OPT_FLAG, &o->compare, NULL,
         "fetch every URL one after another first, then on the pool, and\n"
         "print the speedup (the sequential run saves nothing)"},
        {"expect-identical", 0, PK_OPT_FLAG, &o->expect_identical, NULL,
         "with --compare: a URL whose bytes differ between the two runs\n"
         "fails verification (default: counted, with a warning)"},
        {"quiet", 0, PK_OPT_FLAG, &o->quiet, NULL,
         "no per-URL lines in the table, only the summary"},
        {"canary", 0, PK_OPT_FLAG, &o->canary, NULL,
         "corrupt one result after the run, to prove verification fails"},
        {NULL},
    };
    /* No -t (no OpenMP) and no --reps/--warmup (one run; parkit scale fetch repeats it). */
    const struct pk_cmd_spec spec = {
        .name = "fetch",
        .synopsis = "URL... [options]\n       parkit fetch --url-file FILE [options]",
        .summary = "HTTP(S) GET of every URL on a pool of worker threads, one libcurl handle each.",
        .description = description,
        .opts = table,
        .shared = PK_SHARED_RECORD | PK_SHARED_FORMAT | PK_SHARED_NO_VERIFY,
        .formats = PK_FORMATS_CSV,
        .operands = "URL",
    };
    int status = pk_opts_parse(&spec, c, argc, argv, &o->common, args);
    return status == PK_EXIT_OK ? check_parsed(c, o, args) : status;
}

/* The next URL candidate: the next non-blank, non-comment line of f (trimmed, in *line), or
 * the next operand when f is NULL. NULL at the end, or with *len a PK_LINE_* error. */
static const char *next_url(FILE *f, char **line, size_t *cap, size_t *lineno,
                            const struct pk_args *args, size_t *arg, ssize_t *len_out)
{
    if (!f)
        return *arg < args->noperands ? args->operand[(*arg)++] : NULL;
    ssize_t len;
    /* a URL line is short: the cap only stops /dev/zero and files with no newline */
    while ((len = pk_line_read(f, line, cap, PK_LINE_MAX)) >= 0) {
        (*lineno)++;
        while (len > 0 && strchr("\r\n \t", (*line)[len - 1]))
            (*line)[--len] = '\0';
        const char *u = *line + strspn(*line, " \t");
        if (*u && *u != '#')
            return u;
    }
    *len_out = len;
    return NULL;
}

/* Appends a copy of u to the list. */
static int push_url(char ***list, size_t *count, size_t *cap, const char *u, struct pk_err *err)
{
    if (*count == MAX_URLS)
        return pk_fail(err, PK_EINVAL, "more than %llu URLs", (unsigned long long)MAX_URLS);
    if (*count == *cap) {
        size_t grown_cap = *cap ? 2 * *cap : 16;
        char **grown = realloc(*list, grown_cap * sizeof *grown);
        if (!grown)
            return pk_fail(err, PK_ENOMEM, "out of memory");
        *list = grown;
        *cap = grown_cap;
    }
    (*list)[*count] = strdup(u);
    if (!(*list)[*count])
        return pk_fail(err, PK_ENOMEM, "out of memory");
    (*count)++;
    return PK_OK;
}

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

/* Reads the URL list: the operands, or file (one per line, '#' comments). Each must be an
 * http:// or https:// URL. */
static int read_urls(const char *file, const struct pk_args *args, char ***urls, size_t *n,
                     struct pk_err *err)
{
    FILE *f = NULL;
    if (file) {
        f = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
        if (!f)
            return pk_fail(err, PK_EINVAL, "cannot open --url-file '%s': %s", file,
                           strerror(errno));
    }
    char **list = NULL, *line = NULL;
    size_t count = 0, cap = 0, linecap = 0, lineno = 0;
    size_t arg = 0;
    int rc = PK_OK;
    const char *u;
    ssize_t end = PK_LINE_EOF;
    while (rc == PK_OK && (u = next_url(f, &line, &linecap, &lineno, args, &arg, &end))) {
        if (strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0)
            rc = push_url(&list, &count, &cap, u, err);
        else if (f)
            rc = pk_fail(err, PK_EINVAL,
                         "--url-file '%s' line %zu: '%s' is not an http:// or https:// URL", file,
                         lineno, u);
        else
            rc = pk_fail(err, PK_EINVAL, "'%s' is not an http:// or https:// URL", u);
    }
    if (end == PK_LINE_TOO_LONG && rc == PK_OK)
        rc = pk_fail(err, PK_EINVAL, "--url-file '%s' line %zu: longer than %u MiB", file,
                     lineno + 1, PK_LINE_MAX >> 20);
    else if (end == PK_LINE_NOMEM && rc == PK_OK)
        rc = pk_fail(err, PK_ENOMEM, "out of memory reading --url-file '%s'", file);
    else if (end == PK_LINE_ERROR && rc == PK_OK)
        rc = pk_fail(err, PK_EINVAL, "cannot read --url-file '%s': %s", file, strerror(errno));
    free(line);
    if (f && f != stdin)
        fclose(f);
    if (rc == PK_OK && count == 0)
        rc = pk_fail(err, PK_EINVAL, "no URLs given (operands or --url-file)");
    if (rc != PK_OK) {
        free_strings(list, count);
        return rc;
    }
    *urls = list;
    *n = count;
    return PK_OK;
}

/* io/http's abort hook: Ctrl-C. Any worker thread; reads a flag a signal handler sets. */
static bool interrupted_hook(void *ctx)
{
    (void)ctx;
    return pk_interrupted();
}

static void destroy_client(void *h)
{
    pk_http_destroy(h);
}

/* One URL, every attempt, on a pool thread (or the caller's for --compare). */
static int fetch_one(void *arg, struct pk_cancel *cancel, void **result, struct pk_err *err)
{
    struct job *j = arg;
    const struct shared *s = j->s;
    (void)result;
    void *client = NULL;
    if (pk_queue_pop(s->clients, &client) != PK_OK) /* never waits: at most one job per worker */
        return pk_fail(err, PK_ECLOSED, "no client");
    struct pk_err e = {0};
    int rc = pk_http_get(client, j->url, NULL, j->save, cancel, &j->r.h, &e);
    pk_queue_push(s->clients, client); /* cannot fail: it has room for every client */
    j->r.ok = rc == PK_OK;
    snprintf(j->r.error, sizeof j->r.error, "%s", rc == PK_OK ? "" : e.msg);
    return rc == PK_OK ? PK_OK : pk_fail(err, rc, "%s", e.msg);
}

static struct pk_http_opts http_opts(const struct fetch_opts *o)
{
    return (struct pk_http_opts){.connect_timeout_s = o->connect_timeout_s,
                                 .timeout_s = o->timeout_s,
                                 .max_redirects = (unsigned)o->max_redirs,
                                 .retries = (unsigned)o->retries,
                                 .backoff_s = o->backoff_s,
                                 .max_bytes = o->max_bytes,
                                 .user_agent = "parkit/" PK_VERSION,
                                 .abort_requested = interrupted_hook};
}

/* One io/http client per pool worker, idle in r->s.clients (the loop engine makes its own; its
 * --compare pass takes one). */
static int make_clients(const struct fetch_opts *o, struct run *r, struct pk_err *err)
{
    struct pk_http_opts ho = http_opts(o);
    uint64_t count = o->engine == ENGINE_LOOP ? 1 : o->workers;
    int rc = pk_queue_create(count, destroy_client, &r->s.clients);
    for (uint64_t w = 0; rc == PK_OK && w < count; w++) {
        struct pk_http *h = NULL;
        rc = pk_http_create(&ho, &h, err);
        if (rc == PK_OK && pk_queue_push(r->s.clients, h) != PK_OK) {
            pk_http_destroy(h);
            rc = pk_fail(err, PK_ENOMEM, "out of memory");
        }
    }
    return rc;
}

/* Where each body is saved: the paths live as long as the run, for either engine. */
static bool make_saves(const struct fetch_opts *o, struct run *r)
{
    r->paths = calloc(r->n, sizeof *r->paths);
    r->saves = calloc(r->n, sizeof *r->saves);
    for (size_t i = 0; r->paths && r->saves && i < r->n; i++) {
        size_t len = strlen(o->out_dir) + strlen(r->names[i]) + 2;
        if (!(r->paths[i] = malloc(len)))
            return false;
        snprintf(r->paths[i], len, "%s/%s", o->out_dir, r->names[i]);
        r->saves[i] =
            (struct pk_http_save){.path = r->paths[i], .mode = r->s.file_mode, .force = o->force};
    }
    return r->paths && r->saves;
}

/* The URL list read, --out made ready (created when missing), names and jobs laid out, the
 * clients made. Returns -1 to go on, else the exit status (the error printed). */
static int plan(const struct pk_args *args, const struct pk_comm *c, const struct fetch_opts *o,
                struct run *r)
{
    struct pk_err err = {0};
    r->s.o = o;
    mode_t mask = umask(0); /* no other thread yet: reading the umask sets it for a moment */
    umask(mask);
    r->s.file_mode = 0666 & ~mask;
    if (read_urls(o->url_file, args, &r->urls, &r->n, &err) != PK_OK) {
        pk_error(c, false, "fetch", "%s", err.msg);
        return err.status == PK_ENOMEM ? PK_EXIT_RUNTIME : PK_EXIT_USAGE;
    }
    if (o->out_dir && pk_outdir_make(o->out_dir, NULL, &err) != PK_OK) {
        pk_error(c, false, "fetch", "--out: %s", err.msg);
        return err.status == PK_EINVAL ? PK_EXIT_USAGE : PK_EXIT_RUNTIME;
    }
    size_t cut = 0;
    if (o->out_dir && pk_http_file_names(r->urls, r->n, &r->names, &cut, &err) != PK_OK)
        r->names = NULL;
    if (cut) /* said, since the file names then differ from the URLs' */
        fprintf(stderr,
                "parkit fetch: warning: %zu %s a last path segment longer than %d bytes, "
                "cut to %d for the file name\n",
                cut, cut == 1 ? "URL has" : "URLs have", PK_HTTP_NAME_MAX, PK_HTTP_NAME_MAX);
    r->jobs = calloc(r->n, sizeof *r->jobs);
    r->seq = o->compare ? calloc(r->n, sizeof *r->seq) : NULL;
    if ((o->out_dir && !r->names) || !r->jobs || (o->compare && !r->seq)) {
        pk_error(c, false, "fetch", "out of memory");
        return PK_EXIT_RUNTIME;
    }
    if (r->names && !make_saves(o, r)) {
        pk_error(c, false, "fetch", "out of memory");
        return PK_EXIT_RUNTIME;
    }
    for (size_t i = 0; i < r->n; i++) {
        r->jobs[i] = (struct job){.s = &r->s, .url = r->urls[i]};
        r->jobs[i].name = r->names ? r->names[i] : NULL;
        r->jobs[i].save = r->saves ? &r->saves[i] : NULL;
        if (r->seq)
            r->seq[i] = (struct job){.s = &r->s, .url = r->urls[i]};
    }
    if (make_clients(o, r, &err) != PK_OK) {
        pk_error(c, false, "fetch", "%s", err.msg);
        return PK_EXIT_RUNTIME;
    }
    return -1;
}

/* Runs every job on a pool of o->workers threads, in completion order; Ctrl-C cancels what has
 * not finished. Sets r->finished and r->pool_s. */
static int run_pooled(const struct fetch_opts *o, struct run *r)
{
    struct pk_pool *pool = NULL;
    struct pk_queue *done = NULL;
    struct pk_future **fut = calloc(r->n, sizeof *fut);
    int rc = fut ? pk_pool_create((int)o->workers, &pool) : PK_ENOMEM;
    if (rc == PK_OK)
        rc = pk_queue_create(r->n, pk_future_release_item, &done);
    r->finished = 0;
    double t0 = pk_now_s();
    for (size_t i = 0; rc == PK_OK && i < r->n; i++)
        if (pk_pool_submit(pool, fetch_one, &r->jobs[i], 0, done, &fut[i]) != PK_OK)
            rc = PK_ENOMEM;
    while (rc == PK_OK && r->finished < r->n) {
        void *f;
        int prc = pk_queue_pop_timed(done, &f, 0.05);
        if (prc == PK_OK) {
            pk_future_wait(f, -1, NULL, NULL); /* the job's own result says what happened */
            pk_future_release(f); /* also when Ctrl-C came with it: a popped one is ours */
            r->finished++;
        }
        if (pk_interrupted()) {
            pk_pool_shutdown(pool, true, NULL);
            break;
        }
    }
    r->pool_s = pk_now_s() - t0;
    if (pool)
        pk_pool_shutdown(pool, true, NULL);
    for (size_t i = 0; fut && i < r->n; i++)
        pk_future_release(fut[i]);
    pk_pool_destroy(pool);
    pk_queue_destroy(done);
    free(fut);
    return rc;
}

/* What a loop task's fetch did, in the job's result (a task cancelled before it started is
 * "not started", as with threads). */
static void loop_result(struct job *j, struct pk_ltask *t, const struct pk_http_fetch *f)
{
    struct pk_err e = {0};
    int st = pk_ltask_wait(t, 0, NULL, &e);
    j->r.h = f->res;
    j->r.ok = st == PK_OK;
    bool never_ran = st == PK_ECANCELED && f->res.attempts == 0;
    snprintf(j->r.error, sizeof j->r.error, "%s", st == PK_OK || never_ran ? "" : e.msg);
    pk_ltask_release(t);
}

/* The same jobs as libcurl multi transfers on min(cores, W) event loops, at most W in flight. */
static int run_loop(const struct fetch_opts *o, struct run *r)
{
    struct pk_http_opts ho = http_opts(o);
    struct pk_http_loop *hl = NULL;
    struct pk_loop *l = NULL;
    struct pk_queue *done = NULL;
    struct pk_loop_hooks hooks;
    struct pk_err err = {0};
    struct pk_http_fetch *f = calloc(r->n, sizeof *f);
    struct pk_ltask **t = calloc(r->n, sizeof *t);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = (int)(cores < 1 ? 1 : (uint64_t)cores < o->workers ? cores : (long)o->workers);
    int rc = f && t ? pk_http_loop_create(&ho, &hl, &err) : PK_ENOMEM;
    if (rc == PK_OK) {
        pk_http_loop_hooks(hl, &hooks);
        rc = pk_loop_create(threads > 256 ? 256 : threads, o->workers, &hooks, &l);
    }
    if (rc == PK_OK)
        rc = pk_queue_create(r->n, pk_ltask_release_item, &done);
    for (size_t i = 0; rc == PK_OK && i < r->n; i++) {
        f[i] = (struct pk_http_fetch){.url = r->jobs[i].url, .save = r->jobs[i].save};
        rc = pk_loop_submit(l, &pk_http_fetch_ops, &f[i], 0, done, &t[i]);
    }
    double t0 = pk_now_s();
    r->finished = 0;
    while (rc == PK_OK && r->finished < r->n) {
        void *item;
        if (pk_queue_pop_timed(done, &item, 0.05) == PK_OK) {
            pk_ltask_release(item);
            r->finished++;
        }
        if (pk_interrupted()) {
            pk_loop_shutdown(l, true, NULL);
            break;
        }
    }
    r->pool_s = pk_now_s() - t0;
    if (l)
        pk_loop_shutdown(l, true, NULL);
    for (size_t i = 0; t && i < r->n; i++)
        if (t[i])
            loop_result(&r->jobs[i], t[i], &f[i]);
    pk_loop_destroy(l);
    pk_http_loop_destroy(hl);
    pk_queue_destroy(done);
    free(f);
    free(t);
    return rc;
}

/* The sequential pass (--compare), then the pooled one; then the counts. */
static void run(const struct fetch_opts *o, struct run *r)
{
    pk_interrupt_install();
    if (r->seq) {
        double t0 = pk_now_s();
        for (size_t i = 0; i < r->n && !pk_interrupted(); i++)
            fetch_one(&r->seq[i], NULL, NULL, NULL);
        r->seq_s = pk_now_s() - t0;
    }
    if (!pk_interrupted())
        r->rc = o->engine == ENGINE_LOOP ? run_loop(o, r) : run_pooled(o, r);
    pk_interrupt_restore();
    r->interrupted = pk_interrupted();
    for (size_t i = 0; r->rc == PK_OK && i < r->n; i++) {
        struct url_result *u = &r->jobs[i].r;
        if (u->h.attempts == 0 && !u->error[0])
            snprintf(u->error, sizeof u->error, "not started");
        r->failed += !u->ok;
        r->retried += u->h.attempts > 1 ? (size_t)u->h.attempts - 1 : 0;
        r->bytes += u->h.bytes;
    }
}

/* Reads a saved file back: its size and CRC-32 must be what came off the wire. */
static bool saved_matches(const char *dir, const char *name, const struct pk_http_result *h)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    uLong crc = crc32(0L, Z_NULL, 0);
    uint64_t bytes = 0;
    unsigned char buf[65536];
    ssize_t got;
    while ((got = read(fd, buf, sizeof buf)) > 0) {
        crc = crc32(crc, buf, (uInt)got);
        bytes += (uint64_t)got;
    }
    close(fd);
    return got == 0 && bytes == h->bytes && crc == h->crc32;
}

/* Corrupts one saved byte (or, without --out, one byte count) of the first good result. */
static void apply_canary(const struct fetch_opts *o, struct job *jobs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!jobs[i].r.ok)
            continue;
        if (o->out_dir && jobs[i].r.h.bytes > 0) {
            char path[PATH_MAX];
            snprintf(path, sizeof path, "%s/%s", o->out_dir, jobs[i].name);
            int fd = open(path, O_RDWR | O_CLOEXEC);
            unsigned char b;
            if (fd >= 0 && pread(fd, &b, 1, 0) == 1) {
                b ^= 1;
                if (pwrite(fd, &b, 1, 0) != 1)
                    jobs[i].r.h.bytes++;
            }
            if (fd >= 0)
                close(fd);
        } else {
            jobs[i].r.h.bytes++;
        }
        return;
    }
}

/* Whether URL i got different bytes in the sequential and the pooled run (both 2xx). */
static bool runs_differ(const struct run *r, size_t i)
{
    const struct url_result *u = &r->jobs[i].r, *q = &r->seq[i].r;
    return u->ok && q->ok && (q->h.bytes != u->h.bytes || q->h.crc32 != u->h.crc32);
}

/* Checks every result; sets r->bad to the number of URLs that fail a check and describes the
 * first in r->first_bad. Nothing is read back under --no-verify. Counts the URLs whose runs
 * differ (--compare) whatever the verification. */
static void verify(const struct fetch_opts *o, struct run *r)
{
    if (r->rc != PK_OK)
        return;
    for (size_t i = r->n; r->seq && i-- > 0;)
        if (runs_differ(r, i)) {
            r->differ++;
            r->first_differ = i;
        }
    if (o->common.no_verify)
        return;
    if (o->canary)
        apply_canary(o, r->jobs, r->n);
    for (size_t i = 0; i < r->n; i++) {
        const struct url_result *u = &r->jobs[i].r;
        const char *why = NULL;
        if (u->ok && u->h.announced >= 0 && (uint64_t)u->h.announced != u->h.bytes)
            why = "body length differs from Content-Length";
        else if (u->ok && o->out_dir && !saved_matches(o->out_dir, r->jobs[i].name, &u->h))
            why = "saved file does not read back as received";
        else if (o->expect_identical && runs_differ(r, i))
            why = "sequential and pooled runs got different bytes (--expect-identical)";
        if (why && r->bad++ == 0)
            snprintf(r->first_bad, sizeof r->first_bad, "%s: %s", r->jobs[i].url, why);
    }
}

static bool verified(const struct run *r)
{
    return r->rc == PK_OK && !r->interrupted && r->bad == 0;
}

static json_t *results_json(const struct job *jobs, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        const struct url_result *u = &jobs[i].r;
        json_array_append_new(a, json_pack("{s:o, s:I, s:I, s:f, s:i, s:b, s:o}", "url",
                                           pk_json_text(jobs[i].url), "status",
                                           (json_int_t)u->h.status, "bytes", (json_int_t)u->h.bytes,
                                           "time_s", u->h.time_s, "attempts", u->h.attempts, "ok",
                                           u->ok, "error", pk_json_text(u->error)));
    }
    return a;
}

/* How the run was checked, and the first URL that failed a check. */
static json_t *verification_json(const struct fetch_opts *o, const struct run *r)
{
    json_t *v =
        json_pack("{s:s, s:I}", "method",
                  o->expect_identical ? "Content-Length, saved files' bytes and CRC-32 read back, "
                                        "sequential and pooled runs' bytes and CRC-32"
                                      : "Content-Length, saved files' bytes and CRC-32 read back",
                  "urls_bad", (json_int_t)r->bad);
    if (r->bad)
        json_object_set_new(v, "first_bad", pk_json_text(r->first_bad));
    return v;
}

/* The run as a record: params, result, verdict, timing, provenance (owned by the caller). */
static json_t *make_record(const struct fetch_opts *o, const struct run *r, json_t *sysinfo)
{
    double rate = r->pool_s > 0 ? (double)r->finished / r->pool_s : 0;
    /* the per-URL list only when it is read: for thousands of URLs it costs milliseconds */
    bool list = r->rc == PK_OK && (o->common.record || o->common.format != PK_FORMAT_TABLE);
    json_t *rec = pk_record_new("fetch");
    json_object_set_new(rec, "params",
                        json_pack("{s:I, s:I, s:f, s:f, s:I, s:f, s:I, s:I, s:o, s:b, s:b, s:s}",
                                  "urls", (json_int_t)r->n, "workers", (json_int_t)o->workers,
                                  "connect_timeout_s", o->connect_timeout_s, "timeout_s",
                                  o->timeout_s, "retries", (json_int_t)o->retries, "backoff_s",
                                  o->backoff_s, "max_redirects", (json_int_t)o->max_redirs,
                                  "max_bytes", (json_int_t)o->max_bytes, "out",
                                  pk_json_text(o->out_dir), "compare", o->compare, "verify",
                                  !o->common.no_verify, "libcurl", pk_http_version()));
    json_object_set_new(rec, "result",
                        json_pack("{s:I, s:I, s:I, s:I, s:f, s:f, s:f, s:o}", "finished",
                                  (json_int_t)r->finished, "failed", (json_int_t)r->failed,
                                  "retries", (json_int_t)r->retried, "bytes", (json_int_t)r->bytes,
                                  "pooled_s", r->pool_s, "sequential_s", r->seq_s, "requests_per_s",
                                  rate, "urls", list ? results_json(r->jobs, r->n) : json_array()));
    if (r->seq)
        json_object_set_new(json_object_get(rec, "result"), "urls_differing",
                            json_integer((json_int_t)r->differ));
    json_object_set_new(rec, "verified",
                        o->common.no_verify ? json_null() : json_boolean(verified(r)));
    if (!o->common.no_verify)
        json_object_set_new(rec, "verification", verification_json(o, r));
    double pool_s = r->pool_s;
    pk_record_set_timing(rec, &pool_s, 1, 0);
    pk_record_set_provenance(rec, sysinfo);
    return rec;
}

/* ---- output ------------------------------------------------------------------------------ */

/* The per-URL lines, in the order given. */
static void print_results(const struct job *jobs, size_t n)
{
    printf("%-6s %12s %9s %3s  %s\n", "status", "bytes", "seconds", "try", "url");
    for (size_t i = 0; i < n; i++) {
        const struct url_result *u = &jobs[i].r;
        char status[16];
        snprintf(status, sizeof status, u->h.status ? "%ld" : "-", u->h.status);
        printf("%-6s %12llu %9.4f %3d  %s%s%s\n", status, (unsigned long long)u->h.bytes,
               u->h.time_s, u->h.attempts, jobs[i].url, u->error[0] ? "  " : "", u->error);
    }
}

static const char *verdict(const json_t *rec, const struct run *r)
{
    const json_t *ver = json_object_get(rec, "verified");
    if (json_is_null(ver))
        return "skipped (--no-verify)";
    if (json_is_true(ver) && r->seq && !r->differ)
        return "yes (lengths, saved files, runs agree)";
    if (json_is_true(ver))
        return "yes (lengths, saved files; each run on its own)";
    return r->interrupted ? "no (interrupted)" : "NO";
}

/* The table: per-URL lines (from the run: the record holds them only when asked), summary. */
static void print_table(const json_t *rec, const void *ctx)
{
    const struct run *r = ctx;
    const struct fetch_opts *o = r->s.o;
    if (r->rc != PK_OK)
        return;
    if (!o->quiet)
        print_results(r->jobs, r->n);
    printf("# parkit fetch: %zu %s on %llu %s (one libcurl handle each)\n", r->n,
           pk_plural(r->n, "URL", "URLs"), (unsigned long long)o->workers,
           pk_plural(o->workers, "worker", "workers"));
    if (r->seq)
        printf("Sequential  %.3f s\n", r->seq_s);
    printf("Concurrent  %.3f s", r->pool_s);
    if (r->seq && r->pool_s > 0)
        printf("   Speedup %.2fx", r->seq_s / r->pool_s);
    printf("\nthroughput  %.0f requests/s, %.2f MB/s (%llu bytes)\n",
           r->pool_s > 0 ? (double)r->finished / r->pool_s : 0.0,
           r->pool_s > 0 ? (double)r->bytes / r->pool_s / 1e6 : 0.0, (unsigned long long)r->bytes);
    printf("failed      %zu of %zu %s; %zu %s\n", r->failed, r->n, pk_plural(r->n, "URL", "URLs"),
           r->retried, pk_plural(r->retried, "retry", "retries"));
    if (r->seq)
        printf("compare     %zu of %zu %s got different bytes in the two runs%s\n", r->differ, r->n,
               pk_plural(r->n, "URL", "URLs"),
               r->differ ? " (content that changes between requests?)" : "");
    printf("verified    %s\n", verdict(rec, r));
}

/* One row per URL, in the order given, from the record's list. */
static void print_csv(const json_t *rec, struct pk_csvw *w, const void *ctx)
{
    (void)ctx;
    static const char *const header[] = {"url",      "status", "bytes", "time_s",
                                         "attempts", "ok",     "error", NULL};
    pk_csvw_row(w, header);
    size_t i;
    const json_t *u;
    json_array_foreach(json_object_get(json_object_get(rec, "result"), "urls"), i, u)
    {
        pk_csvw_field(w, json_string_value(json_object_get(u, "url")));
        pk_csvw_fieldf(w, "%lld", (long long)json_integer_value(json_object_get(u, "status")));
        pk_csvw_fieldf(w, "%lld", (long long)json_integer_value(json_object_get(u, "bytes")));
        pk_csvw_fieldf(w, "%.6f", json_real_value(json_object_get(u, "time_s")));
        pk_csvw_fieldf(w, "%lld", (long long)json_integer_value(json_object_get(u, "attempts")));
        pk_csvw_field(w, json_is_true(json_object_get(u, "ok")) ? "yes" : "no");
        pk_csvw_field(w, json_string_value(json_object_get(u, "error")));
        pk_csvw_end(w);
    }
}

/* What went wrong, on stderr, whatever the format. */
static void report_failures(const struct pk_comm *c, const struct fetch_opts *o,
                            const struct run *r)
{
    if (r->rc == PK_OK && r->differ && !o->expect_identical)
        fprintf(stderr,
                "parkit fetch: warning: %zu %s got different bytes in the sequential and pooled "
                "runs (first: %s); each run was verified on its own (--expect-identical to fail)\n",
                r->differ, pk_plural(r->differ, "URL", "URLs"), r->jobs[r->first_differ].url);
    if (r->rc != PK_OK)
        pk_error(c, false, "fetch", "%s", pk_strerror(r->rc));
    else if (r->interrupted)
        pk_error(c, false, "fetch", "interrupted after %zu of %zu %s", r->finished, r->n,
                 pk_plural(r->n, "URL", "URLs"));
    else if (r->bad)
        pk_error(c, false, "fetch", "verification failed for %zu %s; first: %s", r->bad,
                 pk_plural(r->bad, "URL", "URLs"), r->first_bad);
    else if (r->failed)
        pk_error(c, false, "fetch", "%zu of %zu %s failed", r->failed, r->n,
                 pk_plural(r->n, "URL", "URLs"));
}

static int exit_status(const struct run *r)
{
    if (r->rc != PK_OK || r->interrupted)
        return PK_EXIT_RUNTIME;
    if (r->bad)
        return PK_EXIT_VERIFY;
    return r->failed ? PK_EXIT_RUNTIME : PK_EXIT_OK;
}

static void run_fini(struct run *r)
{
    pk_queue_destroy(r->s.clients); /* destroys the idle clients: every one is idle now */
    free_strings(r->urls, r->n);
    free_strings(r->names, r->names ? r->n : 0);
    free_strings(r->paths, r->paths ? r->n : 0);
    free(r->saves);
    free(r->jobs);
    free(r->seq);
}

int pk_cmd_fetch(int argc, char **argv, const struct pk_comm *c)
{
    struct fetch_opts o;
    struct pk_args args = {0};
    int status = parse(argc, argv, c, &o, &args);
    struct pk_err err = {0};
    if (status == PK_EXIT_OK && pk_http_global_init(&err) != PK_OK) {
        pk_error(c, false, "fetch", "%s", err.msg);
        status = PK_EXIT_RUNTIME;
    }
    if (status != PK_EXIT_OK) {
        pk_args_free(&args);
        return pk_opts_exit(status);
    }
    struct run r = {0};
    status = plan(&args, c, &o, &r);
    if (status < 0) {
        json_t *sysinfo = pk_sysinfo_for_command(c, "fetch", 1);
        run(&o, &r);
        verify(&o, &r);
        json_t *rec = make_record(&o, &r, sysinfo);
        json_decref(sysinfo);
        report_failures(c, &o, &r);
        static const struct pk_view view = {print_table, print_csv};
        status = pk_emit(c, "fetch", &o.common, &view, &r, rec, exit_status(&r));
    }
    run_fini(&r);
    pk_args_free(&args);
    pk_http_global_cleanup();
    return status;
}
