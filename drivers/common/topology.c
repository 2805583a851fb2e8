/* SPDX-License-Identifier: MIT */
#define _DEFAULT_SOURCE /* getloadavg */
#include "topology.h"

#include "parkit/features.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#if PK_FEATURE_HWLOC
#    include <hwloc.h>
#endif

/* The first line of a file, without its newline, as a JSON string; null when unreadable. */
static json_t *file_line(const char *path)
{
    char buf[256];
    FILE *f = fopen(path, "r");
    bool ok = f && fgets(buf, sizeof buf, f);
    if (f)
        fclose(f);
    if (!ok)
        return json_null();
    buf[strcspn(buf, "\n")] = 0;
    return json_string(buf);
}

/* text without its trailing blanks (CPUID pads the model name), as a JSON string. */
static json_t *trimmed(const char *text)
{
    size_t n = strlen(text);
    while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\t'))
        n--;
    return json_stringn(text, n);
}

/* "model name" of /proc/cpuinfo (x86; others name it differently or not at all). */
static json_t *cpuinfo_model(void)
{
    char line[512];
    FILE *f = fopen("/proc/cpuinfo", "r");
    json_t *model = NULL;
    while (f && !model && fgets(line, sizeof line, f)) {
        const char *colon = strchr(line, ':');
        if (colon && strncmp(line, "model name", 10) == 0) {
            colon += 1 + (colon[1] == ' ');
            line[strcspn(line, "\n")] = 0;
            model = trimmed(colon);
        }
    }
    if (f)
        fclose(f);
    return model ? model : json_null();
}

/* Turbo/boost: the generic cpufreq switch, else intel_pstate's (inverted); null when neither. */
static json_t *boost(void)
{
    json_t *b = file_line("/sys/devices/system/cpu/cpufreq/boost");
    if (json_is_string(b)) {
        bool on = strcmp(json_string_value(b), "1") == 0;
        json_decref(b);
        return json_boolean(on);
    }
    json_t *nt = file_line("/sys/devices/system/cpu/intel_pstate/no_turbo");
    if (!json_is_string(nt))
        return nt;
    bool on = strcmp(json_string_value(nt), "0") == 0;
    json_decref(nt);
    return json_boolean(on);
}

/* Cores, hardware threads, NUMA nodes and packages: hwloc's counts, else the logical CPUs
 * alone (a machine with SMT then looks like one without). */
static void counts(json_t *o)
{
#if PK_FEATURE_HWLOC
    hwloc_topology_t t;
    int ok = hwloc_topology_init(&t) == 0;
    /* caches are not reported: not discovering them saves part of the ~10 ms a load takes */
    if (ok && hwloc_topology_set_cache_types_filter(t, HWLOC_TYPE_FILTER_KEEP_NONE) == 0 &&
        hwloc_topology_load(t) == 0) {
        int cores = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_CORE);
        int pus = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PU);
        int numa = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_NUMANODE);
        int pkgs = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PACKAGE);
        hwloc_obj_t pkg = hwloc_get_obj_by_type(t, HWLOC_OBJ_PACKAGE, 0);
        const char *model = pkg ? hwloc_obj_get_info_by_name(pkg, "CPUModel") : NULL;
        json_object_set_new(o, "physical_cores", cores > 0 ? json_integer(cores) : json_null());
        json_object_set_new(o, "hw_threads", pus > 0 ? json_integer(pus) : json_null());
        json_object_set_new(o, "numa_nodes", numa > 0 ? json_integer(numa) : json_null());
        json_object_set_new(o, "packages", pkgs > 0 ? json_integer(pkgs) : json_null());
        json_object_set_new(o, "cpu_model", model ? trimmed(model) : cpuinfo_model());
        json_object_set_new(o, "topology_from", json_string("hwloc"));
        hwloc_topology_destroy(t);
        return;
    }
    if (ok)
        hwloc_topology_destroy(t);
#endif
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    json_object_set_new(o, "physical_cores", json_null());
    json_object_set_new(o, "hw_threads", n > 0 ? json_integer(n) : json_null());
    json_object_set_new(o, "numa_nodes", json_null());
    json_object_set_new(o, "packages", json_null());
    json_object_set_new(o, "cpu_model", cpuinfo_model());
    json_object_set_new(o, "topology_from", json_string("sysconf"));
}

static json_t *gather(void)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    counts(o);
    json_object_set_new(o, "governor",
                        file_line("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"));
    json_object_set_new(o, "boost", boost());
    struct utsname u;
    json_object_set_new(o, "kernel", uname(&u) == 0 ? json_string(u.release) : json_null());
    double load[3];
    json_object_set_new(o, "load_avg",
                        getloadavg(load, 3) == 3 ? json_pack("[f, f, f]", load[0], load[1], load[2])
                                                 : json_null());
    const char *job = getenv("SLURM_JOB_ID"), *nodes = getenv("SLURM_JOB_NODELIST");
    if (job)
        json_object_set_new(o, "slurm_job_id", json_string(job));
    if (nodes)
        json_object_set_new(o, "slurm_nodelist", json_string(nodes));
    return o;
}

int pk_topology_add(json_t *info)
{
    static json_t *facts; /* read once: the load when the command started */
    if (!facts)
        facts = gather();
    if (!facts)
        return -1;
    return json_object_update(info, facts);
}
