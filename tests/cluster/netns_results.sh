#!/usr/bin/env bash
# 3 emulated hosts x 2 ranks (jobs/netns-cluster.sh): sumsq (--range 1e8, --array 1e6) and
# factsum 2e4 give the same results as one rank, `parkit info` reports three distinct hosts,
# and jobs/ranks-sweep.sh runs a point on the cluster through its --launcher option.
source "$(dirname "$0")/lib.sh"
need_root_and_netns
take_machine_lock
cleanup() { cleanup_netns; rm -rf "${work:-}"; }
watchdog 100
work=$(mktemp -d /tmp/parkit-ctest-netns.XXXXXX)
"$NETNS_SH" down >/dev/null 2>&1 || true        # leftovers of a test that was killed
log "$("$NETNS_SH" up 3)"

cl() { timeout -k 5 90 "$NETNS_SH" run mpirun -np 6 "$@"; }
run_pair() {  # run_pair NAME JQ ARGS...: one rank vs 3 hosts x 2 ranks
    local name=$1 filter=$2; shift 2
    local one six
    one=$(timeout -k 5 90 "$PARKIT" "$@" -t 1 --reps 1 --warmup 0 --format json | jq -c "$filter")
    six=$(cl "$PARKIT" "$@" -t 1 --reps 1 --warmup 0 --format json 2>"$work/$name.err" | jq -c "$filter") \
        || { cat "$work/$name.err" >&2; fail "$name on 3 hosts x 2 ranks failed"; }
    log "$name: 1 rank  $one"
    log "$name: 6 ranks $six"
    [[ -n $one && $one != null ]] || fail "$name: no result from one rank"
    [[ $one == "$six" ]] || fail "$name: 6 ranks on 3 hosts differ from 1 rank"
}
run_pair sumsq_range '[.result, .verified, .params.ranks]|.[2]=0' sumsq --range 1e8
run_pair sumsq_array '[.result, .verified, .params.ranks]|.[2]=0' sumsq --array 1e6
run_pair factsum '[.result, .verified]' factsum 2e4
# the ranks really were spread: the records say 6 ranks on h1..h3
cl "$PARKIT" sumsq --range 1e6 -t 1 --reps 1 --warmup 0 --format json 2>/dev/null \
    | jq -e '.params.ranks == 6' >/dev/null || fail "the cluster run did not have 6 ranks"

hosts=$(cl "$PARKIT" info --format json 2>"$work/info.err" | jq -c '[.ranks[].host]')
log "info: rank hosts $hosts"
[[ $(jq 'unique | length' <<< "$hosts") == 3 ]] || fail "parkit info reports $(jq -c unique <<< "$hosts"), not 3 hosts"
[[ $(jq -c 'group_by(.) | map(length)' <<< "$hosts") == "[2,2,2]" ]] || fail "not 2 ranks per host: $hosts"

# the sweep script drives the cluster too
RESULTS=$work/results "$PK_SRC/jobs/ranks-sweep.sh" --launcher "$NETNS_SH run mpirun" --ranks 6 \
    --no-hybrid --reps 1 --timeout 90 --experiment netns -- sumsq --range 1e7 2>"$work/sweep.err" \
    || { cat "$work/sweep.err" >&2; fail "ranks-sweep.sh on the cluster failed"; }
out=$(ls -d "$work"/results/netns/*)
[[ $(jq -c '[.ranks[].host] | unique' "$out/info-mpi.json") == '["h1","h2","h3"]' ]] \
    || fail "ranks-sweep's info-mpi.json does not show h1..h3"
[[ $(jq -s 'map(select(.verified and .params.ranks == 6)) | length' "$out/records.jsonl") == 1 ]] \
    || fail "ranks-sweep: no verified 6-rank record"
log "ranks-sweep on the cluster: $(tail -n 1 "$out/points.tsv" | tr '\t' ' ')"

[[ -z $(netns_procs) ]] || fail "processes left in the hosts: $(netns_procs)"
log "ok"
