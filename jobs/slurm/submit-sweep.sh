#!/usr/bin/env bash
# submit-sweep.sh - submit strong and/or weak sweeps as one job per node count, chained with
# --dependency=afterany so that the jobs never share nodes with each other (timings stay clean).
# Each job sweeps ranks per node and threads per rank inside its allocation (jobs/slurm/common.sh)
# at exactly its node count (PK_NODES=n); all jobs write to results/<experiment>/<jobid>/ with one
# experiment name, so `parkit report results/<experiment>/*/records.jsonl` sees the whole sweep.
#
# usage: jobs/slurm/submit-sweep.sh [options] [-- KERNEL ARGS...]
#   --mode strong|weak|both   (default both)
#   --nodes LIST              node counts, e.g. 1,2,4 (default 1)
#   --ntasks-per-node R       (default 2)   --cpus-per-task C (default 2)
#   --time T                  per job (default 00:30:00)
#   --experiment NAME         (default parkit-<mode>-<UTC timestamp>)
#   --wait                    wait for the chain, then exit 1 if any job or point failed
#   --dry-run                 print the sbatch commands only
#   any other option starting with --sbatch= is passed on, e.g. --sbatch=--partition=debug
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# results under the repository; from an installed copy (PREFIX/share/parkit) under ./results,
# passed to the jobs as PK_RESULTS
if [[ ! -f $root/CMakeLists.txt && -z ${PK_RESULTS:-} ]]; then export PK_RESULTS=$PWD/results; fi
modes=(strong weak) nodes=1 tpn=2 cpt=2 tlim=00:30:00 experiment="" wait=0 dry=0 extra=()
while [[ $# -gt 0 ]]; do
    case $1 in
        --mode) case $2 in both) modes=(strong weak) ;; strong|weak) modes=("$2") ;;
                    *) echo "submit-sweep: --mode expects strong, weak or both" >&2; exit 2 ;; esac; shift 2 ;;
        --nodes) nodes=$2; shift 2 ;;
        --ntasks-per-node) tpn=$2; shift 2 ;;
        --cpus-per-task) cpt=$2; shift 2 ;;
        --time) tlim=$2; shift 2 ;;
        --experiment) experiment=$2; shift 2 ;;
        --wait) wait=1; shift ;;
        --dry-run) dry=1; shift ;;
        --sbatch=*) extra+=("${1#--sbatch=}"); shift ;;
        --) shift; break ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "submit-sweep: unknown option '$1'" >&2; exit 2 ;;
    esac
done
stamp=$(date -u +%Y%m%dT%H%M%SZ)
prev="" jobs=()
IFS=, read -ra nl <<< "$nodes"
cd "$root"     # the jobs find the repository from the submit directory
for mode in "${modes[@]}"; do
    exp=${experiment:-parkit-$mode-$stamp}
    # the jobs' stdout beside their results: results/<experiment>/slurm-<jobid>.out
    expdir=${PK_RESULTS:-$root/results}/$exp
    [[ $dry == 1 ]] || mkdir -p "$expdir"
    for n in "${nl[@]}"; do
        cmd=(sbatch --parsable --job-name="parkit-$mode" --nodes="$n" --ntasks-per-node="$tpn"
             --cpus-per-task="$cpt" --time="$tlim" --export="ALL,PK_NODES=$n,PK_EXPERIMENT=$exp"
             --output="$expdir/slurm-%j.out" "${extra[@]}")
        [[ -n $prev ]] && cmd+=(--dependency="afterany:$prev")
        cmd+=("jobs/slurm/$mode.sbatch" "$@")
        if [[ $dry == 1 ]]; then printf '%q ' "${cmd[@]}"; echo; prev=DRYRUN; continue; fi
        prev=$("${cmd[@]}"); prev=${prev%%;*}
        jobs+=("$prev:$exp")
        echo "submitted $prev: $mode, $n node(s) x $tpn x $cpt -> results/$exp/$prev/" >&2
    done
done
[[ $dry == 1 || $wait == 0 ]] && { printf '%s\n' "${jobs[@]%%:*}"; exit 0; }
# wait for the last job of the chain (and so for all), then look at every job's points
while squeue -h -j "$(IFS=,; echo "${jobs[*]%%:*}")" -o %i 2>/dev/null | grep -q .; do sleep 2; done
bad=0
for j in "${jobs[@]}"; do
    id=${j%%:*} exp=${j#*:} pts=${PK_RESULTS:-$root/results}/${j#*:}/${j%%:*}/points.tsv
    if [[ ! -f $pts ]]; then echo "job $id: no $pts (job failed before its sweep)" >&2; bad=1
    elif awk -F'\t' 'NR > 1 && ($6 != 0 || $7 != "true") { f = 1 } END { exit !f }' "$pts"; then
        echo "job $id: some points failed ($pts)" >&2; bad=1
    else echo "job $id: all points verified ($pts)" >&2; fi
done
exit $bad
