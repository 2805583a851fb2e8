#!/bin/sh
# crashes.sh PARKIT SANITIZE CASE: crashes and memory (the hardening audit). The memory checks
# of allocation-heavy commands: the estimate covers the whole request, and the budget is the
# smallest of MemAvailable, the memory cgroup's limit and ulimit -v; a refusal is exit 2 naming
# both figures. And transform's file pipeline, run again and again (a use-after-free in its
# reader was seen 1-2 times in 40 runs under ASan).
#   ulimit_array    sumsq --array 1e9 (8 GB) under ulimit -v 3 GB
#   ulimit_factsum  factsum 1e8 (3.2 GB) under ulimit -v 3 GB
#   cgroup          factsum 1e7 (290 MB) in a memory cgroup of 200 MB (skipped where none can
#                   be made: not root, no memory controller)
#   many_marks      factsum 1..3000: the estimate is at least GMP's measured peak
#   pipeline_stress transform --input RAW --output OUT, 6 runs: each output the same bytes
# ulimit -v cannot run under AddressSanitizer (its shadow memory): skipped there.
set -u
P=$1 sanitize=$2 case=$3
fail() { echo "crashes.sh $case: $*" >&2; exit 1; }
expect_refusal() { # expect_refusal OUT_FILE RC PATTERN
    cat "$1"
    [ "$2" = 2 ] || fail "exit $2, expected 2"
    grep -Eq "$3" "$1" || fail "no message matching '$3'"
}
case $case in
ulimit_array|ulimit_factsum)
    [ -z "$sanitize" ] || { echo "skipped: ulimit -v under -fsanitize=$sanitize"; exit 77; }
    if [ $case = ulimit_array ]; then set -- sumsq --array 1e9; what="an array of 1000000000 values"
    else set -- factsum 1e8 --reps 1 --warmup 0; what="!100000000"; fi
    out=$(mktemp); rc=0
    (ulimit -v 3000000 && exec "$P" "$@") > "$out" 2>&1 || rc=$?
    expect_refusal "$out" $rc "$what needs about [0-9.]+ GB \(estimate\), more than the [0-9.]+ GB left under ulimit -v"
    rm -f "$out" ;;
cgroup)
    root=
    for m in /sys/fs/cgroup/memory /sys/fs/cgroup; do
        if [ -e "$m/memory.limit_in_bytes" ] || [ -e "$m/cgroup.controllers" ]; then root=$m; break; fi
    done
    [ -n "$root" ] || { echo "skipped: no memory cgroup hierarchy"; exit 77; }
    g=$root/parkit-test-$$
    mkdir "$g" 2> /dev/null || { echo "skipped: cannot make a cgroup under $root"; exit 77; }
    trap 'rmdir "$g" 2> /dev/null' EXIT
    if [ -e "$g/memory.limit_in_bytes" ]; then echo 200M > "$g/memory.limit_in_bytes"
    else echo 200M > "$g/memory.max" 2> /dev/null || { echo "skipped: no memory controller in $g"; exit 77; }; fi
    out=$(mktemp); rc=0
    sh -c 'echo $$ > "$1/cgroup.procs" && exec "$2" factsum 1e7 --reps 1 --warmup 0' sh "$g" "$P" \
        > "$out" 2>&1 || rc=$?
    expect_refusal "$out" $rc "!10000000 needs about 0.2[0-9]* GB \(estimate\), more than the 0.[0-9]+ GB the cgroup's memory"
    rm -f "$out" ;;
many_marks)
    out=$(mktemp)
    "$P" factsum $(seq 1 3000) --reps 1 --warmup 0 --format json > "$out" || fail "factsum failed"
    python3 - "$out" <<'PY' || fail "the estimate is below the measured peak"
import json, sys
m = json.load(open(sys.argv[1]))["memory"]
print("estimate", m["estimate_bytes"], "GMP peak", m["gmp_peak_bytes"])
sys.exit(0 if m["estimate_bytes"] >= m["gmp_peak_bytes"] else 1)
PY
    rm -f "$out" ;;
pipeline_stress)
    work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
    python3 -c 'import struct, sys
with open(sys.argv[1], "wb") as f:
    for k in range(0, 3000011, 100000):
        f.write(struct.pack("<%dd" % min(100000, 3000011 - k), *[(k + i) * 0.5 - 1e6 for i in range(min(100000, 3000011 - k))]))' "$work/in.f64"
    i=1
    while [ $i -le 6 ]; do
        "$P" transform --input "$work/in.f64" --output "$work/out$i.f64" --reps 1 --warmup 0 -t 2 \
            > "$work/log" 2>&1 || { cat "$work/log"; fail "run $i failed"; }
        if [ $i != 1 ]; then # the first run's output is the reference
            cmp -s "$work/out1.f64" "$work/out$i.f64" || fail "run $i wrote other bytes"
            rm -f "$work/out$i.f64"
        fi
        i=$((i + 1))
    done ;;
*) fail "unknown case" ;;
esac
