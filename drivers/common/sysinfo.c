/* SPDX-License-Identifier: MIT */
/* Machine facts for `parkit info` and every result record.
 *
 * Each rank probes itself into a small JSON object (the "wire" object), sends it to rank 0 as
 * text through pk_dist_gather_strings, and rank 0 parses the texts back, builds the reported
 * object and derives the placement warnings from the gathered facts alone. The wire object
 * carries a few fields the report leaves out of "ranks" (memory, the requested thread count).
 * A rank that fails sends {"status": <pk_status>} instead, so the gather always happens on
 * every rank and rank 0 learns why.
 *
 * CPU sets travel as Linux cpu-list strings ("0-3,8"), the format of taskset -c and
 * /sys/devices/system/cpu/online, and are limited to CPU_SETSIZE CPUs like cpu_set_t. */
#define _GNU_SOURCE

#include "sysinfo.h"

#include "topology.h"

#include <limits.h>
#include <omp.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef _OPENMP
#    error "sysinfo.c reports the OpenMP runtime and must be compiled with OpenMP"
#endif

/* A cpu-list string for CPU_SETSIZE CPUs fits here: a run costs at most 3.34 characters per
 * CPU slot it spans, counting the gap after it ("1020-1021," spans 3 slots), so 4 per slot
 * plus the terminator is enough. */
enum { CPULIST_MAX = 4 * CPU_SETSIZE + 1 };

/* One warning line: a host name (at most 255 bytes, see HOST_MAX) and about 130 characters of
 * text; vsnprintf cuts anything longer rather than overrun. */
enum { WARNING_MAX = 512 };

/* POSIX guarantees host names of at most 255 bytes (HOST_NAME_MAX on Linux is 64). */
enum { HOST_MAX = 256 };

/* MPI_MAX_LIBRARY_VERSION_STRING is 256 in Open MPI and 8192 in MPICH; pk_dist_library_version
 * keeps only the first line, which is short. */
enum { MPI_LIBRARY_MAX = 256 };

/* The first thread found pinned to a CPU while scanning a host; rank -1 when none yet. */
struct pin_owner {
    int rank, thread;
};

/* What one OpenMP thread saw, written only by that thread inside the region. */
struct thread_fact {
    int cpu;         /* sched_getcpu(), -1 when it failed */
    int affinity_rc; /* pthread_getaffinity_np() result, 0 on success */
    cpu_set_t set;
};

/* Writes set as a cpu list ("0-3,8", "" when empty) to buf of CPULIST_MAX bytes. */
static void cpuset_to_list(const cpu_set_t *set, char *buf)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int lo = 0; lo < CPU_SETSIZE; lo++) {
        if (!CPU_ISSET(lo, set))
            continue;
        int hi = lo;
        while (hi + 1 < CPU_SETSIZE && CPU_ISSET(hi + 1, set))
            hi++;
        const char *sep = used > 0 ? "," : "";
        int n;
        if (hi == lo)
            n = snprintf(buf + used, CPULIST_MAX - used, "%s%d", sep, lo);
        else
            n = snprintf(buf + used, CPULIST_MAX - used, "%s%d-%d", sep, lo, hi);
        /* Cannot happen with CPULIST_MAX as sized above; stop rather than overrun. */
        if (n < 0 || (size_t)n >= CPULIST_MAX - used)
            return;
        used += (size_t)n;
        lo = hi;
    }
}

/* Reads one CPU number at *p, advancing *p; -1 on junk or a CPU beyond CPU_SETSIZE. */
static int parse_cpu(const char **p)
{
    if (**p < '0' || **p > '9')
        return -1;
    char *end = NULL;
    long v = strtol(*p, &end, 10);
    *p = end;
    if (v >= CPU_SETSIZE)
        return -1;
    return (int)v;
}

/* Parses a cpu list ("0-3,8", or "" for the empty set) into set; PK_EINVAL on malformed text. */
static int cpulist_to_set(const char *s, cpu_set_t *set)
{
    CPU_ZERO(set);
    const char *p = s;
    while (*p != '\0') {
        int lo = parse_cpu(&p);
        if (lo < 0)
            return PK_EINVAL;
        int hi = lo;
        if (*p == '-') {
            p++;
            hi = parse_cpu(&p);
            if (hi < lo)
                return PK_EINVAL;
        }
        for (int cpu = lo; cpu <= hi; cpu++)
            CPU_SET(cpu, set);
        if (*p == ',')
            p++;
        else if (*p != '\0')
            return PK_EINVAL;
    }
    return PK_OK;
}

/* A JSON string for s, or null when s is NULL. Jansson rejects text that is not UTF-8, which
 * a host name or an environment variable need not be, so such bytes become '?' rather than
 * being mistaken for an allocation failure. Returns NULL only when out of memory. */
static json_t *text_or_null(const char *s)
{
    if (!s)
        return json_null();
    json_t *j = json_string(s);
    if (j)
        return j;
    char *copy = strdup(s);
    if (!copy)
        return NULL;
    for (char *q = copy; *q != '\0'; q++)
        if ((unsigned char)*q >= 0x80)
            *q = '?';
    j = json_string(copy);
    free(copy);
    return j;
}

/* A JSON cpu-list string for set, or null when the system did not report it (ok is false). */
static json_t *cpuset_json(const cpu_set_t *set, bool ok)
{
    if (!ok)
        return json_null();
    char buf[CPULIST_MAX];
    cpuset_to_list(set, buf);
    return json_string(buf);
}

/* An integer, or null for the negative values that mean "unknown" here. */
static json_t *count_or_null(long long v)
{
    if (v < 0)
        return json_null();
    return json_integer((json_int_t)v);
}

/* MemTotal and MemAvailable from /proc/meminfo in bytes, -1 each when unavailable (not Linux,
 * or a kernel before 3.14 for MemAvailable). Memory is reported, not relied on, so a missing
 * file is not an error. */
static void read_meminfo(long long *total, long long *avail)
{
    *total = -1;
    *avail = -1;
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f)
        return;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        long long kib = 0;
        if (sscanf(line, "MemTotal: %lld kB", &kib) == 1)
            *total = kib * 1024;
        else if (sscanf(line, "MemAvailable: %lld kB", &kib) == 1)
            *avail = kib * 1024;
    }
    fclose(f);
}

/* The thread array of the wire object: the region's threads in thread-number order. */
static json_t *thread_facts_json(const struct thread_fact *facts, int got)
{
    json_t *threads = json_array();
    if (!threads)
        return NULL;
    int bad = 0;
    for (int t = 0; t < got; t++) {
        json_t *th = json_object();
        /* json_*_set_new and json_array_append_new take the value even when they fail (and
         * fail on a NULL value), so failures can be collected and checked once. */
        bad |= json_object_set_new(th, "thread", json_integer(t));
        bad |= json_object_set_new(th, "cpu", count_or_null(facts[t].cpu));
        bad |= json_object_set_new(th, "cpuset",
                                   cpuset_json(&facts[t].set, facts[t].affinity_rc == 0));
        bad |= json_array_append_new(threads, th);
    }
    if (bad) {
        json_decref(threads);
        return NULL;
    }
    return threads;
}

/* The CPUs this rank may use, into set; *ok is false when the system would not say.
 * When OpenMP has places (OMP_PLACES or OMP_PROC_BIND set), libgomp binds the initial thread to
 * the first place as it starts, so the calling thread's own mask would show one place and raise
 * a false "bound to one cpu" warning. The places are cut from the mask the rank was launched
 * with, so their union is reported instead. */
static int rank_cpuset(cpu_set_t *set, bool *ok)
{
    int nplaces = omp_get_num_places();
    if (nplaces <= 0) {
        *ok = sched_getaffinity(0, sizeof *set, set) == 0;
        return PK_OK;
    }
    CPU_ZERO(set);
    *ok = true;
    for (int p = 0; p < nplaces; p++) {
        int n = omp_get_place_num_procs(p);
        if (n <= 0)
            continue;
        int *ids = calloc((size_t)n, sizeof *ids);
        if (!ids)
            return PK_ENOMEM;
        omp_get_place_proc_ids(p, ids);
        for (int i = 0; i < n; i++)
            if (ids[i] >= 0 && ids[i] < CPU_SETSIZE)
                CPU_SET(ids[i], set);
        free(ids);
    }
    return PK_OK;
}

/* Probes this rank into a new wire object (*out owns it on PK_OK, NULL otherwise). */
static int probe_rank(const struct pk_comm *c, int nthreads, json_t **out)
{
    *out = NULL;
    int status = PK_OK;
    json_t *wire = NULL;
    struct thread_fact *facts = calloc((size_t)nthreads, sizeof *facts);
    if (!facts) {
        status = PK_ENOMEM;
        goto out;
    }

    /* The region may get fewer threads than asked (OMP_THREAD_LIMIT, dynamic adjustment):
     * thread 0 records how many it got and only those are reported. */
    int got = 0;
#pragma omp parallel default(none) shared(facts, got) num_threads(nthreads)
    {
        int t = omp_get_thread_num();
        facts[t].cpu = sched_getcpu();
        facts[t].affinity_rc =
            pthread_getaffinity_np(pthread_self(), sizeof facts[t].set, &facts[t].set);
        if (t == 0)
            got = omp_get_num_threads();
    }

    char host[HOST_MAX];
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "unknown");
    host[sizeof host - 1] = '\0'; /* gethostname need not terminate a truncated name */

    cpu_set_t set;
    bool set_ok = false;
    status = rank_cpuset(&set, &set_ok);
    if (status != PK_OK)
        goto out;
    long long mem_total = 0;
    long long mem_avail = 0;
    read_meminfo(&mem_total, &mem_avail);

    wire = json_object();
    int bad = 0;
    bad |= json_object_set_new(wire, "rank", json_integer(c->rank));
    bad |= json_object_set_new(wire, "host", text_or_null(host));
    bad |= json_object_set_new(wire, "cores", json_integer(sysconf(_SC_NPROCESSORS_ONLN)));
    bad |= json_object_set_new(wire, "cpuset", cpuset_json(&set, set_ok));
    bad |= json_object_set_new(wire, "threads", thread_facts_json(facts, got));
    bad |= json_object_set_new(wire, "nthreads", json_integer(nthreads));
    bad |= json_object_set_new(wire, "mem_total_bytes", count_or_null(mem_total));
    bad |= json_object_set_new(wire, "mem_available_bytes", count_or_null(mem_avail));
    if (bad) {
        status = PK_ENOMEM;
        goto out;
    }
    *out = wire;
    wire = NULL;
out:
    json_decref(wire);
    free(facts);
    return status;
}

/* Parses rank i's text into a new wire object (*out owns it on PK_OK). A failed rank's
 * {"status": s} returns s; anything not shaped like probe_rank's output is PK_EINVAL. */
static int parse_wire(const char *text, int i, json_t **out)
{
    *out = NULL;
    /* The text came from json_dumps in this same program, so it is valid JSON and a failed
     * load means memory ran out; jansson 2.14's loader reports that as a syntax error or an
     * unknown one rather than json_error_out_of_memory, so the code is not consulted. */
    json_t *wire = json_loads(text, 0, NULL);
    if (!wire)
        return PK_ENOMEM;
    int status = PK_EINVAL;
    json_t *failed = json_object_get(wire, "status");
    if (json_is_integer(failed)) {
        json_int_t s = json_integer_value(failed);
        if (s < 0 && s >= INT_MIN)
            status = (int)s;
        goto fail;
    }
    /* Checked field by field: json_unpack allocates (a key set) and would turn an allocation
     * failure into a shape error. */
    json_t *rank = json_object_get(wire, "rank");
    json_t *cpuset = json_object_get(wire, "cpuset");
    json_t *threads = json_object_get(wire, "threads");
    if (!json_is_integer(rank) || json_integer_value(rank) != i)
        goto fail;
    if (!json_is_string(json_object_get(wire, "host")))
        goto fail;
    if (!json_is_integer(json_object_get(wire, "cores")))
        goto fail;
    if (!json_is_integer(json_object_get(wire, "nthreads")))
        goto fail;
    if (!json_is_string(cpuset) && !json_is_null(cpuset))
        goto fail;
    if (!json_is_array(threads))
        goto fail;
    size_t k;
    json_t *th;
    json_array_foreach(threads, k, th)
    {
        json_t *cpu = json_object_get(th, "cpu");
        json_t *set = json_object_get(th, "cpuset");
        if (!json_is_integer(json_object_get(th, "thread")))
            goto fail;
        if (!json_is_integer(cpu) && !json_is_null(cpu))
            goto fail;
        if (!json_is_string(set) && !json_is_null(set))
            goto fail;
    }
    *out = wire;
    return PK_OK;
fail:
    json_decref(wire);
    return status;
}

static int int_field(const json_t *o, const char *key, int dflt)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        return dflt;
    return (int)json_integer_value(v);
}

static const char *str_field(const json_t *o, const char *key, const char *dflt)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : dflt;
}

/* Appends one formatted warning to arr; -1 when out of memory. */
__attribute__((format(printf, 2, 3))) static int add_warning(json_t *arr, const char *fmt, ...)
{
    char buf[WARNING_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return json_array_append_new(arr, text_or_null(buf));
}

/* Parses a wire "cpuset" value into set; false for null or malformed text (then unknown). */
static bool wire_cpuset(const json_t *v, cpu_set_t *set)
{
    const char *s = json_string_value(v);
    if (!s)
        return false;
    return cpulist_to_set(s, set) == PK_OK;
}

/* The one CPU a set holds, or -1 when it holds none or several. */
static int only_cpu(const cpu_set_t *set)
{
    if (CPU_COUNT(set) != 1)
        return -1;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
        if (CPU_ISSET(cpu, set))
            return cpu;
    return -1;
}

/* Oversubscription and shared-CPU warnings for the host of wire[first], which is the lowest
 * rank on it. owner is scratch of CPU_SETSIZE entries. */
static int host_warnings(json_t *warnings, json_t *const *wire, int nranks, int first,
                         struct pin_owner *owner)
{
    const char *host = str_field(wire[first], "host", "?");
    int cores = int_field(wire[first], "cores", -1);
    int ranks_here = 0;
    int threads_here = 0;
    int tmin = INT_MAX;
    int tmax = 0;
    cpu_set_t all;
    CPU_ZERO(&all);
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
        owner[cpu].rank = -1;
    int bad = 0;

    /* Pass over the host's ranks in rank order: count threads, union their sets, and report
     * each pinned thread against the first thread pinned to the same CPU (one line per extra
     * thread, not one per pair, so a crowded CPU stays readable). */
    for (int r = first; r < nranks; r++) {
        if (strcmp(str_field(wire[r], "host", "?"), host) != 0)
            continue;
        const json_t *threads = json_object_get(wire[r], "threads");
        int n = (int)json_array_size(threads);
        ranks_here++;
        threads_here += n;
        tmin = n < tmin ? n : tmin;
        tmax = n > tmax ? n : tmax;
        for (int k = 0; k < n; k++) {
            const json_t *th = json_array_get(threads, (size_t)k);
            int t = int_field(th, "thread", k);
            cpu_set_t set;
            if (!wire_cpuset(json_object_get(th, "cpuset"), &set))
                continue;
            CPU_OR(&all, &all, &set);
            int cpu = only_cpu(&set);
            if (cpu < 0)
                continue;
            if (owner[cpu].rank < 0) {
                owner[cpu] = (struct pin_owner){.rank = r, .thread = t};
                continue;
            }
            bad |= add_warning(warnings,
                               "host %s: rank %d thread %d and rank %d thread %d share cpu %d",
                               host, owner[cpu].rank, owner[cpu].thread, r, t, cpu);
        }
    }

    /* The limit is the smaller of the CPUs the threads may use and the host's online cores;
     * either is skipped when unknown. */
    int distinct = CPU_COUNT(&all);
    int limit = INT_MAX;
    if (distinct > 0)
        limit = distinct;
    if (cores > 0 && cores < limit)
        limit = cores;
    if (limit != INT_MAX && threads_here > limit) {
        /* Ranks normally get the same count; "up to" keeps the line true when they did not. */
        const char *upto = tmin == tmax ? "" : "up to ";
        bad |= add_warning(warnings,
                           "host %s: %d ranks x %s%d threads = %d threads on %d cores "
                           "(oversubscribed)",
                           host, ranks_here, upto, tmax, threads_here, limit);
    }
    return bad ? PK_ENOMEM : PK_OK;
}

/* Appends every placement warning for the gathered wire objects to warnings. */
static int placement_warnings(json_t *warnings, json_t *const *wire, int nranks)
{
    /* owner maps a CPU to the first thread pinned to it, reset per host; on the heap because
     * CPU_SETSIZE entries are 8 KiB. */
    struct pin_owner *owner = calloc(CPU_SETSIZE, sizeof *owner);
    if (!owner)
        return PK_ENOMEM;
    int status = PK_OK;

    /* Hosts in order of their lowest rank; the quadratic scan over host names is cheap next
     * to the gather itself at any rank count parkit runs at. */
    for (int r = 0; r < nranks && status == PK_OK; r++) {
        const char *host = str_field(wire[r], "host", "?");
        bool seen = false;
        for (int q = 0; q < r && !seen; q++)
            seen = strcmp(str_field(wire[q], "host", "?"), host) == 0;
        if (!seen)
            status = host_warnings(warnings, wire, nranks, r, owner);
    }

    /* Open MPI binds each rank to one core when np <= cores. libgomp then defaults to one
     * thread, and with OMP_NUM_THREADS or num_threads(n) the threads do start but all share
     * that CPU. Both show as a one-CPU rank set with nthreads > 1, so max_threads is not
     * consulted: the warning also covers `mpirun -x OMP_NUM_THREADS=4`. */
    for (int r = 0; r < nranks && status == PK_OK; r++) {
        int nthreads = int_field(wire[r], "nthreads", 1);
        cpu_set_t set;
        if (nthreads <= 1 || !wire_cpuset(json_object_get(wire[r], "cpuset"), &set))
            continue;
        int cpu = only_cpu(&set);
        if (cpu < 0)
            continue;
        if (add_warning(warnings,
                        "rank %d is bound to one cpu (%d): its OpenMP threads share it; use mpirun "
                        "--bind-to none or --map-by slot:PE=%d",
                        r, cpu, nthreads) != 0)
            status = PK_ENOMEM;
    }
    free(owner);
    return status;
}

static const char *proc_bind_name(omp_proc_bind_t b)
{
    switch ((int)b) {
    case omp_proc_bind_false:
        return "false";
    case omp_proc_bind_true:
        return "true";
    case 2: /* omp_proc_bind_primary, spelt omp_proc_bind_master before OpenMP 5.1 */
        return "primary";
    case omp_proc_bind_close:
        return "close";
    case omp_proc_bind_spread:
        return "spread";
    default:
        return "unknown";
    }
}

/* The "openmp" object, from this process's OpenMP runtime; NULL when out of memory. */
static json_t *openmp_json(void)
{
    static const char *const vars[] = {"OMP_NUM_THREADS", "OMP_PROC_BIND", "OMP_PLACES",
                                       "OMP_WAIT_POLICY", "OMP_DYNAMIC",   "OMP_SCHEDULE"};
    json_t *env = json_object();
    int bad = 0;
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        bad |= json_object_set_new(env, vars[i], text_or_null(getenv(vars[i])));
    json_t *o = json_object();
    bad |= json_object_set_new(o, "version", json_integer(_OPENMP));
    bad |= json_object_set_new(o, "max_threads", json_integer(omp_get_max_threads()));
    bad |= json_object_set_new(o, "proc_bind", json_string(proc_bind_name(omp_get_proc_bind())));
    bad |= json_object_set_new(o, "num_places", json_integer(omp_get_num_places()));
    bad |= json_object_set_new(o, "dynamic", json_boolean(omp_get_dynamic()));
    bad |= json_object_set_new(o, "env", env);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The "mpi" object; NULL when out of memory. */
static json_t *mpi_json(const struct pk_comm *c)
{
    /* Only dist/ includes mpi.h. The standard orders the levels SINGLE < FUNNELED <
     * SERIALIZED < MULTIPLE, and Open MPI and MPICH both number them 0 to 3. */
    static const char *const levels[] = {"single", "funneled", "serialized", "multiple"};
    json_t *level = json_null();
    if (c->mpi && c->thread_level >= 0 && c->thread_level < 4)
        level = json_string(levels[c->thread_level]);
    char lib[MPI_LIBRARY_MAX];
    pk_dist_library_version(lib, sizeof lib);
    json_t *o = json_object();
    int bad = 0;
    bad |= json_object_set_new(o, "library", text_or_null(lib));
    bad |= json_object_set_new(o, "initialised", json_boolean(c->mpi));
    bad |= json_object_set_new(o, "thread_level", level);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The reported entry for one rank: the wire object without its extra fields. */
static json_t *rank_json(const json_t *wire)
{
    static const char *const keys[] = {"rank", "host", "cores", "cpuset", "threads"};
    json_t *o = json_object();
    int bad = 0;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        bad |= json_object_set(o, keys[i], json_object_get(wire, keys[i]));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* Threads of rank 0's host that fit its logical CPUs but not its physical cores share cores as
 * hardware threads: counted as cores, they would pass unflagged (hwloc builds only). */
static int smt_warning(json_t *warnings, const json_t *info, json_t *const *wire, int nranks)
{
    const char *host = str_field(wire[0], "host", "?");
    int phys = int_field(info, "physical_cores", -1), logical = int_field(info, "hw_threads", -1);
    int threads = 0;
    for (int r = 0; r < nranks; r++)
        if (strcmp(str_field(wire[r], "host", "?"), host) == 0)
            threads += (int)json_array_size(json_object_get(wire[r], "threads"));
    if (phys <= 0 || logical <= phys || threads <= phys || threads > logical)
        return 0;
    return add_warning(warnings,
                       "host %s: %d threads on %d physical cores: some share a core as "
                       "hardware threads",
                       host, threads, phys) != 0;
}

/* Rank 0: parses the gathered texts and builds the reported object into *out. */
static int build_info(const struct pk_comm *c, int nthreads, char **all, json_t **out)
{
    int n = c->nranks;
    int status = PK_OK;
    json_t *info = NULL;
    json_t *warnings = NULL;
    json_t **wire = calloc((size_t)n, sizeof *wire);
    if (!wire) {
        status = PK_ENOMEM;
        goto out;
    }
    for (int i = 0; i < n && status == PK_OK; i++)
        status = parse_wire(all[i], i, &wire[i]);
    if (status != PK_OK)
        goto out;

    warnings = json_array();
    if (!warnings) {
        status = PK_ENOMEM;
        goto out;
    }
    status = placement_warnings(warnings, wire, n);
    if (status != PK_OK)
        goto out;

    json_t *ranks = json_array();
    int bad = 0;
    for (int i = 0; i < n; i++)
        bad |= json_array_append_new(ranks, rank_json(wire[i]));

    info = json_object();
    bad |= json_object_set(info, "host", json_object_get(wire[0], "host"));
    bad |= json_object_set(info, "cores", json_object_get(wire[0], "cores"));
    bad |= json_object_set(info, "mem_total_bytes", json_object_get(wire[0], "mem_total_bytes"));
    bad |= json_object_set(info, "mem_available_bytes",
                           json_object_get(wire[0], "mem_available_bytes"));
    bad |= json_object_set_new(info, "nranks", json_integer(n));
    bad |= json_object_set_new(info, "nthreads", json_integer(nthreads));
    bad |= json_object_set_new(info, "openmp", openmp_json());
    bad |= json_object_set_new(info, "glibc_tunables", text_or_null(getenv("GLIBC_TUNABLES")));
    bad |= json_object_set_new(info, "mpi", mpi_json(c));
    bad |= json_object_set_new(info, "ranks", ranks);
    bad |= pk_topology_add(info);
    bad |= smt_warning(warnings, info, wire, n);
    bad |= json_object_set(info, "warnings", warnings);
    if (bad) {
        status = PK_ENOMEM;
        goto out;
    }
    *out = info;
    info = NULL;
out:
    json_decref(info);
    json_decref(warnings);
    if (wire)
        for (int i = 0; i < n; i++)
            json_decref(wire[i]);
    free(wire);
    return status;
}

int pk_sysinfo_gather(const struct pk_comm *c, int nthreads, json_t **out)
{
    if (!out)
        return PK_EINVAL;
    *out = NULL;
    if (!c)
        return PK_EINVAL;
    int status = PK_EINVAL;
    json_t *mine = NULL;
    char *text = NULL;
    char **all = NULL;

    if (nthreads >= 1)
        status = probe_rank(c, nthreads, &mine);
    if (status == PK_OK) {
        text = json_dumps(mine, JSON_COMPACT);
        if (!text)
            status = PK_ENOMEM;
    }
    /* A rank that failed still takes part in the gather, sending its status instead. */
    char failed[32];
    snprintf(failed, sizeof failed, "{\"status\": %d}", status);
    int rc = pk_dist_gather_strings(c, status == PK_OK ? text : failed, &all);
    if (status == PK_OK)
        status = rc;
    if (status == PK_OK && c->rank == 0)
        status = build_info(c, nthreads, all, out);

    pk_dist_free_strings(all, c->nranks);
    free(text);
    json_decref(mine);
    return status;
}

/* Report printing. Every field is read defensively: info may come from an older record. */

static void print_bytes(FILE *f, const json_t *v)
{
    /* GiB with one decimal: enough to tell machines apart, and what free -g users expect. */
    if (json_is_integer(v))
        fprintf(f, "%.1f GiB", (double)json_integer_value(v) / (1024.0 * 1024.0 * 1024.0));
    else
        fprintf(f, "unknown");
}

static void print_int(FILE *f, const json_t *v)
{
    if (json_is_integer(v))
        fprintf(f, "%lld", (long long)json_integer_value(v));
    else
        fprintf(f, "unknown");
}

static const char *yes_no(const json_t *v)
{
    if (!json_is_boolean(v))
        return "unknown";
    return json_is_true(v) ? "yes" : "no";
}

static void print_openmp(FILE *f, const json_t *omp)
{
    fprintf(f, "openmp:       version ");
    print_int(f, json_object_get(omp, "version"));
    fprintf(f, ", max threads ");
    print_int(f, json_object_get(omp, "max_threads"));
    fprintf(f, ", proc_bind %s, places ", str_field(omp, "proc_bind", "unknown"));
    print_int(f, json_object_get(omp, "num_places"));
    fprintf(f, ", dynamic %s\n", yes_no(json_object_get(omp, "dynamic")));

    const json_t *env = json_object_get(omp, "env");
    const char *key;
    const json_t *v;
    const char *sep = "";
    fprintf(f, "openmp env:   ");
    /* json_object_foreach takes a non-const object but only reads it. */
    json_object_foreach((json_t *)env, key, v)
    {
        fprintf(f, "%s%s=%s", sep, key, json_is_string(v) ? json_string_value(v) : "(unset)");
        sep = " ";
    }
    fprintf(f, "\n");
}

static void print_ranks(FILE *f, const json_t *ranks)
{
    size_t i;
    const json_t *r;
    json_array_foreach(ranks, i, r)
    {
        fprintf(f, "rank ");
        print_int(f, json_object_get(r, "rank"));
        fprintf(f, ": host %s, cores ", str_field(r, "host", "unknown"));
        print_int(f, json_object_get(r, "cores"));
        fprintf(f, ", cpuset %s\n", str_field(r, "cpuset", "unknown"));
        size_t k;
        const json_t *th;
        json_array_foreach(json_object_get(r, "threads"), k, th)
        {
            fprintf(f, "  thread ");
            print_int(f, json_object_get(th, "thread"));
            fprintf(f, ": cpu ");
            print_int(f, json_object_get(th, "cpu"));
            fprintf(f, ", cpuset %s\n", str_field(th, "cpuset", "unknown"));
        }
    }
}

/* The topology.c facts: CPU model, cores against hardware threads, frequency, kernel, load. */
static void print_topology(FILE *f, const json_t *info)
{
    fprintf(f, "cpu:          %s; ", str_field(info, "cpu_model", "unknown model"));
    print_int(f, json_object_get(info, "physical_cores"));
    fprintf(f, " physical cores, ");
    print_int(f, json_object_get(info, "hw_threads"));
    fprintf(f, " hardware threads, ");
    print_int(f, json_object_get(info, "numa_nodes"));
    fprintf(f, " NUMA nodes (%s)\n", str_field(info, "topology_from", "?"));
    const json_t *boost = json_object_get(info, "boost");
    fprintf(f, "frequency:    governor %s, boost %s\n", str_field(info, "governor", "unknown"),
            json_is_boolean(boost) ? yes_no(boost) : "unknown");
    const json_t *load = json_object_get(info, "load_avg");
    fprintf(f, "kernel:       %s, load average %.2f %.2f %.2f\n",
            str_field(info, "kernel", "unknown"), json_number_value(json_array_get(load, 0)),
            json_number_value(json_array_get(load, 1)), json_number_value(json_array_get(load, 2)));
    if (json_object_get(info, "slurm_job_id"))
        fprintf(f, "slurm:        job %s on %s\n", str_field(info, "slurm_job_id", "?"),
                str_field(info, "slurm_nodelist", "?"));
}

void pk_sysinfo_print(FILE *f, const json_t *info)
{
    if (!f || !info)
        return;
    fprintf(f, "host:         %s\n", str_field(info, "host", "unknown"));
    fprintf(f, "cores:        ");
    print_int(f, json_object_get(info, "cores"));
    fprintf(f, "\nmemory:       ");
    print_bytes(f, json_object_get(info, "mem_total_bytes"));
    fprintf(f, " total, ");
    print_bytes(f, json_object_get(info, "mem_available_bytes"));
    fprintf(f, " available\n");
    print_topology(f, info);
    print_openmp(f, json_object_get(info, "openmp"));

    const json_t *mpi = json_object_get(info, "mpi");
    fprintf(f, "mpi:          %s, initialised %s, thread level %s\n",
            str_field(mpi, "library", "unknown"), yes_no(json_object_get(mpi, "initialised")),
            str_field(mpi, "thread_level", "none"));
    fprintf(f, "layout:       ");
    print_int(f, json_object_get(info, "nranks"));
    fprintf(f, " ranks x ");
    print_int(f, json_object_get(info, "nthreads"));
    fprintf(f, " threads\n");
    print_ranks(f, json_object_get(info, "ranks"));

    size_t i;
    const json_t *w;
    json_array_foreach(json_object_get(info, "warnings"), i, w)
        fprintf(f, "warning: %s\n", json_is_string(w) ? json_string_value(w) : "?");
}

json_t *pk_sysinfo_for_command(const struct pk_comm *c, const char *cmd, int nthreads)
{
    json_t *info = NULL;
    if (pk_sysinfo_gather(c, nthreads, &info) != PK_OK && c->rank == 0)
        fprintf(stderr, "parkit %s: error: cannot gather machine facts; records will lack them\n",
                cmd);
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(info, "warnings"), i, w)
        fprintf(stderr, "parkit %s: warning: %s\n", cmd, json_string_value(w));
    return info;
}

long pk_sysinfo_usable_cores(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? n : 1;
}
