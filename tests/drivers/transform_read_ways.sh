#!/usr/bin/env bash
# transform_read_ways.sh PARKIT IOTA: a raw file read both ways (--read copy: the kernel's threads
# read; --read map: a reader stage maps), with and without --output (the pipeline, or one kernel
# run), gives the generated range's bits in every chunk and in the total, verified, and both
# write the same values.
set -euo pipefail
parkit=$1 iota=$2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
rows() { # ARGS...: every chunk's and the total's columns, one line
    "$parkit" transform --chunk 997 --op heavy -t 2 --reps 1 --warmup 0 --per-chunk --format csv "$@" |
        sed 1d | cut -d, -f12,15-23 | paste -sd ' '
}
want=$(rows -n 100003)
[[ $want == *total,*,yes ]] || { echo "range: $want"; exit 1; }
for way in copy map; do
    for output in "" "--output $out/$way.f64"; do
        # shellcheck disable=SC2086 # $output is empty or two words
        got=$(rows --input "$iota" --read "$way" $output)
        [[ $got == "$want" ]] || { echo "--read $way $output: $got"; echo "range: $want"; exit 1; }
        echo "--read $way ${output:+with --output}: same bits"
    done
done
cmp "$out/copy.f64" "$out/map.f64"
# the record says which way
for way in copy map; do
    "$parkit" transform --input "$iota" --read "$way" --reps 1 --warmup 0 --format json |
        python3 -c "import json, sys; p = json.load(sys.stdin)['params']; assert p['read'] == '$way', p"
done
[[ $(wc -c < "$out/copy.f64") == 800024 ]]
echo "the values written: the same bytes"
