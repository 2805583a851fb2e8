#!/usr/bin/env bash
# Strong-scaling sweep of sumsq over hybrid ranks x threads splits of a fixed core budget on one
# machine. Kept for its old command line; it is now a thin wrapper around jobs/ranks-sweep.sh
# (which also does pure rank sweeps, weak mode and any kernel: see its header).
# usage: jobs/sumsq-ranks.sh [CORES] -- SUMSQ-ARGS...   e.g. jobs/sumsq-ranks.sh 2 -- --array 1e8
# Environment: PARKIT (binary), OUT (results directory; default results/sumsq-ranks/<timestamp>)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cores=$(nproc)
if [[ ${1:-} != -- && -n ${1:-} ]]; then cores=$1; shift; fi
[[ ${1:-} == -- ]] && shift
exec "$here/ranks-sweep.sh" --cores "$cores" --ranks none --experiment sumsq-ranks \
    ${OUT:+--out "$OUT"} -- sumsq "$@"
