#!/usr/bin/env bash
# ranks-sweep.sh - scaling over MPI ranks on one machine (or on jobs/netns-cluster.sh hosts):
# `mpirun -np r parkit ... --record FILE` for each point, where the points are
#   - a rank sweep r x 1 thread, r = 1, 2, 4, ... up to the core budget (and the budget itself),
#   - hybrid splits r x t = C of the core budget C (every r dividing C),
# each point one JSON record. Kernels that `parkit scale` knows (sumsq, factsum, fib) run as
# `parkit scale KERNEL ARGS --threads t --mode strong|weak`, so the record carries the scale
# block (mode, workers, ranks, threads, size, oversubscribed) and weak mode grows the size with
# ranks x threads; other kernels run as `parkit KERNEL ARGS -t t` (strong only).
#
# usage: jobs/ranks-sweep.sh [options] -- KERNEL ARGS...
#   e.g. jobs/ranks-sweep.sh --cores 2 -- sumsq --range 1e9
#        jobs/ranks-sweep.sh --mode weak --ranks 1,2,4 --no-hybrid -- factsum 2e4
#        jobs/ranks-sweep.sh --launcher "jobs/netns-cluster.sh run mpirun" --ranks 6 -- sumsq --array 1e7
# options:
#   --cores C         core budget for the hybrid splits and the default rank list (default: nproc)
#   --mode M          strong (default) or weak
#   --ranks LIST      rank counts of the pure-MPI sweep (default 1,2,4,..,C); 'none' for no sweep
#   --splits LIST     hybrid points as RxT, e.g. 1x2,2x1 (default: every r | C with t = C/r)
#   --no-hybrid       no hybrid splits
#   --reps R          timed repetitions per point (default 3); --warmup W (default 1)
#   --experiment NAME results/<NAME>/<timestamp>/ (default KERNEL-ranks-MODE)
#   --out DIR         write there instead
#   --launcher CMD    MPI launcher (default: mpirun; split on spaces)
#   --timeout S       hard limit per point (timeout -k 10 S; default 3600): mpirun can hang
#   --plain           run `parkit KERNEL ARGS -t t` even for sumsq/factsum/fib (strong only;
#                     for options `parkit scale` does not take, such as --file or --canary)
#   --dry-run         print the points and commands, run nothing
# Environment: PARKIT (the binary; default build/release/drivers/parkit, else the newest
#   build/*/drivers/parkit; installed: PREFIX/bin/parkit, else parkit on PATH), RESULTS (results
#   root, default <repo>/results; ./results for the installed PREFIX/share/parkit/jobs).
# Output in the results directory: records.jsonl (one record per point), points.tsv (ranks,
#   threads, exit code, verified, median time), log.txt, and the environment: env.txt,
#   info.json (parkit info), info-mpi.json (parkit info under the launcher at the largest rank
#   count: hosts, affinity of every rank), git.txt (commit, dirty files), mpirun-version.txt,
#   lscpu.txt, command.txt.
# Binding: ranks run with `--bind-to none -x OMP_NUM_THREADS=t`. With np <= cores, mpirun binds
# each rank to one core by default and OpenMP then gets one thread per rank (the binding gotcha
# in ../shared/recipes/README.md, section 1). Oversubscribed points run (recorded as such, and
# parkit warns) because the machines here have 2 cores.
# Exit status: 0 when every point succeeded and verified, 1 otherwise (all points still run),
# 2 usage error.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }
die() { echo "ranks-sweep: $*" >&2; exit 2; }

argv=("$@")
cores=$(nproc) mode=strong ranks="" splits="" hybrid=1 reps=3 warmup=1 experiment="" out=""
launcher=mpirun limit=3600 dry=0 plain=0
while [[ $# -gt 0 ]]; do
    case $1 in
        --cores) cores=${2:?}; shift 2 ;;
        --mode) mode=${2:?}; shift 2 ;;
        --ranks) ranks=${2:?}; shift 2 ;;
        --splits) splits=${2:?}; shift 2 ;;
        --no-hybrid) hybrid=0; shift ;;
        --reps) reps=${2:?}; shift 2 ;;
        --warmup) warmup=${2:?}; shift 2 ;;
        --experiment) experiment=${2:?}; shift 2 ;;
        --out) out=${2:?}; shift 2 ;;
        --launcher) launcher=${2:?}; shift 2 ;;
        --timeout) limit=${2:?}; shift 2 ;;
        --dry-run) dry=1; shift ;;
        --plain) plain=1; shift ;;
        -h|--help) usage 0 ;;
        --) shift; break ;;
        *) die "unknown option '$1' (the kernel and its arguments go after --)" ;;
    esac
done
[[ $# -ge 1 ]] || die "give the kernel and its arguments after --, e.g. -- sumsq --range 1e9"
kernel=$1; shift
kargs=("$@")
[[ $cores =~ ^[1-9][0-9]*$ ]] || die "--cores expects a positive integer, got '$cores'"
[[ $mode == strong || $mode == weak ]] || die "--mode expects strong or weak, got '$mode'"
case $kernel in sumsq|factsum|fib) use_scale=1 ;; *) use_scale=0 ;; esac
[[ $plain == 1 ]] && use_scale=0
[[ $mode == weak && $use_scale == 0 ]] &&
    die "weak mode needs a kernel that 'parkit scale' sizes (sumsq, factsum, fib), not '$kernel'"

# the points: "r t" lines, rank sweep first, then the hybrid splits, no duplicates
points=()
add_point() {
    local p="$1 $2" q
    [[ $1 =~ ^[1-9][0-9]*$ && $2 =~ ^[1-9][0-9]*$ ]] || die "bad point '${1}x${2}'"
    for q in "${points[@]}"; do [[ $q == "$p" ]] && return 0; done
    points+=("$p")
}
if [[ -z $ranks ]]; then
    for ((r = 1; r < cores; r *= 2)); do add_point "$r" 1; done
    add_point "$cores" 1
elif [[ $ranks != none ]]; then
    IFS=, read -ra rl <<< "$ranks"
    for r in "${rl[@]}"; do add_point "$r" 1; done
fi
if [[ -n $splits ]]; then
    IFS=, read -ra sl <<< "$splits"
    for s in "${sl[@]}"; do [[ $s == *x* ]] || die "--splits expects RxT items, got '$s'"; add_point "${s%x*}" "${s#*x}"; done
elif [[ $hybrid == 1 ]]; then
    for ((r = 1; r <= cores; r++)); do ((cores % r == 0)) && add_point "$r" $((cores / r)); done
fi
[[ ${#points[@]} -gt 0 ]] || die "no points to run"

parkit=${PARKIT:-}
if [[ -z $parkit ]]; then
    parkit=$here/build/release/drivers/parkit
    [[ -x $parkit ]] || parkit=$(ls -t "$here"/build/*/drivers/parkit 2>/dev/null | head -1 || true)
    # installed as PREFIX/share/parkit/jobs: PREFIX/bin/parkit, else parkit on PATH
    [[ -n $parkit && -x $parkit ]] || parkit=$here/../../bin/parkit
    [[ -x $parkit ]] || parkit=$(command -v parkit || true)
fi
[[ -n $parkit && -x $parkit ]] || die "no parkit binary (build it, or set PARKIT)"
parkit=$(realpath "$parkit")
read -ra mpirun <<< "$launcher"

[[ -n $experiment ]] || experiment=$kernel-ranks-$mode
# results under the repository; an installed copy (no CMakeLists.txt beside it) writes to ./results
results=$here/results
[[ -f $here/CMakeLists.txt ]] || results=$PWD/results
out=${out:-${RESULTS:-$results}/$experiment/$(date -u +%Y%m%dT%H%M%SZ)}
records=$out/records.jsonl

point_cmd() {  # point_cmd R T: the command line of one point
    local r=$1 t=$2
    local cmd=("${mpirun[@]}" -np "$r" --bind-to none -x OMP_NUM_THREADS="$t" "$parkit")
    if [[ $use_scale == 1 ]]; then
        cmd+=(scale "$kernel" "${kargs[@]}" --threads "$t" --mode "$mode"
              --experiment "$experiment-$(basename "$out")")
    else
        cmd+=("$kernel" "${kargs[@]}" -t "$t")
    fi
    cmd+=(--reps "$reps" --warmup "$warmup" --record "$records")
    printf '%q ' "${cmd[@]}"
}

if [[ $dry == 1 ]]; then
    for p in "${points[@]}"; do read -r r t <<< "$p"; echo "$(point_cmd "$r" "$t")"; done
    exit 0
fi

mkdir -p "$out"
export OMPI_MCA_rmaps_base_oversubscribe=${OMPI_MCA_rmaps_base_oversubscribe:-1}
[[ $(id -u) -eq 0 ]] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

# ---- the environment -------------------------------------------------------------------
{ printf '%q ' "$0" "${argv[@]}"; echo; } > "$out/command.txt"
env | grep -Eiv 'token|secret|passw|credential|api_?key|_key=' | sort > "$out/env.txt"
{
    echo "commit $(git -C "$here" rev-parse HEAD 2>/dev/null || echo unknown)"
    echo "describe $(git -C "$here" describe --always --dirty 2>/dev/null || echo unknown)"
    echo "changed files:"; git -C "$here" status --porcelain 2>/dev/null || true
} > "$out/git.txt"
"${mpirun[@]}" --version > "$out/mpirun-version.txt" 2>&1 || true
lscpu > "$out/lscpu.txt" 2>&1 || true
"$parkit" info --format json > "$out/info.json" 2>"$out/info.stderr" || true
maxr=1
for p in "${points[@]}"; do read -r r t <<< "$p"; ((r > maxr)) && maxr=$r; done
timeout -k 10 120 "${mpirun[@]}" -np "$maxr" --bind-to none "$parkit" info --format json \
    > "$out/info-mpi.json" 2>>"$out/info.stderr" || true

# ---- the points ------------------------------------------------------------------------
printf 'ranks\tthreads\tworkers\trc\tverified\tmedian_s\twall_s\n' > "$out/points.tsv"
failed=0 i=0
for p in "${points[@]}"; do
    read -r r t <<< "$p"
    i=$((i + 1))
    before=$( [[ -f $records ]] && wc -l < "$records" || echo 0)
    echo "== point $i/${#points[@]}: $r ranks x $t threads ($mode)" | tee -a "$out/log.txt" >&2
    line=$(point_cmd "$r" "$t")
    echo "\$ $line" >> "$out/log.txt"
    t0=$(date +%s.%N)
    rc=0
    eval "timeout -k 10 $limit $line" >> "$out/log.txt" 2>&1 || rc=$?
    wall=$(printf '%.3f' "$(echo "$(date +%s.%N) - $t0" | bc)")
    after=$( [[ -f $records ]] && wc -l < "$records" || echo 0)
    verified=false median=-
    if ((after > before)); then
        verified=$(tail -n 1 "$records" | jq -r '.verified') || verified=false
        median=$(tail -n 1 "$records" | jq -r '.timing.median_s') || median=-
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$t" $((r * t)) "$rc" "$verified" "$median" "$wall" \
        >> "$out/points.tsv"
    if [[ $rc != 0 || $verified != true ]]; then
        failed=$((failed + 1))
        echo "ranks-sweep: point ${r}x$t failed: exit $rc, verified $verified (see $out/log.txt)" >&2
    fi
done
column -t "$out/points.tsv" >&2 || cat "$out/points.tsv" >&2
echo "results: $out ($records)" >&2
if ((failed > 0)); then
    echo "ranks-sweep: $failed of ${#points[@]} points failed" >&2
    exit 1
fi
