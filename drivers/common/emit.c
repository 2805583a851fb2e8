/* SPDX-License-Identifier: MIT */
/* The emitter and the CSV writer of emit.h. */
#include "emit.h"

#include "record.h"

#include <errno.h>
#include <string.h>

void pk_csvw_init(struct pk_csvw *w, FILE *f)
{
    *w = (struct pk_csvw){.f = f};
}

void pk_csvw_field(struct pk_csvw *w, const char *text)
{
    if (w->col++ > 0)
        fputc(',', w->f);
    if (!text)
        return;
    if (!text[strcspn(text, ",\"\r\n")]) {
        fputs(text, w->f);
        return;
    }
    fputc('"', w->f);
    for (const char *p = text; *p; p++) {
        if (*p == '"')
            fputc('"', w->f);
        fputc(*p, w->f);
    }
    fputc('"', w->f);
}

void pk_csvw_fieldf(struct pk_csvw *w, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    pk_csvw_field(w, buf);
}

void pk_csvw_end(struct pk_csvw *w)
{
    fputc('\n', w->f);
    w->col = 0;
}

void pk_csvw_row(struct pk_csvw *w, const char *const *fields)
{
    for (size_t i = 0; fields[i]; i++)
        pk_csvw_field(w, fields[i]);
    pk_csvw_end(w);
}

const char *pk_plural(unsigned long long n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

static void print_view(const struct pk_common_opts *o, const struct pk_view *v, const void *ctx,
                       const json_t *rec)
{
    if (o->format == PK_FORMAT_CSV && v->csv) {
        struct pk_csvw w;
        pk_csvw_init(&w, stdout);
        v->csv(rec, &w, ctx);
    } else if (o->format == PK_FORMAT_JSON || !v->table) {
        json_dumpf(rec, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
        putchar('\n');
    } else {
        v->table(rec, ctx);
    }
}

int pk_emit(const struct pk_comm *c, const char *cmd, const struct pk_common_opts *o,
            const struct pk_view *v, const void *ctx, json_t *rec, int status)
{
    if (rec) {
        struct pk_err err = {0};
        print_view(o, v, ctx, rec);
        if (fflush(stdout) != 0 || ferror(stdout)) {
            pk_error(c, false, cmd, "cannot write the output: %s", strerror(errno));
            if (status == PK_EXIT_OK)
                status = PK_EXIT_RUNTIME;
        }
        if (o->record && pk_record_append(o->record, rec, &err) != PK_OK) {
            pk_error(c, false, cmd, "%s", err.msg);
            if (status == PK_EXIT_OK)
                status = PK_EXIT_RUNTIME;
        }
        if (status == PK_EXIT_VERIFY)
            pk_error(c, false, cmd, "verification failed");
        json_decref(rec);
    }
    /* Rank 0 alone may have failed to write: agree once more. */
    return pk_dist_agree(c, status);
}
