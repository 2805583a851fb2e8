#!/usr/bin/env bash
# Strong-scaling sweep over MPI ranks (and hybrid ranks x threads splits of a fixed core budget)
# on one machine: `mpirun -np r parkit sumsq ... --record FILE` for each split. Every point is a
# record; compare them with the JSON Lines file. Oversubscribed runs are allowed but recorded
# (and warned about by parkit itself).
# usage: jobs/sumsq-ranks.sh [CORES] -- SUMSQ-ARGS...   e.g. jobs/sumsq-ranks.sh 2 -- --array 1e8
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
parkit=${PARKIT:-$here/build/release/drivers/parkit}
cores=${1:-$(nproc)}
shift
[[ ${1:-} == -- ]] && shift
out=${OUT:-$here/results/sumsq-ranks/$(date +%Y%m%dT%H%M%S)}
mkdir -p "$out"
export OMPI_MCA_rmaps_base_oversubscribe=1
[[ $(id -u) -eq 0 ]] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
git -C "$here" rev-parse HEAD > "$out/git-commit" 2>/dev/null || true
"$parkit" info --format json > "$out/info.json"
for ((r = 1; r <= cores; r *= 2)); do
    t=$((cores / r))
    echo "== $r ranks x $t threads" >&2
    mpirun -np "$r" --bind-to none -x OMP_NUM_THREADS="$t" "$parkit" sumsq "$@" -t "$t" \
        --record "$out/records.jsonl"
done
echo "records: $out/records.jsonl" >&2
