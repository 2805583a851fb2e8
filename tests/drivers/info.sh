#!/usr/bin/env bash
# info.sh PARKIT SCENARIO [HWLOC]: `parkit info` as a user and the job scripts read it: --format
# csv parsed by Python's csv module, --format json with the facts at the top (jobs/ read .ranks),
# -t changing the threads it shows, the shared options it cannot honour refused, and the
# provenance every record carries (HWLOC yes: the topology from hwloc), checked against sysfs.
set -euo pipefail
parkit=$1 scenario=$2
. "$(dirname "$0")/lib.sh" info info

case $scenario in
csv) # a header row, then one row per OpenMP thread of each rank
    run 0 -t 3 --format csv
    python3 - "$work/stdout" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
assert [r["thread"] for r in rows] == ["0", "1", "2"], rows
assert all(r["rank"] == "0" and r["host"] and r["cpu"].isdigit() for r in rows), rows
PY
    ;;
json) # the facts at the top level, and -t is the thread count they describe
    run 0 -t 3 --format json --record "$work/r.jsonl"
    python3 - "$work/stdout" "$work/r.jsonl" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["command"] == "info" and d["nthreads"] == 3, d
assert len(d["ranks"]) == 1 and len(d["ranks"][0]["threads"]) == 3, d["ranks"]
r = [json.loads(l) for l in open(sys.argv[2])]
assert len(r) == 1 and r[0]["ranks"] == d["ranks"] and "version" in r[0]["provenance"], r
PY
    ;;
no_shared) # nothing timed or verified: no --reps, --warmup or --no-verify
    run 0 --help
    cp "$work/stdout" "$work/help"
    for o in --reps --warmup --no-verify; do
        grep -q -- "$o" "$work/help" && fail "help lists $o"
        if [[ $o == --no-verify ]]; then run 2 "$o"; else run 2 "$o" 2; fi
        grep -q "option '$o' does not apply to parkit info" "$work/stderr" || fail "$o not named"
    done
    for o in --threads --record --format --help; do
        grep -q -- "$o" "$work/help" || fail "help lacks $o"
    done
    ;;
provenance) # in every record's machine block; cores counted by (package, core) in sysfs
    SLURM_JOB_ID=4242 SLURM_JOB_NODELIST='n[1-2]' "$parkit" sumsq --range 1000 --reps 1 \
        --record "$work/s.jsonl" > /dev/null
    env -u SLURM_JOB_ID -u SLURM_JOB_NODELIST "$parkit" sumsq --range 1000 --reps 1 \
        --record "$work/n.jsonl" > /dev/null
    run 0 --format json
    python3 - "$work" "${3:-no}" <<'PY'
import glob, json, os, sys
work, hwloc = sys.argv[1], sys.argv[2] == "yes"
s = json.loads(open(work + "/s.jsonl").readline())["provenance"]["machine"]
n = json.loads(open(work + "/n.jsonl").readline())["provenance"]["machine"]
i = json.load(open(work + "/stdout"))
assert s["slurm_job_id"] == "4242" and s["slurm_nodelist"] == "n[1-2]", s
assert "slurm_job_id" not in n and "slurm_nodelist" not in n
online = [d for d in glob.glob("/sys/devices/system/cpu/cpu[0-9]*") if os.path.exists(d + "/topology/core_id")]
cores = {(open(d + "/topology/physical_package_id").read(), open(d + "/topology/core_id").read()) for d in online}
for m in (n, i):
    assert m["kernel"] == os.uname().release, m["kernel"]
    assert len(m["load_avg"]) == 3 and all(x >= 0 for x in m["load_avg"])
    assert m["governor"] is None or isinstance(m["governor"], str)
    assert m["boost"] in (None, True, False)
    assert isinstance(m["cpu_model"], str) and m["cpu_model"] == m["cpu_model"].strip()
    if hwloc:
        assert m["topology_from"] == "hwloc"
        assert m["hw_threads"] == len(online), (m["hw_threads"], len(online))
        assert m["physical_cores"] == len(cores), (m["physical_cores"], cores)
        assert m["numa_nodes"] >= 1 and m["packages"] >= 1
    else:
        assert m["topology_from"] == "sysconf" and m["physical_cores"] is None
PY
    grep -Eq '^cpu: .*physical cores, [0-9]+ hardware threads' <("$parkit" info) || fail "info text"
    ;;
hwloc_plugins) # hwloc's GPU and XML plugins stay unloaded (12 ms a command), unless the user lists their own
    [[ ${3:-no} == yes ]] || exit 0
    plugins=(/usr/lib/*/hwloc/hwloc_gl.so /usr/lib/*/hwloc/hwloc_opencl.so)
    [[ -e ${plugins[0]} || -e ${plugins[1]} ]] || { echo "no hwloc plugins installed: nothing to check"; exit 0; }
    opened() { env "$@" LD_DEBUG=files "$parkit" info 2>&1 >/dev/null | grep -Eo 'hwloc_[a-z_]+\.so' | sort -u | tr '\n' ' '; }
    seen=$(opened -u HWLOC_PLUGINS_BLACKLIST)
    [[ $seen != *hwloc_gl.so* && $seen != *hwloc_opencl.so* && $seen != *hwloc_xml_libxml.so* ]] ||
        fail "plugins loaded by default: $seen"
    seen=$(opened HWLOC_PLUGINS_BLACKLIST=hwloc_pci)
    [[ $seen == *hwloc_gl.so* || $seen == *hwloc_opencl.so* ]] || fail "the user's own list was replaced: '$seen'"
    grep -Eq '^cpu: .*physical cores' <("$parkit" info) || fail "info text"
    ;;
*) fail "unknown scenario" ;;
esac
