#!/bin/sh
# SPDX-License-Identifier: MIT
# mkrecords.sh DIR: writes synthetic parkit records (JSON Lines) for the `parkit report` tests:
#   serial.jsonl  a deliberately serial kernel: the same times at 1, 2, 4 and 8 workers
#   ideal.jsonl   a perfectly parallel kernel: T = 8 s / p (with `scale` blocks)
#   weak.jsonl    ideal weak scaling: the same time at every count, size growing with p
#   mixed.jsonl   the ideal kernel measured on two hosts
#   bad.jsonl     two good records among a truncated line, a wrong type, an unknown kernel and a
#                 failed verification
#   base.jsonl    the ideal kernel built with gcc; slow.jsonl: 1.5 times slower, built with clang
#   nobase.jsonl  2 and 4 workers only (no 1-worker point); empty.jsonl: nothing
#   gate_*.jsonl  the regression gate's sets at 1, 2 and 4 workers: gate_base (machine.cpu_model
#                 "CPU A"), gate_slow 1.3 times slower (also at 8 workers, which the baseline
#                 lacks) on "CPU B <&> "q"" with a machine.governor the baseline lacks,
#                 gate_noise the same distribution as the base, gate_fast 0.7 times, gate_small
#                 1.05 times (significant, but small)
# The jitter (+-1%, +-2%) is the same at every point, so the medians are exact.
set -eu
dir=${1:-.}
mkdir -p "$dir"

# rec THREADS RANKS HOST COMPILER TIMES [SCALE]: one record on stdout
rec() {
    printf '{"schema":"parkit.record/1","command":"sumsq","time_utc":"2026-01-01T00:00:00Z",'
    printf '"params":{"variant":"range","n":1000000,"threads":%s,"ranks":%s,"reps":5},' "$1" "$2"
    printf '"result":{"value":"0"},"verified":true,"timing":{"warmup":1,"reps_s":[%s]},' "$5"
    printf '"provenance":{"version":"0.1.0","git_commit":"abc1234","compiler":"%s",' "$4"
    printf '"c_flags":"-O2 -g","build_type":"Release","native":false,"openmp":201511,'
    printf '"mpi":"Open MPI v4.1.4","gsl":"2.7.1","gmp":"6.2.1","jansson":"2.14",'
    printf '"machine":{"host":"%s","cores":8,"nranks":%s,"nthreads":%s,' "$3" "$2" "$1"
    printf '"openmp":{"proc_bind":"close","places":"cores","env":{}},"ranks":[],"warnings":[]}}'
    if [ $# -ge 6 ]; then printf ',"scale":%s' "$6"; fi
    printf '}\n'
}
# jit BASE [NOISE]: five times BASE x (1, 1.01, 0.99, 1.02, 0.98); with NOISE another five of the
# same spread, interleaved with those (no tie)
jit() {
    if [ $# -ge 2 ]; then
        awk -v b="$1" 'BEGIN { printf "%.9g,%.9g,%.9g,%.9g,%.9g", b*1.005, b*0.995, b*1.015, b*0.985, b*1.003 }'
        return
    fi
    awk -v b="$1" 'BEGIN { printf "%.9g,%.9g,%.9g,%.9g,%.9g", b, b*1.01, b*0.99, b*1.02, b*0.98 }'
}
# cpu MODEL [MORE]: adds machine.cpu_model (and MORE keys) to the records on stdin, as records of
# a newer parkit would carry them
cpu() {
    sed "s/\"host\":\"vm\",/\"host\":\"vm\",\"cpu_model\":\"$1\",${2:-}/"
}
scale() { # MODE WORKERS SIZE BASE_SIZE
    printf '{"experiment":"synthetic","mode":"%s","kernel":"sumsq:range","workers":%s,' "$1" "$2"
    printf '"threads":%s,"ranks":1,"size":%s,"base_size":%s,"oversubscribed":false}' "$2" "$3" "$4"
}

: > "$dir/serial.jsonl"
: > "$dir/ideal.jsonl"
: > "$dir/weak.jsonl"
: > "$dir/mixed.jsonl"
: > "$dir/base.jsonl"
: > "$dir/slow.jsonl"
: > "$dir/nobase.jsonl"
: > "$dir/empty.jsonl"
for p in 1 2 4 8; do
    rec $p 1 vm "gcc 12.2.0" "$(jit 1)" >> "$dir/serial.jsonl"
    t=$(awk -v p=$p 'BEGIN { print 8 / p }')
    rec $p 1 vm "gcc 12.2.0" "$(jit "$t")" "$(scale strong $p 1000000 1000000)" >> "$dir/ideal.jsonl"
    rec $p 1 vm "gcc 12.2.0" "$(jit 2)" "$(scale weak $p $((1000000 * p)) 1000000)" >> "$dir/weak.jsonl"
    rec $p 1 node-a "gcc 12.2.0" "$(jit "$t")" >> "$dir/mixed.jsonl"
    rec $p 1 node-b "gcc 12.2.0" "$(jit "$t")" >> "$dir/mixed.jsonl"
    rec $p 1 vm "gcc 12.2.0" "$(jit "$t")" >> "$dir/base.jsonl"
    rec $p 1 vm "clang 16.0.6" "$(jit "$(awk -v t="$t" 'BEGIN { print 1.5 * t }')")" >> "$dir/slow.jsonl"
done
for p in 2 4; do
    rec $p 1 vm "gcc 12.2.0" "$(jit "$(awk -v p=$p 'BEGIN { print 8 / p }')")" >> "$dir/nobase.jsonl"
done
for f in base slow noise fast small; do : > "$dir/gate_$f.jsonl"; done
for p in 1 2 4 8; do
    t=$(awk -v p=$p 'BEGIN { print 8 / p }')
    x() { awk -v t="$t" -v k="$1" 'BEGIN { print k * t }'; }
    rec $p 1 vm "gcc 12.2.0" "$(jit "$(x 1.3)")" | cpu 'CPU B <\&> \\"q\\"' '"governor":"powersave",' >> "$dir/gate_slow.jsonl"
    [ $p = 8 ] && continue
    rec $p 1 vm "gcc 12.2.0" "$(jit "$t")" | cpu "CPU A" >> "$dir/gate_base.jsonl"
    rec $p 1 vm "gcc 12.2.0" "$(jit "$t" noise)" | cpu "CPU A" >> "$dir/gate_noise.jsonl"
    rec $p 1 vm "gcc 12.2.0" "$(jit "$(x 0.7)")" | cpu "CPU A" >> "$dir/gate_fast.jsonl"
    rec $p 1 vm "gcc 12.2.0" "$(jit "$(x 1.05)")" | cpu "CPU A" >> "$dir/gate_small.jsonl"
done
{
    rec 1 1 vm "gcc 12.2.0" "$(jit 8)"
    rec 2 1 vm "gcc 12.2.0" "$(jit 4)" | cut -c1-200
    rec 2 1 vm "gcc 12.2.0" "$(jit 4)"
    rec '"two"' 1 vm "gcc 12.2.0" "$(jit 4)"
    rec 4 1 vm "gcc 12.2.0" "$(jit 2)" | sed 's/"command":"sumsq"/"command":"frobnicate"/'
    rec 4 1 vm "gcc 12.2.0" "$(jit 2)" | sed 's/"verified":true/"verified":false/'
} > "$dir/bad.jsonl"
