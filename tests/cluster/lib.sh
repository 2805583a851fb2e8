# shellcheck shell=bash
# tests/cluster/lib.sh - sourced by the cluster tests (label cluster). Each test brings up what
# it needs (jobs/netns-cluster.sh, jobs/slurm-local.sh) under names of its own, and its EXIT trap
# takes everything down again, also when a check fails. Exit 77 = skipped (SKIP_RETURN_CODE).
# Environment from CTest: PARKIT (the binary), PK_SRC (the source tree).
set -euo pipefail
: "${PARKIT:?set PARKIT to the parkit binary}"
PK_SRC=${PK_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
NETNS_SH=$PK_SRC/jobs/netns-cluster.sh
SLURM_SH=$PK_SRC/jobs/slurm-local.sh
# names of the tests' own: never the recipe's ompi-* hosts or /tmp/slurm-local
export NETNS_PFX=pkt NETNS_STATE=/tmp/parkit-ctest-netns NETNS_SUBNET=10.79.0
T0=$(date +%s.%N)
SHM_MARK=$(mktemp /tmp/parkit-ctest-mark.XXXXXX)

# Signals end the test through its EXIT trap (bash skips EXIT traps on an untrapped signal).
trap 'exit 130' INT
trap 'exit 143' TERM

# watchdog SECS: end this test (TERM to its children, then to itself) after SECS, so that its
# EXIT trap still takes everything down. CTest's TIMEOUT must be longer: CTest kills with
# SIGKILL, which no trap sees, and daemons (slurmctld, munged) are not its children.
watchdog() {
    local secs=${PK_TEST_WATCHDOG:-$1}
    # its own process group (setsid), so that stop_watchdog ends it and its sleep together;
    # when it fires it sends TERM to every descendant of the test (timeout(1) passes it on to
    # mpirun or sbatch), then to the test, whose EXIT trap takes the clusters down
    setsid bash -c '
        trap "" TERM
        sleep "$1"
        echo "WATCHDOG: the test ran past $1 s; ending it" >&2
        tree() { local c; for c in $(pgrep -P "$1"); do [ "$c" != $$ ] && { echo "$c"; tree "$c"; }; done; }
        kill -TERM $(tree "$2") 2>/dev/null; sleep 0.5; kill -TERM "$2"' watchdog "$secs" "$$" &
    WATCHDOG_PID=$!
}
stop_watchdog() {
    if [[ -n ${WATCHDOG_PID:-} ]]; then
        # the group once setsid ran, the process itself if it has not yet
        kill -KILL -- "-$WATCHDOG_PID" 2>/dev/null
        kill -KILL "$WATCHDOG_PID" 2>/dev/null
        wait "$WATCHDOG_PID" 2>/dev/null
    fi
    WATCHDOG_PID=""
    return 0
}

# on_exit: the test defines cleanup(); it runs on every exit (pass, fail, skip, signal)
cleanup() { :; }
on_exit() {
    local rc=$?
    set +e
    trap - EXIT
    stop_watchdog
    cleanup || true
    clean_shm
    rm -f "$SHM_MARK"
    exit "$rc"
}
trap on_exit EXIT

log() { echo "[$(printf '%6.1f' "$(echo "$(date +%s.%N) - $T0" | bc)")s] $*"; }
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
elapsed_since() { echo "$(date +%s.%N) - $1" | bc; }

need_root_and_netns() {
    [[ $(id -u) == 0 ]] || skip "needs root (network namespaces, daemons)"
    command -v ip >/dev/null || skip "no iproute2 (ip)"
    command -v unshare >/dev/null || skip "no unshare (util-linux)"
    command -v mpirun >/dev/null || skip "no mpirun (Open MPI)"
    local probe=pkt-probe-$$
    if ! ip netns add "$probe" 2>/dev/null; then skip "cannot create network namespaces here"; fi
    local ok=1
    ip -n "$probe" link add vpa type veth peer name vpb 2>/dev/null || ok=0
    ip netns del "$probe" 2>/dev/null || true
    [[ $ok == 1 ]] || skip "cannot create veth pairs (kernel without veth?)"
    unshare --uts true 2>/dev/null || skip "cannot create UTS namespaces"
}

# One cluster test at a time on this machine, also across build trees (RESOURCE_LOCK only
# serialises inside one ctest run): the names and ports are shared.
take_machine_lock() {
    exec 9>/tmp/parkit-cluster-tests.lock
    flock -w 150 9 || fail "another cluster test held /tmp/parkit-cluster-tests.lock for 150 s"
}

# processes of ours left in the emulated hosts (orted, parkit, mpirun)
netns_procs() { "$NETNS_SH" pids 2>/dev/null | grep -E 'parkit|orted|mpirun' || true; }

# remove Open MPI shared-memory segments made since the test started that nobody holds open
clean_shm() {
    local f
    for f in $(find /dev/shm -maxdepth 1 -name 'vader_segment.*' -newer "$SHM_MARK" 2>/dev/null); do
        fuser "$f" >/dev/null 2>&1 || rm -f "$f"
    done
}

cleanup_netns() {
    "$NETNS_SH" down >/dev/null 2>&1 || true
    ip netns list 2>/dev/null | grep -q "^$NETNS_PFX-" && echo "WARNING: namespaces left: $(ip netns list | grep "^$NETNS_PFX-")" >&2
    return 0
}

# wait until COUNT parkit processes run in host H (or fail after SECS)
wait_ranks_on() {
    local h=$1 count=$2 secs=$3 i n=0 p
    for ((i = 0; i < secs * 10; i++)); do
        n=0
        for p in $(ip netns pids "$NETNS_PFX-$h" 2>/dev/null); do
            [[ $(cat /proc/"$p"/comm 2>/dev/null) == parkit ]] && n=$((n + 1))
        done
        ((n >= count)) && return 0
        sleep 0.1
    done
    fail "only $n of $count parkit ranks started on $h within $secs s"
}
