#!/usr/bin/env bash
# usage: invariance.sh PARKIT MPIEXEC|- CONFIGS -- SUMSQ-ARGS...
# Runs `parkit sumsq SUMSQ-ARGS` once per configuration and fails unless every run printed the
# same result (the hex float, or the exact integer), and every run verified. CONFIGS is a space
# separated list of RANKSxTHREADS (e.g. "1x1 1x3 2x1 3x2"); ranks > 0 run under MPIEXEC.
set -euo pipefail
parkit=$1 mpiexec=$2 configs=$3
shift 3
[[ $1 == -- ]] && shift
first="" status=0
for cfg in $configs; do
    np=${cfg%x*} t=${cfg#*x}
    if [[ $mpiexec == - || $np == 0 ]]; then
        out=$("$parkit" sumsq "$@" -t "$t" --reps 1 --warmup 0 --format csv)
    else
        out=$("$mpiexec" -n "$np" --bind-to none "$parkit" sumsq "$@" -t "$t" --reps 1 \
              --warmup 0 --format csv)
    fi
    row=$(printf '%s\n' "$out" | sed -n 2p)
    result=$(printf '%s' "$row" | cut -d, -f12)
    verified=$(printf '%s' "$row" | cut -d, -f13)
    printf '%-6s result=%s verified=%s\n' "$cfg" "$result" "$verified"
    [[ $verified == yes ]] || status=1
    if [[ -z $first ]]; then
        first=$result
    elif [[ $result != "$first" ]]; then
        echo "MISMATCH: $cfg gave $result, first configuration gave $first"
        status=1
    fi
done
exit $status
