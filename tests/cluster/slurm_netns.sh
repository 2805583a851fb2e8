#!/usr/bin/env bash
# Slurm across emulated hosts: jobs/slurm-local.sh with SLURM_LOCAL_NETNS=3 (one slurmd per
# network-namespace host h1..h3, slurmctld on h1, private munged). The node dimension of the
# sweeps: strong.sbatch on -N 3 runs 1, 2 and 3 nodes (srun --mpi=pmix), weak.sbatch on -N 2
# x 2 ranks per node through the mpirun fallback; the records say how many ranks ran and
# parkit info in the results shows the three hosts.
source "$(dirname "$0")/lib.sh"
need_root_and_netns
take_machine_lock
export SLURM_LOCAL_DIR=/tmp/parkit-ctest-slurmns SLURM_LOCAL_NETNS=3 SLURM_LOCAL_CPUS=2
export SLURM_LOCAL_CTLD_PORT=16927 SLURM_LOCAL_SLURMD_PORT=16928
work=$(mktemp -d /tmp/parkit-ctest-sns.XXXXXX)
cleanup() { "$SLURM_SH" down >/dev/null 2>&1 || true; cleanup_netns; rm -rf "${work:-}"; }
watchdog 260
"$SLURM_SH" down >/dev/null 2>&1 || true
"$NETNS_SH" down >/dev/null 2>&1 || true
if ! up=$(timeout -k 5 300 "$SLURM_SH" up 2>&1); then
    echo "$up"
    command -v slurmctld >/dev/null || skip "Slurm is not installed and could not be installed (apt-get)"
    fail "slurm-local up (netns mode) failed"
fi
log "$up"
export PK_RESULTS=$work/results PK_REPS=1 PK_WARMUP=0
cd "$PK_SRC"

submit() {  # submit EXPECTED_RC SBATCH-ARGS...: sbatch --wait inside h1, prints the job id
    local want=$1; shift
    local rc=0 out
    out=$(timeout -k 5 150 "$SLURM_SH" run sbatch --wait --parsable -o "$work/slurm-%j.out" "$@") || rc=$?
    local id=${out%%;*}
    log "sbatch $* -> job $id exit $rc" >&2
    [[ $rc == "$want" ]] || { cat "$work/slurm-$id.out" >&2 2>/dev/null || true; fail "job $id exited $rc, expected $want"; }
    echo "$id"
}

id=$(submit 0 -N 3 --ntasks-per-node=1 --cpus-per-task=1 jobs/slurm/strong.sbatch sumsq --range 1e7)
d=$work/results/parkit-strong/$id
got=$(jq -sc 'map([.params.ranks, .verified])' "$d/records.jsonl")
log "strong, 1-3 nodes: $got"
[[ $got == '[[1,true],[2,true],[3,true]]' ]] || fail "expected 1, 2 and 3 verified ranks"
[[ $(jq -c '[.ranks[].host]' "$d/info.json") == '["h1","h2","h3"]' ]] || fail "info.json: $(jq -c '[.ranks[].host]' "$d/info.json")"
[[ $(jq -r '.provenance.machine.ranks | map(.host) | unique | length' <(tail -n 1 "$d/records.jsonl")) == 3 ]] \
    || fail "the 3-node record does not name 3 hosts"

id=$(PK_LAUNCH=mpirun submit 0 -N 2 --ntasks-per-node=2 --cpus-per-task=1 jobs/slurm/weak.sbatch sumsq --array 1e5)
d=$work/results/parkit-weak/$id
got=$(jq -sc 'map([.params.ranks, .params.n, .verified])' "$d/records.jsonl")
log "weak, mpirun, 1-2 nodes x 1-2 ranks: $got"
[[ $got == '[[1,100000,true],[2,200000,true],[2,200000,true],[4,400000,true]]' ]] || fail "unexpected weak records"
[[ $(jq -r '.provenance.machine.ranks | map(.host) | unique | length' <(tail -n 1 "$d/records.jsonl")) == 2 ]] \
    || fail "the 2-node x 2-rank record does not name 2 hosts"

"$SLURM_SH" down >/dev/null
[[ -z $(pgrep -f "$SLURM_LOCAL_DIR" || true) ]] || fail "daemons left behind"
ip netns list | grep -q "^$NETNS_PFX-" && fail "namespaces left behind"
log "ok"
