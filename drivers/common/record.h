/* SPDX-License-Identifier: MIT */
/* Result records: one JSON object per run with the parameters, the result, whether it was
 * verified, every repetition's time, and the provenance needed to trust and compare it. Records
 * are appended to a JSON Lines file; `report` and `scale` read them back. */
#ifndef PARKIT_RECORD_H
#define PARKIT_RECORD_H

#include "parkit/status.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

/* A new record {"schema", "command", "time_utc"}; the caller owns it (json_decref). */
json_t *pk_record_new(const char *command);
/* rec.timing = {"warmup", "reps_s": [...], "median_s", "min_s", "max_s", "mean_s",
 * "stddev_s", "clock_tick_s"}; the times are already the maximum over ranks. */
void pk_record_set_timing(json_t *rec, const double *rep_s, int reps, int warmup);
struct pk_reps;
/* The timing of the runs that p ran (timing.h), plus timing.reps_cut_short (true when the
 * default repetitions stopped after a long first run) and timing.reps_budget_s; params.reps and
 * params.warmup, when rec has params, become the counts that ran. Call after the params. */
void pk_record_set_reps(json_t *rec, const struct pk_reps *p);
/* rec.provenance = build facts (version, commit, compiler, flags, libraries) plus a copy of the
 * machine facts from pk_sysinfo_gather (may be NULL). */
void pk_record_set_provenance(json_t *rec, const json_t *sysinfo);
/* Appends rec as one line to path with a single write on an O_APPEND descriptor, so concurrent
 * writers never interleave within a line. */
int pk_record_append(const char *path, const json_t *rec, struct pk_err *err);

/* A JSON string for text that came from the user (a path, a URL, argv, a stage name, an
 * experiment id): the text itself when it is UTF-8, else a copy where each byte that is not
 * part of a UTF-8 sequence is written as the four characters \xHH, as Python's
 * "backslashreplace" does. JSON strings must be UTF-8, and jansson's json_string returns NULL
 * on other bytes, which made whole blocks vanish from records. NULL text gives JSON null; a new
 * reference, NULL only when out of memory. */
json_t *pk_json_text(const char *text);
/* A JSON number for an unsigned 64-bit value (a seed): an integer up to 2^63 - 1, above that
 * the decimal digits as a string, since jansson's integers are signed (a cast would record
 * 2^63 as a negative number). A new reference. */
json_t *pk_json_u64(uint64_t v);
/* The member at a dotted path (a.b.c) of object o, or NULL (a borrowed reference). */
const json_t *pk_json_path(const json_t *o, const char *path);

/* The --version text: version, commit, compiler, OpenMP, MPI, GSL, GMP and jansson versions. */
void pk_version_print(FILE *f);

#endif
