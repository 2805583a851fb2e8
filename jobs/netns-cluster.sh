#!/usr/bin/env bash
# netns-cluster.sh - an emulated multi-host cluster on ONE Linux machine, for Open MPI runs and
# tests. The project's version of ../shared/recipes/netns-cluster.sh (design, measurements and
# the failure experiments that chose the keepalive defaults are in ../shared/recipes/README.md,
# section 2).
#
# Each host hN is a network namespace ($PFX-hN) whose eth0 is a veth plugged into a bridge that
# lives in a namespace of its own ($PFX-sw). Nothing is added to the root namespace: the subnet
# exists only inside these namespaces (never address it from the root namespace: it has no route
# there and the traffic would leave the machine). Every process started on a host gets a private
# UTS namespace with the host's name, so Open MPI sees N distinct nodes and talks TCP between
# them (no shared-memory shortcut between hosts). Open MPI's rsh launcher is pointed at an ssh
# stand-in ($STATE/agent.sh) that runs the orted inside the host's namespaces.
#
#   netns-cluster.sh up [N]           create hosts h1..hN (default 3), NETNS_SLOTS slots each
#   netns-cluster.sh run CMD...       run CMD on h1 with the Open MPI environment set, e.g.
#                                     netns-cluster.sh run mpirun -np 6 parkit info
#   netns-cluster.sh exec HOST CMD..  run CMD inside HOST (no MPI environment)
#   netns-cluster.sh cut HOST         link down HOST's eth0 (failure injection); heal HOST: up
#   netns-cluster.sh pids             pid and command of every process inside the hosts
#   netns-cluster.sh status           hosts, addresses, processes
#   netns-cluster.sh env              the Open MPI environment 'run' sets, one VAR=VALUE a line
#   netns-cluster.sh install          apt-get what is missing (iproute2, util-linux, psmisc,
#                                     Open MPI); 'up' does it too
#   netns-cluster.sh down             kill every process in the hosts (TERM, then KILL), delete
#                                     the namespaces, leftover /dev/shm segments and $STATE
#
# Knobs (environment): NETNS_PFX (pk), NETNS_SUBNET (10.77.0: hosts are 10.77.0.1N/24),
#   NETNS_SLOTS (2), NETNS_STATE (/tmp/netns-cluster-$NETNS_PFX),
#   NETNS_KEEPALIVE (5,2,3 = Open MPI OOB keepalive time, interval, probes in seconds).
# Differences from the recipe: configurable prefix (default pk, so it can coexist with the
#   recipe's ompi-* hosts), 'pids' and 'install', 'up' removes a half-built cluster when it
#   fails, 'down' is safe to run twice or without 'up' and waits for the processes to be gone.
# Binding is off (hwloc_base_binding_policy=none): every emulated node would otherwise pin its
# first rank to "its" core 0, the same physical core (4 ms latencies were measured).
set -euo pipefail

PFX=${NETNS_PFX:-pk}
SUBNET=${NETNS_SUBNET:-10.77.0}
SLOTS=${NETNS_SLOTS:-2}
STATE=${NETNS_STATE:-/tmp/netns-cluster-$PFX}
KEEPALIVE=${NETNS_KEEPALIVE:-5,2,3}
SW="$PFX-sw"

die() { echo "netns-cluster: $*" >&2; exit 1; }
ns_of() { echo "$PFX-$1"; }
# hosts from the state file, or else from the namespaces that exist (state lost)
hosts() {
    if [ -f "$STATE/hosts" ]; then cat "$STATE/hosts"; return; fi
    ip netns list 2>/dev/null | awk '{print $1}' | sed -n "s/^$PFX-\(h[0-9]*\)\$/\1/p"
}
have_ns() { ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$1"; }

install() {
    local need=()
    command -v ip >/dev/null || need+=(iproute2)
    command -v unshare >/dev/null || need+=(util-linux)
    command -v nsenter >/dev/null || need+=(util-linux)
    command -v fuser >/dev/null || need+=(psmisc)
    command -v mpirun >/dev/null || need+=(openmpi-bin)
    [ ${#need[@]} -eq 0 ] && return 0
    [ "$(id -u)" = 0 ] || die "missing ${need[*]} and not root"
    echo "netns-cluster: installing ${need[*]}" >&2
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q "${need[@]}" \
        >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 &&
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q "${need[@]}" >/dev/null; }
}

up() {
    local n=${1:-3}
    [ "$(id -u)" = 0 ] || die "must be root"
    have_ns "$SW" && die "already up (run: $0 down)"
    install
    mkdir -p "$STATE"; : > "$STATE/hosts"; : > "$STATE/hostfile"
    trap 'rc=$?; if [ $rc -ne 0 ]; then echo "netns-cluster: up failed, removing the half-built cluster" >&2; down >/dev/null 2>&1; fi; exit $rc' EXIT
    ip netns add "$SW"
    ip -n "$SW" link set lo up
    ip -n "$SW" link add br0 type bridge
    ip -n "$SW" link set br0 up
    local i h ns
    for i in $(seq 1 "$n"); do
        h="h$i"; ns=$(ns_of "$h")
        echo "$h" >> "$STATE/hosts"
        ip netns add "$ns"
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
        ip -n "$ns" link set lo up      # Open MPI's PMIx listener needs loopback
        # the veth pair is made inside the switch namespace; one end moves into the host
        ip -n "$SW" link add "p$h" type veth peer name eth0 netns "$ns"
        ip -n "$SW" link set "p$h" master br0 up
        ip -n "$ns" addr add "$SUBNET.1$i/24" dev eth0
        ip -n "$ns" link set eth0 up
        echo "$h slots=$SLOTS" >> "$STATE/hostfile"
    done
    # ssh stand-in for Open MPI's rsh launcher, called as "agent [ssh options] HOST CMD...";
    # like ssh, it hands the command line to a shell on the host
    cat > "$STATE/agent.sh" <<EOF
#!/bin/sh
while [ "\${1#-}" != "\$1" ]; do shift; done
host=\$1; shift
exec ip netns exec $PFX-\$host unshare --uts sh -c "hostname \$host; \$*"
EOF
    chmod +x "$STATE/agent.sh"
    # reachability h1 -> hN without ping: a TCP connect to a closed port is refused when reachable
    local out ok
    for i in $(seq 2 "$n"); do
        ok=0
        for _ in 1 2 3 4 5; do
            out=$(ip netns exec "$(ns_of h1)" timeout 3 bash -c "exec 3<>/dev/tcp/$SUBNET.1$i/9" 2>&1 || true)
            case "$out" in *refused*) ok=1; break ;; esac
            sleep 0.2
        done
        [ $ok = 1 ] || die "h1 cannot reach h$i: $out"
    done
    trap - EXIT
    echo "up: $n hosts ($(tr '\n' ' ' < "$STATE/hosts")) subnet $SUBNET.0/24, hostfile $STATE/hostfile"
}

mpi_env() {
    local ka_time ka_intvl ka_probes
    IFS=, read -r ka_time ka_intvl ka_probes <<< "$KEEPALIVE"
    printf '%s\n' OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
        OMPI_MCA_plm_rsh_agent="$STATE/agent.sh" \
        OMPI_MCA_plm_rsh_no_tree_spawn=1 \
        OMPI_MCA_orte_default_hostfile="$STATE/hostfile" \
        OMPI_MCA_oob_tcp_if_include=eth0 OMPI_MCA_btl_tcp_if_include=eth0 \
        OMPI_MCA_btl=tcp,vader,self \
        OMPI_MCA_btl_vader_single_copy_mechanism=none \
        OMPI_MCA_hwloc_base_binding_policy=none \
        OMPI_MCA_oob_tcp_keepalive_time="$ka_time" OMPI_MCA_oob_tcp_keepalive_intvl="$ka_intvl" \
        OMPI_MCA_oob_tcp_keepalive_probes="$ka_probes"
    # keepalive 5+3*2 s: mpirun notices a cut-off host in about 11 s and exits non-zero (205);
    # with Open MPI's defaults (300 s + 9 x 20 s) the job hangs, ranks spinning at 100% CPU.
    # mpirun --mca NAME VALUE on the command line wins over these.
}

run_on() {  # run_on HOST withenv CMD...
    local h=$1 withenv=$2; shift 2
    local ns; ns=$(ns_of "$h")
    have_ns "$ns" || die "no host $h (run: $0 up)"
    local envs=()
    [ "$withenv" = 1 ] && mapfile -t envs < <(mpi_env)
    exec ip netns exec "$ns" unshare --uts sh -c 'h=$1; shift; hostname "$h"; exec "$@"' sh "$h" \
        env "${envs[@]}" "$@"
}

ns_pids() {  # every pid in the host namespaces (and the switch)
    local h
    for h in $(hosts); do ip netns pids "$(ns_of "$h")" 2>/dev/null || true; done
    have_ns "$SW" && ip netns pids "$SW" 2>/dev/null || true
}

down() {
    local h ns pids f
    pids=$(ns_pids | tr '\n' ' ')
    # shellcheck disable=SC2086
    [ -n "${pids// }" ] && kill $pids 2>/dev/null || true
    for _ in $(seq 1 20); do
        pids=$(ns_pids | tr '\n' ' '); [ -z "${pids// }" ] && break; sleep 0.1
    done
    # shellcheck disable=SC2086
    [ -n "${pids// }" ] && kill -9 $pids 2>/dev/null || true
    for _ in $(seq 1 20); do
        pids=$(ns_pids | tr '\n' ' '); [ -z "${pids// }" ] && break; sleep 0.1
    done
    local list; list=$(hosts)
    for h in $list; do
        ns=$(ns_of "$h")
        have_ns "$ns" && ip netns del "$ns" 2>/dev/null || true
    done
    have_ns "$SW" && ip netns del "$SW" 2>/dev/null || true
    # killed jobs leave 4 MiB Open MPI shared-memory segments named after the host
    for h in $list; do
        for f in /dev/shm/vader_segment."$h".*; do
            [ -e "$f" ] && ! fuser "$f" >/dev/null 2>&1 && rm -f "$f"
        done
    done
    rm -rf "$STATE"
    echo "down"
}

status() {
    local h ns
    for h in $(hosts); do
        ns=$(ns_of "$h")
        printf '%s %s pids: %s\n' "$h" "$(ip -n "$ns" -br addr show eth0 2>/dev/null | tr -s ' ')" \
            "$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')"
    done
}

cmd=${1:-}; shift || true
case "$cmd" in
    up) up "$@" ;;
    down) down ;;
    run) [ $# -gt 0 ] || die "run CMD..."; run_on h1 1 "$@" ;;
    exec) [ $# -gt 1 ] || die "exec HOST CMD..."; h=$1; shift; run_on "$h" 0 "$@" ;;
    cut) ip -n "$(ns_of "${1:?HOST}")" link set eth0 down ;;
    heal) ip -n "$(ns_of "${1:?HOST}")" link set eth0 up ;;
    pids) for p in $(ns_pids); do echo "$p $(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null)"; done ;;
    status) status ;;
    env) mpi_env ;;
    install) install ;;
    *) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 2 ;;
esac
