#!/usr/bin/env bash
# A real Slurm on this machine (jobs/slurm-local.sh: slurmctld + slurmd + a private munged, one
# node declaring 4 CPUs on 2 cores): submit jobs/slurm/strong.sbatch and weak.sbatch with
# `sbatch --wait` at small sizes and check their exit codes and records (4 points each: 1-2
# ranks x 1-2 threads, verified, the right mode and sizes, the environment captured), that a
# job whose points fail verification exits non-zero, and that jobs/slurm/submit-sweep.sh
# chains a job and reports on it.
source "$(dirname "$0")/lib.sh"
[[ $(id -u) == 0 ]] || skip "needs root (slurmctld, slurmd, munged run as root here)"
command -v mpirun >/dev/null || skip "no mpirun (Open MPI)"
take_machine_lock
export SLURM_LOCAL_DIR=/tmp/parkit-ctest-slurm SLURM_LOCAL_CTLD_PORT=16917 SLURM_LOCAL_SLURMD_PORT=16918
export SLURM_LOCAL_CPUS=4 SLURM_LOCAL_AUTH=${SLURM_LOCAL_AUTH:-munge}
work=$(mktemp -d /tmp/parkit-ctest-sjobs.XXXXXX)
cleanup() { "$SLURM_SH" down >/dev/null 2>&1 || true; rm -rf "${work:-}"; }
watchdog 360
"$SLURM_SH" down >/dev/null 2>&1 || true        # leftovers of a test that was killed
if ! up=$(timeout -k 5 300 "$SLURM_SH" up 2>&1); then
    echo "$up"
    command -v slurmctld >/dev/null || skip "Slurm is not installed and could not be installed (apt-get)"
    fail "slurm-local up failed"
fi
log "$up"
export SLURM_CONF=$SLURM_LOCAL_DIR/slurm.conf PK_RESULTS=$work/results PK_REPS=1 PK_WARMUP=1
cd "$PK_SRC"    # the jobs find the repository from the submit directory

submit() {  # submit EXPECTED_RC SCRIPT ARGS...: sbatch --wait, prints the job id
    local want=$1; shift
    local rc=0 out
    out=$(timeout -k 5 120 sbatch --wait --parsable -o "$work/slurm-%j.out" "$@") || rc=$?
    local id=${out%%;*}
    log "sbatch $* -> job $id exit $rc" >&2
    if [[ $rc != "$want" ]]; then
        cat "$work/slurm-$id.out" >&2 2>/dev/null || true
        fail "job $id ($*) exited $rc, expected $want"
    fi
    echo "$id"
}

check_records() {  # check_records DIR MODE N: 4 verified points, sizes by mode
    local dir=$1 mode=$2 n=$3 f
    for f in records.jsonl points.tsv slurm-env.txt job.txt info.json git.txt env.txt launcher.txt; do
        [[ -s $dir/$f ]] || fail "$dir/$f missing or empty"
    done
    grep -q '^SLURM_JOB_ID=' "$dir/slurm-env.txt" || fail "slurm-env.txt has no SLURM_JOB_ID"
    grep -q 'JobId=' "$dir/job.txt" || fail "job.txt is not scontrol show job"
    jq -e '.ranks | length == 2' "$dir/info.json" >/dev/null || fail "info.json does not show 2 ranks"
    local got
    got=$(jq -sc "map([.params.ranks, .params.threads, .params.n, .scale.mode, .verified])" "$dir/records.jsonl")
    log "records: $got" >&2
    local want
    if [[ $mode == strong ]]; then
        want="[[1,1,$n,\"strong\",true],[1,2,$n,\"strong\",true],[2,1,$n,\"strong\",true],[2,2,$n,\"strong\",true]]"
    else
        want="[[1,1,$n,\"weak\",true],[1,2,$((2 * n)),\"weak\",true],[2,1,$((2 * n)),\"weak\",true],[2,2,$((4 * n)),\"weak\",true]]"
    fi
    [[ $got == "$want" ]] || fail "records of $dir: expected $want"
}

id=$(submit 0 jobs/slurm/strong.sbatch sumsq --range 1e7)
check_records "$work/results/parkit-strong/$id" strong 10000000
id=$(submit 0 jobs/slurm/weak.sbatch sumsq --range 1e6)
check_records "$work/results/parkit-weak/$id" weak 1000000
log "$(grep '^launcher' "$work/results/parkit-weak/$id/launcher.txt")"

# a job with failing points (the canary drops a block: verification fails) exits non-zero
id=$(PK_SCALE=0 PK_THREADS=1 PK_RANKS_PER_NODE=2 submit 1 jobs/slurm/strong.sbatch sumsq --range 1e6 --canary)
grep -q 'point 1 FAILED: exit 3' "$work/results/parkit-strong/$id/log.txt" || fail "the canary job did not log its failed point"

# the mpirun fallback inside the allocation (as where srun has no pmix)
id=$(PK_LAUNCH=mpirun PK_THREADS=2 submit 0 jobs/slurm/strong.sbatch factsum 2e4)
[[ $(jq -s 'map(select(.verified and .params.ranks == .scale.ranks)) | length' \
      "$work/results/parkit-strong/$id/records.jsonl") == 2 ]] || fail "mpirun fallback: expected 2 verified records"
grep -q '^launcher: mpirun' "$work/results/parkit-strong/$id/launcher.txt" || fail "the job did not use mpirun"

# a chained submission, waited for
timeout -k 5 120 jobs/slurm/submit-sweep.sh --mode weak --nodes 1 --ntasks-per-node 1 --cpus-per-task 1 \
    --experiment chain --wait -- sumsq --range 1e6 > "$work/chain.out" 2>&1 \
    || { cat "$work/chain.out" >&2; fail "submit-sweep.sh --wait failed"; }
log "$(tail -n 1 "$work/chain.out")"
chain_id=$(head -n 1 "$work/chain.out" | sed -n 's/^submitted \([0-9]*\):.*/\1/p')
[[ -s $work/results/chain/slurm-$chain_id.out && -s $work/results/chain/$chain_id/points.tsv ]] \
    || fail "submit-sweep: no results/chain/slurm-$chain_id.out or points.tsv"

states=$(sacct -c -n -o JobID,State,ExitCode 2>/dev/null | awk '{print $2}' | sort | uniq -c | tr -s ' ' | paste -sd,)
log "sacct -c: $states"
[[ $states == *"4 COMPLETED"* && $states == *"1 FAILED"* ]] || fail "sacct -c should show 4 COMPLETED and 1 FAILED"

"$SLURM_SH" down >/dev/null
left=$(pgrep -f "$SLURM_LOCAL_DIR|$work" || true)
[[ -z $left ]] || fail "left behind: $(ps -o pid,cmd -p "${left//$'\n'/,}")"
log "ok: slurm-local down, nothing left"
