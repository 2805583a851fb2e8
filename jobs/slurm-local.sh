#!/usr/bin/env bash
# slurm-local.sh - a throw-away Slurm on ONE machine (Debian 12: slurm-wlm 22.05)
# for testing the jobs/ scripts: slurmctld + slurmd(s) + optional private munged.
# The project's version of ../shared/recipes/slurm-local.sh (the README there, section 3, has
# what was verified: pmix vs pmi2, TmpFS per node, cgroups under netns, sacct -c, timings).
# Changes from the recipe: ports and directory are knobs (tests run beside other users'
# clusters), netns mode uses jobs/netns-cluster.sh, 'up' removes a half-started cluster when it
# fails, 'down' cancels jobs, waits for them and for every daemon to exit, kills stray
# slurmstepd of this cluster and is safe to repeat; apt-get update is tried when install fails.
# Config, state, logs, sockets all live under $SLURM_LOCAL_DIR; runs as root;
# no systemd, no cgroups, no database (sacct -c reads the job-completion file).
#
#   slurm-local.sh up       apt-install if missing, write config, start daemons, wait until idle
#   slurm-local.sh status   daemons + sinfo + squeue
#   slurm-local.sh run CMD  run a client command (sbatch/srun/squeue/sacct...) with SLURM_CONF
#                           set, inside h1 in netns mode
#   slurm-local.sh down     stop daemons (and the netns hosts it started), remove $SLURM_LOCAL_DIR
#   slurm-local.sh env      print the export line for plain mode
#
# Modes (env knobs):
#   default                 one node named like this host (slurmd -C sizes it)
#   SLURM_LOCAL_NODES=N     N slurmd "nodes" n1..nN on this host (distinct Port, spool, TmpFS).
#                           They share one hostname and /dev/shm: Open MPI jobs spanning them
#                           need OMPI_MCA_btl=tcp,self (else vader segment name clashes).
#   SLURM_LOCAL_NETNS=N     N hosts h1..hN = network namespaces from netns-cluster.sh (next
#                           to this script), each slurmd with its own hostname + address;
#                           slurmctld runs in h1; clients must run in h1 (use 'run').
#   SLURM_LOCAL_AUTH=munge|none  (default munge, private munged on $DIR/munge/munge.socket)
#   SLURM_LOCAL_CPUS=C      CPUs per node (default: the machine's; more = oversubscribe,
#                           accepted thanks to SlurmdParameters=config_overrides)
#   SLURM_LOCAL_DIR         (default /tmp/slurm-local)
#   SLURM_LOCAL_CTLD_PORT / SLURM_LOCAL_SLURMD_PORT  (6817 / 6818)
#   NETNS_PFX, NETNS_SUBNET as for netns-cluster.sh (netns mode)
set -euo pipefail

DIR=${SLURM_LOCAL_DIR:-/tmp/slurm-local}
AUTH=${SLURM_LOCAL_AUTH:-munge}
NODES=${SLURM_LOCAL_NODES:-1}
NETNS=${SLURM_LOCAL_NETNS:-0}
CONF=$DIR/slurm.conf
CTL_PORT=${SLURM_LOCAL_CTLD_PORT:-6817}
D_PORT=${SLURM_LOCAL_SLURMD_PORT:-6818}
HERE=$(cd "$(dirname "$0")" && pwd)
NETNS_SH=$HERE/netns-cluster.sh
NETNS_PFX=${NETNS_PFX:-pk}
export NETNS_PFX
SUBNET=${NETNS_SUBNET:-10.77.0}

die() { echo "slurm-local: $*" >&2; exit 1; }
mode() { if [ "$NETNS" != 0 ]; then echo netns; elif [ "$NODES" != 1 ]; then echo multi; else echo single; fi; }
# remember the mode for status/run/down
load_mode() { [ -f "$DIR/mode" ] && . "$DIR/mode"; return 0; }

install_pkgs() {
  local need=()
  command -v slurmctld >/dev/null || need+=(slurmctld)
  command -v slurmd >/dev/null || need+=(slurmd)
  command -v sbatch >/dev/null || need+=(slurm-client)
  if [ "$AUTH" = munge ] && ! command -v munged >/dev/null; then need+=(munge); fi
  command -v bc >/dev/null || need+=(bc)
  command -v fuser >/dev/null || need+=(psmisc)
  if [ ${#need[@]} -gt 0 ]; then
    echo "slurm-local: installing ${need[*]}" >&2
    # (postinst prints "policy-rc.d denied execution of start" in containers: harmless)
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q "${need[@]}" \
      >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 &&
      DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q "${need[@]}" >/dev/null; }
  fi
}

node_names() {
  case $(mode) in
    single) hostname -s ;;
    multi) seq -f 'n%g' 1 "$NODES" ;;
    netns) seq -f 'h%g' 1 "$NETNS" ;;
  esac
}

write_conf() {
  local host cpus mem node_line nodes_conf="" ctl i
  host=$(hostname -s)
  node_line=$(slurmd -C | head -1)
  cpus=${SLURM_LOCAL_CPUS:-$(echo "$node_line" | sed -n 's/.* CPUs=\([0-9]*\).*/\1/p')}
  mem=$(echo "$node_line" | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
  case $(mode) in
    single) ctl="$host(127.0.0.1)"
      nodes_conf="NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$((mem * 9 / 10)) State=UNKNOWN" ;;
    multi) ctl="$host(127.0.0.1)"
      for i in $(seq 1 "$NODES"); do
        nodes_conf+="NodeName=n$i NodeHostname=$host NodeAddr=127.0.0.1 Port=$((D_PORT + 10 + i)) CPUs=$cpus RealMemory=$((mem * 9 / 10 / NODES)) State=UNKNOWN"$'\n'
      done ;;
    netns) ctl="h1($SUBNET.11)"
      for i in $(seq 1 "$NETNS"); do
        nodes_conf+="NodeName=h$i NodeAddr=$SUBNET.1$i CPUs=$cpus RealMemory=$((mem * 9 / 10 / NETNS)) State=UNKNOWN"$'\n'
      done ;;
  esac
  local auth_lines
  if [ "$AUTH" = munge ]; then
    auth_lines="AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$DIR/munge/munge.socket"
  else
    auth_lines="AuthType=auth/none
CredType=cred/none"
  fi
  cat > "$CONF" <<EOF
# generated by slurm-local.sh ($(mode) mode)
ClusterName=local
SlurmctldHost=$ctl
SlurmUser=root
SlurmdUser=root
$auth_lines
SlurmctldPort=$CTL_PORT
SlurmdPort=$D_PORT
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool/%n
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd-%n.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd-%n.log
SlurmctldDebug=info
SlurmdDebug=info
# trust CPUs= below even where it differs from the hardware (oversubscription)
SlurmdParameters=config_overrides
# per-node TmpFS: srun --mpi=pmix makes spmix_appdir_* there; with one shared /tmp
# two slurmd on one host collide ("Cannot create directory ... File exists")
TmpFS=$DIR/tmp/%n
# no systemd / cgroups: track processes by /proc parentage, no binding plugin
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
# no slurmdbd: completed jobs go to a text file, read with 'sacct -c'
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/jobcomp.txt
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
MinJobAge=300
$nodes_conf
PartitionName=debug Nodes=ALL Default=YES MaxTime=60 State=UP
EOF
}

start_munge() {
  mkdir -p "$DIR/munge"; chmod 711 "$DIR/munge"
  mungekey -c -k "$DIR/munge/munge.key" 2>/dev/null \
    || dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1 count=1024 status=none
  chmod 400 "$DIR/munge/munge.key"
  munged --force -S "$DIR/munge/munge.socket" --key-file="$DIR/munge/munge.key" \
    --pid-file="$DIR/munge/munged.pid" --log-file="$DIR/munge/munged.log" \
    --seed-file="$DIR/munge/munged.seed"
}

# run a daemon inside netns host H: nsenter (not 'ip netns exec', which remounts
# /sys without /sys/fs/cgroup and slurmd then dies "Unable to initialize cgroup plugin")
in_host() { local h=$1; shift; nsenter --net="/run/netns/$NETNS_PFX-$h" unshare --uts sh -c 'hostname "$0"; exec "$@"' "$h" "$@"; }

client() {  # client CMD...: a client command where slurmctld is reachable
  if [ "$(mode)" = netns ]; then
    nsenter --net="/run/netns/$NETNS_PFX-h1" env SLURM_CONF="$CONF" "$@"
  else
    env SLURM_CONF="$CONF" "$@"
  fi
}

up() {
  [ "$(id -u)" = 0 ] || die "must be root"
  [ -f "$DIR/slurmctld.pid" ] && kill -0 "$(cat "$DIR/slurmctld.pid")" 2>/dev/null && die "already up"
  local t0 n names; t0=$(date +%s.%N)
  install_pkgs
  trap 'rc=$?; if [ $rc -ne 0 ]; then echo "slurm-local: up failed, stopping what started" >&2; down >/dev/null 2>&1 || true; fi; exit $rc' EXIT
  mkdir -p "$DIR"/{state,log}
  names=$(node_names)
  for n in $names; do mkdir -p "$DIR/spool/$n" "$DIR/tmp/$n"; done
  echo "NODES=$NODES NETNS=$NETNS AUTH=$AUTH" > "$DIR/mode"
  if [ "$(mode)" = netns ] && ! ip netns list | grep -q "^$NETNS_PFX-h1\b"; then
    "$NETNS_SH" up "$NETNS" >/dev/null; echo "STARTED_NETNS=1" >> "$DIR/mode"
  fi
  write_conf
  [ "$AUTH" = munge ] && start_munge
  case $(mode) in
    single) slurmctld -f "$CONF"; slurmd -f "$CONF" ;;
    multi) slurmctld -f "$CONF"; for n in $names; do slurmd -f "$CONF" -N "$n"; done ;;
    netns) in_host h1 slurmctld -f "$CONF"; for n in $names; do in_host "$n" slurmd -f "$CONF"; done ;;
  esac
  local want i; want=$(echo "$names" | wc -w)
  for i in $(seq 1 60); do
    if [ "$(client sinfo -h -N -t idle -o '%N' 2>/dev/null | sort -u | wc -l)" = "$want" ]; then
      echo "slurm-local ($(mode), $want node(s)) up in $(echo "$(date +%s.%N) - $t0" | bc) s; conf: $CONF"
      trap - EXIT
      return 0
    fi
    sleep 0.5
  done
  client sinfo || true; tail -n 5 "$DIR"/log/*.log
  die "nodes did not become idle in 30 s"
}

stop_pidfile() {
  local f=$1 p
  [ -f "$f" ] || return 0
  p=$(cat "$f"); kill "$p" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$p" 2>/dev/null || true
}

# pids of slurmstepd processes that belong to this cluster (they hold files under $DIR open)
our_stepds() {
  local p
  for p in $(pgrep -x slurmstepd 2>/dev/null || true); do
    ls -l "/proc/$p/fd" 2>/dev/null | grep -q " $DIR/" && echo "$p"
  done
  return 0
}

down() {
  load_mode
  if [ -f "$CONF" ] && [ -f "$DIR/slurmctld.pid" ] && kill -0 "$(cat "$DIR/slurmctld.pid")" 2>/dev/null; then
    client scancel --quiet --user=root 2>/dev/null || true
    local i
    for i in $(seq 1 30); do   # let slurmd kill the steps (KillWait=5) before it goes away
      [ -z "$(client squeue -h -o %i 2>/dev/null)" ] && break
      sleep 0.5
    done
  fi
  local f p
  for f in "$DIR"/slurmd-*.pid; do stop_pidfile "$f"; done
  stop_pidfile "$DIR/slurmctld.pid"
  stop_pidfile "$DIR/munge/munged.pid"
  for p in $(our_stepds); do kill -9 "$p" 2>/dev/null || true; done
  [ "${STARTED_NETNS:-0}" = 1 ] && "$NETNS_SH" down >/dev/null
  rm -rf "$DIR"
  echo "slurm-local down"
}

status() {
  load_mode
  local f
  for f in "$DIR/slurmctld.pid" "$DIR"/slurmd-*.pid "$DIR/munge/munged.pid"; do
    [ -f "$f" ] && echo "$(basename "$f" .pid): pid $(cat "$f") $(kill -0 "$(cat "$f")" 2>/dev/null && echo running || echo DEAD)"
  done
  client sinfo -N; client squeue
}

cmd=${1:-}; shift || true
case "$cmd" in
  up) up ;;
  down) down ;;
  status) status ;;
  run) load_mode; [ $# -gt 0 ] || die "run CMD..."; client "$@" ;;
  env) echo "export SLURM_CONF=$CONF" ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 2 ;;
esac
