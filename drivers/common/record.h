/* SPDX-License-Identifier: MIT */
/* Result records: one JSON object per run with the parameters, the result, whether it was
 * verified, every repetition's time, and the provenance needed to trust and compare it. Records
 * are appended to a JSON Lines file; `report` and `scale` read them back. */
#ifndef PARKIT_RECORD_H
#define PARKIT_RECORD_H

#include "parkit/status.h"

#include <jansson.h>
#include <stdio.h>

/* A new record {"schema", "command", "time_utc"}; the caller owns it (json_decref). */
json_t *pk_record_new(const char *command);
/* rec.timing = {"warmup", "reps_s": [...], "median_s", "min_s", "max_s", "mean_s",
 * "stddev_s", "clock_tick_s"}; the times are already the maximum over ranks. */
void pk_record_set_timing(json_t *rec, const double *rep_s, int reps, int warmup);
/* rec.provenance = build facts (version, commit, compiler, flags, libraries) plus a copy of the
 * machine facts from pk_sysinfo_gather (may be NULL). */
void pk_record_set_provenance(json_t *rec, const json_t *sysinfo);
/* Appends rec as one line to path with a single write on an O_APPEND descriptor, so concurrent
 * writers never interleave within a line. */
int pk_record_append(const char *path, const json_t *rec, struct pk_err *err);

/* The --version text: version, commit, compiler, OpenMP, MPI, GSL, GMP and jansson versions. */
void pk_version_print(FILE *f);

#endif
