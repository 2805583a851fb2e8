#!/usr/bin/env bash
# `parkit files` against its anchor, the tutorials' csv module in a ThreadPoolExecutor
# (jobs/files_anchor.py), on the same made sets in the same invocation: sequential and pooled
# medians of each, parkit's speedup, and how many times faster parkit is. The anchor also reads
# parkit's --summary and checks every count, sum, min and max bit for bit (math.fsum rounds the
# exact sum, as parkit's accumulator does). Speed is never asserted: this script measures.
#
# usage: jobs/bench-files.sh [PARKIT]
#   PARKIT   default build/release/drivers/parkit
#   env: SETS ("20x10000 200x100000": COUNTxROWS) WORKERS (8) REPS (5) PY_REPS (5)
#        PY_MAX_ROWS (5000000: larger sets run the anchor once) OUT (results/bench-files)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
results=$here/results; [[ -f $here/CMakeLists.txt ]] || results=$PWD/results  # installed: ./results
parkit=${1:-$here/build/release/drivers/parkit}
# installed as PREFIX/share/parkit/jobs: PREFIX/bin/parkit, else parkit on PATH
if [[ -z ${1:-} && ! -x $parkit ]]; then
    parkit=$here/../../bin/parkit; [[ -x $parkit ]] || parkit=$(command -v parkit || echo "$parkit")
fi
SETS=${SETS:-"20x10000 200x100000"} WORKERS=${WORKERS:-8} REPS=${REPS:-5} PY_REPS=${PY_REPS:-5}
PY_MAX_ROWS=${PY_MAX_ROWS:-5000000} OUT=${OUT:-$results/bench-files}
py=/usr/bin/python3
[[ -x $parkit ]] || { echo "build $parkit first (cmake --build --preset release)" >&2; exit 2; }
mkdir -p "$OUT"
field() { $py -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {}, d))" "$1"; }

printf '%-12s %9s %9s %8s  %9s %9s %8s  %9s %s\n' set "parkit_s" "pooled_s" speedup \
    "python_s" "pooled_s" speedup "x_faster" "check"
for set in $SETS; do
    count=${set%x*} rows=${set#*x} dir=$OUT/set-$set
    "$parkit" files --make "$dir" --count "$count" --rows "$rows" --workers "$WORKERS" >/dev/null
    "$parkit" files "$dir" --workers "$WORKERS" --reps "$REPS" --summary "$OUT/summary-$set.csv" \
        --record "$OUT/records.jsonl" --format json >"$OUT/parkit-$set.json"
    pr=$PY_REPS
    ((count * rows <= PY_MAX_ROWS)) || pr=1
    "$py" "$here/jobs/files_anchor.py" "$dir" --workers "$WORKERS" --reps "$pr" \
        --check "$OUT/summary-$set.csv" >"$OUT/python-$set.json" || true
    ps=$(field "result['sequential_s']" <"$OUT/parkit-$set.json")
    pp=$(field "result['pooled_s']" <"$OUT/parkit-$set.json")
    ys=$(field "sequential_median_s" <"$OUT/python-$set.json")
    yp=$(field "pooled_median_s" <"$OUT/python-$set.json")
    chk=$(field "f'{checked - mismatches}/{checked} match, py reps {len(pooled_s)}'" <"$OUT/python-$set.json")
    printf '%-12s %9.4f %9.4f %7.2fx  %9.3f %9.3f %7.2fx  %8.1fx %s\n' "$set" "$ps" "$pp" \
        "$($py -c "print($ps/$pp)")" "$ys" "$yp" "$($py -c "print($ys/$yp)")" \
        "$($py -c "print($yp/$pp)")" "$chk"
done
echo "parkit: medians of $REPS runs, $WORKERS workers, files in the page cache; x_faster = python"
echo "pooled / parkit pooled. Records: $OUT/records.jsonl"
