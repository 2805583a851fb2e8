/* SPDX-License-Identifier: MIT */
/* Machine facts for `parkit info` and for the "meta" block of every result record: the host,
 * its cores and memory, the OpenMP and MPI settings, and where each rank and each of its
 * threads may run. Rank 0 collects every rank's facts, so a record shows the placement of the
 * whole run, and it turns the usual placement mistakes (oversubscription, threads pinned to
 * one CPU, mpirun's bind-to-core default) into warnings. */
#ifndef PARKIT_DRIVERS_SYSINFO_H
#define PARKIT_DRIVERS_SYSINFO_H

#include "parkit/dist.h"

#include <jansson.h>
#include <stdio.h>

/* Collective over c (caller-owned, only read): every rank calls it with the thread count the
 * command will use (nthreads >= 1). Each rank probes itself (hostname, online cores, /proc/meminfo,
 * its CPU affinity set, and the CPU and affinity set of each thread of an OpenMP region of nthreads
 * threads), and rank 0 receives every rank's facts through pk_dist_gather_strings.
 *
 * On rank 0, on PK_OK, *out owns a new JSON object (json_decref frees it):
 *   {"host", "cores", "mem_total_bytes", "mem_available_bytes" (rank 0's host; memory is null
 *    when /proc/meminfo is unreadable), "nranks", "nthreads",
 *    "openmp": {"version", "max_threads", "proc_bind", "num_places", "dynamic",
 *               "env": {"OMP_NUM_THREADS", ... : string or null}},
 *    "mpi": {"library", "initialised", "thread_level": "single|funneled|serialized|multiple"
 *            or null},
 *    "ranks": [{"rank", "host", "cores", "cpuset": "0-3,8",
 *               "threads": [{"thread", "cpu", "cpuset"}]}],
 *    "warnings": ["host h: ...", "rank r is bound to one cpu ..."]}
 * A "cpu" or "cpuset" the system would not report is null. Other ranks, and every rank on
 * failure, get *out = NULL.
 *
 * Returns PK_OK, PK_EINVAL (nthreads < 1, NULL arguments, or a rank sent facts rank 0 cannot
 * read), PK_ENOMEM, or the failing rank's status. A rank that fails locally still takes part in
 * the gather, so nobody is stranded, but statuses can differ between ranks: follow the call with
 * pk_dist_agree. Call it from the thread that initialised c, outside any parallel region. */
int pk_sysinfo_gather(const struct pk_comm *c, int nthreads, json_t **out);
/* What every command does before it runs: gathers the facts (collective) and, on rank 0, prints
 * each warning as "parkit CMD: warning: ..." to stderr, or says that records will lack the
 * facts when they could not be gathered. Returns the facts on rank 0 (caller json_decrefs),
 * NULL elsewhere or on failure. */
json_t *pk_sysinfo_for_command(const struct pk_comm *c, const char *cmd, int nthreads);

/* Writes info (as built by pk_sysinfo_gather; the caller keeps ownership of info and f) to f as the
 * human-readable `parkit info` report: host, cores, memory in GiB, OpenMP settings, MPI library
 * and thread level, one line per rank and per thread, then each warning prefixed "warning: ".
 * Missing fields print as "unknown"; a NULL info prints nothing. Thread-safe as long as no other
 * thread modifies info. */
void pk_sysinfo_print(FILE *f, const json_t *info);
/* The cores this process may run on (taskset, cgroups' cpusets, Slurm), else those online. */
long pk_sysinfo_usable_cores(void);

#endif
