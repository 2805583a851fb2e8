/* SPDX-License-Identifier: MIT */
/* The facts about the machine that explain a difference between two runs, for the machine
 * block of every record (sysinfo.c): the CPU model, physical cores against hardware threads and
 * NUMA nodes (hwloc when built with it), the frequency governor and boost where the kernel
 * shows them, the kernel version, the load average when the command started, and the Slurm job
 * id and node list under Slurm. */
#ifndef PARKIT_TOPOLOGY_H
#define PARKIT_TOPOLOGY_H

#include <jansson.h>

/* Sets on info: "cpu_model", "physical_cores", "hw_threads", "numa_nodes", "packages",
 * "topology_from" ("hwloc" or "sysconf"), "governor", "boost", "kernel", "load_avg" [1, 5, 15
 * minutes], and "slurm_job_id", "slurm_nodelist" when set. A fact that cannot be read is null.
 * Read once per process (the first call: the load when the command started), then copied.
 * Returns 0, or -1 when out of memory. */
int pk_topology_add(json_t *info);

#endif
