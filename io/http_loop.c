/* SPDX-License-Identifier: MIT */
/* HTTP(S) GETs on the event-loop engine (see parkit/http.h and parkit/loop.h).
 *
 * Each loop thread owns a libcurl multi handle wired to its libuv loop the way libcurl's
 * multi_socket API asks: libcurl says which sockets to watch for what (on_socket: a uv_poll
 * each) and when to call it back (on_curl_timer: one uv_timer); the loop reports activity with
 * curl_multi_socket_action, and transfers that ended are read from curl_multi_info_read and
 * their tasks resumed. A request is a task in three phases: start (a client from the thread's
 * idle list, the save's temporary file opened, the handle added: park), an attempt's end
 * (decided as pk_http_get decides: retry after a wait, which is a loop timer, or finish), and
 * the finish (the save published or removed, the client back on the idle list). Everything
 * here runs on the loop thread that owns the request. */
#include "http_impl.h"

#include "parkit/clock.h"
#include "parkit/loop.h"

#include <stdlib.h>
#include <string.h>
#include <uv.h>

struct pk_http_loop {
    struct pk_http_opts o; /* checked; user_agent copied below */
    char *user_agent;
};

/* One loop thread's libcurl state. */
struct lstate {
    struct pk_http_loop *hl;
    uv_loop_t *uv;
    CURLM *multi;
    uv_timer_t timer;
    struct pk_http **idle; /* clients (easy handles) free for the next request */
    size_t nidle, cap;
    struct csock *socks; /* every socket watched, to close the polls libcurl never released */
};

struct csock {
    uv_poll_t poll;
    curl_socket_t fd;
    struct lstate *ls;
    struct csock *prev, *next;
};

struct pk_http_fetch_run {
    struct lstate *ls;
    struct pk_ltask *task;
    struct pk_http *h;
    struct xfer x;
    struct pk_atomicfile file;
    struct pk_err err; /* the callbacks' and the outcome's message */
    double t0;
    int attempts; /* begun */
    CURLcode cc;
    bool in_multi, waiting; /* added to the multi handle; in a backoff wait */
};

/* ---- libcurl's multi_socket callbacks, on the loop ---- */

static void check_done(struct lstate *ls)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(ls->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        CURL *easy = m->easy_handle;
        CURLcode cc = m->data.result; /* read before the message goes with the handle */
        struct pk_http_fetch_run *r = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&r);
        curl_multi_remove_handle(ls->multi, easy);
        r->in_multi = false;
        r->cc = cc;
        pk_ltask_resume(r->task);
    }
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    struct csock *s = p->data;
    int flags = (events & UV_READABLE ? CURL_CSELECT_IN : 0) |
                (events & UV_WRITABLE ? CURL_CSELECT_OUT : 0) | (status < 0 ? CURL_CSELECT_ERR : 0);
    int running;
    struct lstate *ls = s->ls; /* s may be freed by the call below */
    curl_multi_socket_action(ls->multi, s->fd, flags, &running);
    check_done(ls);
}

static void on_timeout(uv_timer_t *t)
{
    struct lstate *ls = t->data;
    int running;
    curl_multi_socket_action(ls->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(ls);
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *arg)
{
    (void)multi;
    struct lstate *ls = arg;
    if (timeout_ms < 0)
        uv_timer_stop(&ls->timer);
    else /* 0: on the next turn of the loop, never from inside this callback */
        uv_timer_start(&ls->timer, on_timeout, (uint64_t)timeout_ms, 0);
    return 0;
}

static void free_sock(uv_handle_t *h)
{
    free(h->data);
}

static void sock_close(struct csock *s)
{
    struct lstate *ls = s->ls;
    if (s->prev)
        s->prev->next = s->next;
    else
        ls->socks = s->next;
    if (s->next)
        s->next->prev = s->prev;
    uv_poll_stop(&s->poll);
    uv_close((uv_handle_t *)&s->poll, free_sock);
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *arg, void *sockp)
{
    (void)easy;
    struct lstate *ls = arg;
    struct csock *s = sockp;
    if (what == CURL_POLL_REMOVE) {
        if (s)
            sock_close(s);
        curl_multi_assign(ls->multi, fd, NULL);
        return 0;
    }
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s || uv_poll_init_socket(ls->uv, &s->poll, fd) != 0) {
            free(s);
            return -1; /* libcurl fails the transfer */
        }
        s->fd = fd; /* fields one by one: the handle is registered with the loop by address */
        s->ls = ls;
        s->next = ls->socks;
        s->poll.data = s;
        if (ls->socks)
            ls->socks->prev = s;
        ls->socks = s;
        curl_multi_assign(ls->multi, fd, s);
    }
    int events = (what & CURL_POLL_IN ? UV_READABLE : 0) | (what & CURL_POLL_OUT ? UV_WRITABLE : 0);
    return uv_poll_start(&s->poll, events, on_poll) == 0 ? 0 : -1;
}

/* ---- the loop threads' hooks ---- */

static int thread_init(void *arg, struct pk_lctx *ctx, void **state)
{
    struct lstate *ls = calloc(1, sizeof *ls);
    if (!ls)
        return PK_ENOMEM;
    *ls = (struct lstate){.hl = arg, .uv = pk_lctx_uv(ctx), .multi = curl_multi_init()};
    if (!ls->multi) {
        free(ls);
        return PK_ENOMEM;
    }
    curl_multi_setopt(ls->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(ls->multi, CURLMOPT_SOCKETDATA, ls);
    curl_multi_setopt(ls->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(ls->multi, CURLMOPT_TIMERDATA, ls);
    uv_timer_init(ls->uv, &ls->timer);
    ls->timer.data = ls;
    *state = ls;
    return PK_OK;
}

static void free_state(uv_handle_t *h)
{
    free(h->data);
}

/* After the thread's last request: the multi handle closes its cached connections (telling
 * on_socket), then the polls it never released and the timer are closed. */
static void thread_fini(void *arg, void *state)
{
    (void)arg;
    struct lstate *ls = state;
    curl_multi_cleanup(ls->multi);
    for (size_t i = 0; i < ls->nidle; i++)
        pk_http_destroy(ls->idle[i]);
    free(ls->idle);
    while (ls->socks)
        sock_close(ls->socks);
    uv_timer_stop(&ls->timer);
    uv_close((uv_handle_t *)&ls->timer, free_state);
}

int pk_http_loop_create(const struct pk_http_opts *o, struct pk_http_loop **out,
                        struct pk_err *err)
{
    *out = NULL;
    struct pk_http *probe = NULL; /* the same checks as a blocking client's */
    int rc = pk_http_create(o, &probe, err);
    pk_http_destroy(probe);
    if (rc != PK_OK)
        return rc;
    struct pk_http_loop *hl = calloc(1, sizeof *hl);
    if (!hl || !(hl->user_agent = strdup(o->user_agent ? o->user_agent : "parkit"))) {
        free(hl);
        return pk_fail(err, PK_ENOMEM, "out of memory");
    }
    hl->o = *o;
    hl->o.user_agent = hl->user_agent;
    *out = hl;
    return PK_OK;
}

void pk_http_loop_hooks(struct pk_http_loop *hl, struct pk_loop_hooks *hooks)
{
    *hooks = (struct pk_loop_hooks){thread_init, thread_fini, hl};
}

void pk_http_loop_destroy(struct pk_http_loop *hl)
{
    if (hl)
        free(hl->user_agent);
    free(hl);
}

/* ---- one request's phases ---- */

/* A client for a request: one from the thread's idle list, or a new one. */
static struct pk_http *client_take(struct lstate *ls)
{
    if (ls->nidle)
        return ls->idle[--ls->nidle];
    struct pk_http *h = NULL;
    struct pk_err ignored;
    pk_http_create(&ls->hl->o, &h, &ignored); /* the settings were checked at creation */
    return h;
}

static void client_give(struct lstate *ls, struct pk_http *h)
{
    if (ls->nidle == ls->cap) {
        size_t cap = ls->cap ? 2 * ls->cap : 16;
        struct pk_http **v = realloc(ls->idle, cap * sizeof *v);
        if (!v) {
            pk_http_destroy(h);
            return;
        }
        ls->idle = v;
        ls->cap = cap;
    }
    ls->idle[ls->nidle++] = h;
}

/* Releases what a request holds: its handle from the multi, its temporary file, its client. */
static void run_free(struct pk_http_fetch *f)
{
    struct pk_http_fetch_run *r = f->run;
    if (r->in_multi)
        curl_multi_remove_handle(r->ls->multi, r->h->curl);
    if (f->save)
        pk_atomicfile_abort(&r->file); /* after a commit: nothing left to do */
    if (r->h)
        client_give(r->ls, r->h);
    f->res.time_s = pk_now_s() - r->t0;
    free(r);
    f->run = NULL;
}

/* Sends attempt k: park until check_done resumes the task. */
static int attempt(struct pk_http_fetch *f, struct pk_err *err)
{
    struct pk_http_fetch_run *r = f->run;
    if (r->attempts > 0 && http_restart_body(&r->x) != PK_OK) {
        int rc = pk_fail(err, PK_EIO, "%s", r->err.msg);
        run_free(f);
        return rc;
    }
    r->h->curl_error[0] = '\0';
    r->x.socket_errno = 0;
    r->attempts++;
    if (curl_multi_add_handle(r->ls->multi, r->h->curl) != CURLM_OK) {
        run_free(f);
        return pk_fail(err, PK_ENOMEM, "libcurl cannot take another transfer");
    }
    r->in_multi = true;
    return PK_STEP_PARK;
}

static int start(struct pk_http_fetch *f, struct pk_lctx *ctx, struct pk_err *err)
{
    f->res = (struct pk_http_result){.announced = -1, .crc32 = (uint32_t)crc32(0L, Z_NULL, 0)};
    struct pk_http_fetch_run *r = calloc(1, sizeof *r);
    if (!r)
        return pk_fail(err, PK_ENOMEM, "out of memory");
    f->run = r;
    r->ls = pk_lctx_state(ctx);
    r->task = pk_lctx_task(ctx);
    r->t0 = pk_now_s();
    r->file.fd = -1;
    r->h = client_take(r->ls);
    r->x = (struct xfer){.h = r->h, .fd = -1, .err = &r->err, .crc = crc32(0L, Z_NULL, 0)};
    int rc = r->h ? PK_OK : pk_fail(err, PK_ENOMEM, "cannot create a libcurl handle");
    if (rc == PK_OK && f->save && (rc = http_open_save(f->save, &r->file, err)) == PK_OK) {
        r->x.fd = r->file.fd;
        r->x.path = f->save->path;
    }
    if (rc != PK_OK) {
        run_free(f);
        return rc;
    }
    curl_easy_setopt(r->h->curl, CURLOPT_URL, f->url);
    curl_easy_setopt(r->h->curl, CURLOPT_WRITEDATA, &r->x);
    curl_easy_setopt(r->h->curl, CURLOPT_XFERINFODATA, &r->x);
    curl_easy_setopt(r->h->curl, CURLOPT_OPENSOCKETDATA, &r->x);
    curl_easy_setopt(r->h->curl, CURLOPT_PRIVATE, (char *)r);
    return attempt(f, err);
}

/* An attempt ended: another after its wait, or the request's end, as pk_http_get decides. */
static int attempt_ended(struct pk_http_fetch *f, double *sleep_s, struct pk_err *err)
{
    struct pk_http_fetch_run *r = f->run;
    CURL *c = r->h->curl;
    curl_off_t announced = -1;
    f->res.attempts = r->attempts;
    f->res.status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &f->res.status);
    curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &announced);
    f->res.announced = announced;
    if (r->cc != CURLE_ABORTED_BY_CALLBACK && r->x.fail_status == PK_OK &&
        http_transient(r->cc, f->res.status) && r->attempts < 1 + (int)r->h->o.retries) {
        *sleep_s = http_retry_wait(r->h, r->attempts - 1);
        r->waiting = true;
        return PK_STEP_SLEEP;
    }
    f->res.bytes = r->x.bytes;
    f->res.crc32 = (uint32_t)r->x.crc;
    int rc = http_outcome(&r->x, r->cc, f->res.status, &r->err);
    if (f->save && rc == PK_OK) {
        rc = pk_atomicfile_commit(&r->file, &r->err);
        f->res.saved = rc == PK_OK;
    }
    if (rc != PK_OK)
        pk_fail(err, rc, "%s", r->err.msg);
    run_free(f);
    return rc;
}

static int fetch_step(void *arg, struct pk_lctx *ctx, double *sleep_s, void **result,
                      struct pk_err *err)
{
    (void)result;
    struct pk_http_fetch *f = arg;
    if (!f->run)
        return start(f, ctx, err);
    if (f->run->waiting) {
        f->run->waiting = false;
        return attempt(f, err);
    }
    return attempt_ended(f, sleep_s, err);
}

/* Cancelled or past its deadline, in a transfer or a wait: let go of everything. */
static void fetch_abort(void *arg, struct pk_lctx *ctx)
{
    (void)ctx;
    struct pk_http_fetch *f = arg;
    if (!f->run)
        return;
    f->res.bytes = f->run->x.bytes;
    f->res.crc32 = (uint32_t)f->run->x.crc;
    run_free(f);
}

const struct pk_ltask_ops pk_http_fetch_ops = {fetch_step, fetch_abort};
