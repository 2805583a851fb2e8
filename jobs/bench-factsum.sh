#!/usr/bin/env bash
# Left factorial speed against its anchors, side by side in one invocation: the tutorials'
# Python (sequential and multiprocessing.Pool(2) over !1000..!4000), then parkit on the same
# workload, on !1e6 at 1 and 2 threads (and its decimal conversion), !1e7, and 2 MPI ranks
# against 1 rank with 2 threads. Medians; every parkit run is appended to $OUT/records.jsonl.
# usage: jobs/bench-factsum.sh [PARKIT]   env: REPS (5) BIG (1e7, empty to skip) OUT
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
results=$here/results; [[ -f $here/CMakeLists.txt ]] || results=$PWD/results  # installed: ./results
parkit=${1:-$here/build/release/drivers/parkit}
# installed as PREFIX/share/parkit/jobs: PREFIX/bin/parkit, else parkit on PATH
if [[ -z ${1:-} && ! -x $parkit ]]; then
    parkit=$here/../../bin/parkit; [[ -x $parkit ]] || parkit=$(command -v parkit || echo "$parkit")
fi
REPS=${REPS:-5} BIG=${BIG-1e7} OUT=${OUT:-$results/bench-factsum}
mkdir -p "$OUT"
rec=$OUT/records.jsonl
py=/usr/bin/python3
[[ $(id -u) -eq 0 ]] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

median_of() { # command... -> median of parkit's timing.median_s over its --format json output
    "$@" --format json --record "$rec" | $py -c 'import json,sys; r=json.load(sys.stdin); print(r["timing"]["median_s"], r.get("decimal_s", 0), r["verified"])'
}

tut=$($py - "$REPS" <<'PY'
import math, sys, time
from multiprocessing import Pool
ns, reps = [1000, 2000, 3000, 4000], int(sys.argv[1])
def left(n):
    return sum(math.factorial(i) for i in range(n))
def med(f):
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter(); f(); ts.append(time.perf_counter() - t0)
    return sorted(ts)[len(ts) // 2]
seq = med(lambda: [left(n) for n in ns])
with Pool(2) as p:
    p.map(left, ns)  # pool start-up not timed, as in the anchors
    pool = med(lambda: p.map(left, ns))
print(seq, pool)
PY
)
read -r py_seq py_pool <<<"$tut"
printf '%-44s %12s %12s\n' "run" "median_s" "vs Pool(2)"
printf '%-44s %12.6f %12s\n' "python sum(factorial) x4, sequential" "$py_seq" "-"
printf '%-44s %12.6f %12s\n' "python Pool(2).map x4" "$py_pool" "1"
for t in 1 2; do
    read -r s d v < <(median_of "$parkit" factsum 1000 2000 3000 4000 -t "$t" --reps "$REPS")
    printf '%-44s %12.6f %11.0fx  verified=%s\n' "parkit factsum 1000..4000 -t $t" "$s" \
        "$(awk -v a="$py_pool" -v b="$s" 'BEGIN{print a/b}')" "$v"
done
for t in 1 2; do
    read -r s d v < <(median_of "$parkit" factsum 1e6 -t "$t" --reps "$REPS")
    printf '%-44s %12.6f  decimal %.3f s  verified=%s\n' "parkit factsum 1e6 -t $t" "$s" "$d" "$v"
done
if command -v mpirun >/dev/null; then
    read -r s d v < <(median_of mpirun -np 1 --bind-to none "$parkit" factsum 1e6 -t 2 --reps "$REPS")
    printf '%-44s %12.6f  verified=%s\n' "mpirun -np 1, 2 threads: factsum 1e6" "$s" "$v"
    read -r s d v < <(median_of mpirun -np 2 "$parkit" factsum 1e6 -t 1 --reps "$REPS")
    printf '%-44s %12.6f  verified=%s\n' "mpirun -np 2, 1 thread each: factsum 1e6" "$s" "$v"
fi
if [[ -n $BIG ]]; then
    read -r s d v < <(median_of "$parkit" factsum "$BIG" -t 2 --reps 1 --warmup 0)
    printf '%-44s %12.6f  decimal %.3f s  verified=%s\n' "parkit factsum $BIG -t 2" "$s" "$d" "$v"
fi
read -r s d v < <(median_of "$parkit" fib 1e5 2e5 3e5 4e5 -t 2 --reps "$REPS")
printf '%-44s %12.6f  verified=%s\n' "parkit fib 1e5 2e5 3e5 4e5 -t 2" "$s" "$v"
echo "records: $rec"
