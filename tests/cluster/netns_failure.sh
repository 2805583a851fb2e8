#!/usr/bin/env bash
# Failure in the middle of a run on 3 emulated hosts x 2 ranks: a long
# `parkit sumsq --range 1e12 -t 1` (about an hour of work) loses
#   cut:  host h2's link (ip link set eth0 down), or
#   kill: one rank on h3 (SIGKILL).
# The job must end non-zero within a bounded time (Open MPI's OOB keepalive is 5 s + 3 x 2 s in
# jobs/netns-cluster.sh; the defaults would hang for about 8 minutes), and no parkit, orted or
# mpirun may be left in any host afterwards.
# usage: netns_failure.sh cut|kill
source "$(dirname "$0")/lib.sh"
what=${1:?cut or kill}
need_root_and_netns
take_machine_lock
cleanup() { [[ -n ${job:-} ]] && kill -9 "$job" 2>/dev/null; cleanup_netns; rm -rf "${work:-}"; }
watchdog 100
work=$(mktemp -d /tmp/parkit-ctest-fail.XXXXXX)
"$NETNS_SH" down >/dev/null 2>&1 || true
log "$("$NETNS_SH" up 3)"

# the outer limit: mpirun itself can hang in PMIx_server_finalize (recipes README, section 1)
timeout -k 5 100 "$NETNS_SH" run mpirun -np 6 "$PARKIT" sumsq --range 1e12 -t 1 --reps 1 --warmup 0 \
    > "$work/out" 2> "$work/err" &
job=$!
for h in h1 h2 h3; do wait_ranks_on "$h" 2 30; done
log "6 ranks running on h1..h3"
sleep 2
kill -0 "$job" 2>/dev/null || { cat "$work/err" >&2; fail "the job ended before the failure was injected"; }

t_fail=$(date +%s.%N)
case $what in
    cut)  "$NETNS_SH" cut h2; log "cut h2's link"; limit=45
          why='lost communication with a remote daemon|failure of the TCP network' ;;
    kill) victim=""
          for p in $(ip netns pids "$NETNS_PFX-h3"); do
              [[ $(cat /proc/"$p"/comm 2>/dev/null) == parkit ]] && { victim=$p; break; }
          done
          [[ -n $victim ]] || fail "no rank found on h3"
          kill -9 "$victim"; log "killed rank pid $victim on h3"; limit=20
          why="exited on signal 9" ;;
    *) fail "usage: $0 cut|kill" ;;
esac

rc=0
wait "$job" || rc=$?
job=""
took=$(elapsed_since "$t_fail")
log "job ended with exit $rc, $(printf '%.1f' "$took") s after the failure"
tail -n 5 "$work/err" | sed 's/^/    mpirun: /'
((rc != 0)) || fail "the job ended with exit 0 after losing a host"
# (mpirun itself exits 137 for a rank killed by a signal: the time tells an outer timeout apart)
(($(echo "$took < $limit" | bc))) || fail "took ${took}s, more than the ${limit}s allowed (outer limit 100 s)"
grep -Eq "$why" "$work/err" || fail "mpirun did not say why the job ended (expected /$why/)"

# nothing left behind: ranks and daemons on every host (h2's too, once its orted notices)
for ((i = 0; i < 150; i++)); do [[ -z $(netns_procs) ]] && break; sleep 0.2; done
left=$(netns_procs)
[[ -z $left ]] || fail "left behind after 30 s: $left"
log "no parkit, orted or mpirun left in the hosts"
