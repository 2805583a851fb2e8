#!/usr/bin/env bash
# usage: same_output.sh PARKIT MPIEXEC|- CONFIGS COLUMNS -- COMMAND ARGS...
# Runs `parkit COMMAND ARGS --format csv` once per configuration RANKSxTHREADS (ranks 0: no
# launcher) and fails unless the chosen CSV columns (e.g. "2,3,4,5,7") of every row are the same
# in every run and every row says verified=yes (last column).
set -euo pipefail
parkit=$1 mpiexec=$2 configs=$3 cols=$4
shift 4
[[ $1 == -- ]] && shift
first="" status=0
for cfg in $configs; do
    np=${cfg%x*} t=${cfg#*x}
    if [[ $mpiexec == - || $np == 0 ]]; then
        out=$("$parkit" "$@" -t "$t" --reps 1 --warmup 0 --format csv)
    else
        out=$("$mpiexec" -n "$np" --bind-to none "$parkit" "$@" -t "$t" --reps 1 --warmup 0 \
              --format csv)
    fi
    rows=$(printf '%s\n' "$out" | sed 1d)
    picked=$(printf '%s\n' "$rows" | cut -d, -f"$cols")
    if printf '%s\n' "$rows" | awk -F, '$NF != "yes" {bad=1} END {exit !bad}'; then
        echo "$cfg: a row is not verified"
        status=1
    fi
    echo "$cfg: $(printf '%s' "$picked" | tr '\n' ' ' | cut -c1-150)"
    if [[ -z $first ]]; then
        first=$picked
    elif [[ $picked != "$first" ]]; then
        echo "MISMATCH in $cfg"
        status=1
    fi
done
exit $status
