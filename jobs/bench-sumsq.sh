#!/usr/bin/env bash
# Sum-of-squares speed against its anchors, measured in the same invocation: a STREAM-like
# read-bandwidth probe and numpy's np.dot (OpenBLAS) for --array; numpy's randn + sum for
# --gauss; the per-element cost for --range. Prints medians and ratios; appends every parkit run
# to $OUT/records.jsonl. Speed is never asserted: this script measures and reports.
#
# usage: jobs/bench-sumsq.sh [PARKIT] [ANCHORS_DIR]
#   PARKIT       default build/release/drivers/parkit
#   ANCHORS_DIR  folder with stream.c and timing.h (default ../shared/anchors/numeric)
#   env: N_ARRAY (1e8) N_RANGE (1e9) N_GAUSS (1e8) REPS (7) THREADS ("1 2") OUT (results/bench-sumsq)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
results=$here/results; [[ -f $here/CMakeLists.txt ]] || results=$PWD/results  # installed: ./results
parkit=${1:-$here/build/release/drivers/parkit}
# installed as PREFIX/share/parkit/jobs: PREFIX/bin/parkit, else parkit on PATH
if [[ -z ${1:-} && ! -x $parkit ]]; then
    parkit=$here/../../bin/parkit; [[ -x $parkit ]] || parkit=$(command -v parkit || echo "$parkit")
fi
anchors=${2:-$here/../shared/anchors/numeric}
N_ARRAY=${N_ARRAY:-1e8} N_RANGE=${N_RANGE:-1e9} N_GAUSS=${N_GAUSS:-1e8} REPS=${REPS:-7}
THREADS=${THREADS:-"1 2"} OUT=${OUT:-$results/bench-sumsq}
mkdir -p "$OUT"
rec=$OUT/records.jsonl
n_array=$("$parkit" sumsq --array "$N_ARRAY" --reps 1 --warmup 0 --no-verify --format csv | sed -n 2p | cut -d, -f8)
n_array=${n_array:-100000000}

stream=""
if [[ -f $anchors/stream.c ]]; then
    stream=$(mktemp -d)/stream
    gcc -O3 -march=native -fopenmp -I"$anchors" "$anchors/stream.c" -o "$stream"
fi
py=/usr/bin/python3
have_numpy=0
$py -c 'import numpy' 2>/dev/null && have_numpy=1

median_field() { # median of parkit's timing from a JSON record on stdin
    $py -c 'import json,sys; print(json.load(sys.stdin)["timing"]["median_s"])' 2>/dev/null ||
        sed -n 's/.*"median_s": \([0-9.e+-]*\).*/\1/p'
}

printf '%-34s %3s %12s %12s %10s\n' "run" "thr" "median_s" "rate" "ratio"
for t in $THREADS; do
    # --array: parkit vs the read-bandwidth probe and np.dot, back to back
    if [[ -n $stream ]]; then
        bw=$(OMP_NUM_THREADS=$t "$stream" "$n_array" "$REPS" sum | sed -n 's/.*median *\([0-9.]*\) GB\/s.*/\1/p')
    else
        bw=""
    fi
    pk=$("$parkit" sumsq --array "$N_ARRAY" -t "$t" --reps "$REPS" --format json --record "$rec" | median_field)
    pk_gbs=$(awk -v n="$n_array" -v s="$pk" 'BEGIN{printf "%.2f", 8*n/s/1e9}')
    printf '%-34s %3s %12.5f %9s GB/s\n' "parkit sumsq --array $N_ARRAY" "$t" "$pk" "$pk_gbs"
    [[ -n $bw ]] && printf '%-34s %3s %12s %9s GB/s %9.3f  (parkit / probe)\n' "stream sum probe" "$t" "-" "$bw" \
        "$(awk -v a="$pk_gbs" -v b="$bw" 'BEGIN{print a/b}')"
    if [[ $have_numpy == 1 ]]; then
        np=$(OPENBLAS_NUM_THREADS=$t $py - "$n_array" "$REPS" <<'PY'
import sys, time, numpy as np
n, reps = int(sys.argv[1]), int(sys.argv[2])
x = np.random.default_rng(1).uniform(-1, 1, n)
np.dot(x, x)
ts = []
for _ in range(reps):
    t0 = time.perf_counter(); np.dot(x, x); ts.append(time.perf_counter() - t0)
print(sorted(ts)[len(ts) // 2])
PY
)
        printf '%-34s %3s %12.5f %9s      %9.3f  (numpy time / parkit time)\n' "numpy np.dot(x,x)" "$t" "$np" "-" \
            "$(awk -v a="$np" -v b="$pk" 'BEGIN{print a/b}')"
    fi
    # --range: ns per element per core
    pr=$("$parkit" sumsq --range "$N_RANGE" -t "$t" --reps "$REPS" --format json --record "$rec" | median_field)
    printf '%-34s %3s %12.5f %9s ns/elem/core\n' "parkit sumsq --range $N_RANGE" "$t" "$pr" \
        "$(awk -v s="$pr" -v n="$N_RANGE" -v t="$t" 'BEGIN{printf "%.4f", s/n*1e9*t}')"
    # --gauss: ns per element per core vs numpy randn + sum of squares
    pg=$("$parkit" sumsq --gauss "$N_GAUSS" -t "$t" --reps 3 --format json --record "$rec" | median_field)
    pg_ns=$(awk -v s="$pg" -v n="$N_GAUSS" -v t="$t" 'BEGIN{printf "%.3f", s/n*1e9*t}')
    printf '%-34s %3s %12.5f %9s ns/elem/core\n' "parkit sumsq --gauss $N_GAUSS" "$t" "$pg" "$pg_ns"
done
if [[ $have_numpy == 1 ]]; then
    npg=$($py - <<'PY'
import time, numpy as np
ts = []
for _ in range(5):
    t0 = time.perf_counter()
    s = sum(float(np.sum(np.random.RandomState(k).randn(1_000_000) ** 2)) for k in range(10))
    ts.append(time.perf_counter() - t0)
print(sorted(ts)[2] / 1e7 * 1e9)
PY
)
    printf '%-34s %3s %12s %9s ns/elem (1 core; the tutorial code)\n' "numpy randn(1e6)**2 sum x10" 1 "-" "$npg"
fi
echo "records: $rec"
