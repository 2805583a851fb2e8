#!/bin/sh
# workload.sh NAME PARKIT MUTEX_TURNS RESIZE(yes|no): runs parkit advise on one labelled workload
# RUNS times (default 5) and checks that each run gets the workload's verdict (and, where the
# label names it, what it waits on). The workloads are the tutorials' cases: Python CPU work in
# threads (serialised by the GIL) and in a process pool (parallel), sleeping threads, threads
# waiting on a slow loopback HTTP server (network), an fsync loop (disk), C threads taking
# turns on one mutex (serialised), parkit sumsq and resize (parallel) and parkit api (I/O).
set -eu
name=$1 P=$2 turns=$3 resize=$4
here=$(cd "$(dirname "$0")" && pwd)
runs=${RUNS:-5}
work=$(mktemp -d "${TMPDIR:-/tmp}/advise-$name.XXXXXX")
server=
cleanup() { [ -z "$server" ] || kill "$server" 2> /dev/null || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM
fail() { echo "advise $name: $*" >&2; exit 1; }
wait_on=
# the interpreter itself, not a wrapper (pyenv's shims are shell scripts that would be measured)
py=$(python3 -c 'import sys; print(sys.executable)')
case $name in
gil) want=cpu-bound-serialised; set -- "$py" "$here/gil_threads.py" ;;
processes) want=cpu-bound-parallel; set -- "$py" "$here/process_pool.py" ;;
sleep) want=io-bound wait_on=timer; set -- "$py" "$here/sleep_threads.py" ;;
network)
    python3 "$here/slow_server.py" "$work/port" & server=$!
    i=0; while [ ! -s "$work/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    [ -s "$work/port" ] || fail "the slow server did not start"
    want=io-bound wait_on=network; set -- "$py" "$here/http_client.py" "$(cat "$work/port")" ;;
disk)
    # fsync must reach a device here (tmpfs makes it free): 20 of them take a few ms at least
    python3 -c 'import os,sys,time; fd=os.open(sys.argv[1],os.O_WRONLY|os.O_CREAT,0o644)
t=time.time()
for i in range(20): os.write(fd,b"x"*4096); os.fsync(fd)
sys.exit(0 if time.time()-t > 0.002 else 77)' "$work/probe" || { echo "skipped: fsync is free on this file system"; exit 77; }
    # a virtual disk with a write cache answers an fsync in about the kernel time it costs:
    # waiting on the disk is the label, more or less than half the time
    want="io-bound mixed" wait_on=disk; set -- "$py" "$here/fsync_loop.py" "$work/fsync.dat" 1000 ;;
mutex) want=cpu-bound-serialised; set -- "$turns" 4 300 ;;
sumsq) want=cpu-bound-parallel; set -- "$P" sumsq --range 3e9 -t 2 --reps 3 --warmup 0 ;;
resize)
    [ "$resize" = yes ] || { echo "skipped: resize is not in this build"; exit 77; }
    # a 1600x1200 textured gradient (P6), in 24 files
    mkdir "$work/img"
    python3 -c 'import sys
w, h = 1600, 1200
rows = [bytes(((x * 255 // w) ^ (y & 7) * 8, y * 255 // h, (x * y >> 6) & 255)[c]
              for x in range(w) for c in range(3)) for y in range(0, h, 8)]
px = b"".join(rows[y // 8] for y in range(h))
open(sys.argv[1], "wb").write(b"P6\n%d %d\n255\n" % (w, h) + px)' "$work/img/p00.ppm"
    for k in $(seq 1 23); do cp "$work/img/p00.ppm" "$work/img/p$k.ppm"; done
    want=cpu-bound-parallel; set -- "$P" resize "$work/img" --out "$work/thumbs" --size 256x256 -t 2 ;;
api) want=io-bound wait_on=timer; set -- "$P" api --tasks 16 --workers 8 --latency fixed:0.03 ;;
*) fail "unknown workload" ;;
esac
export OMP_WAIT_POLICY=passive
i=1
while [ $i -le "$runs" ]; do
    [ "$name" != resize ] || rm -rf "$work/thumbs"
    rm -f "$work/advise.json" # the record alone: the command's own output passes through stdout
    "$P" advise --record "$work/advise.json" -- "$@" > "$work/advise.out" 2> "$work/advise.err" \
        || { cat "$work/advise.out" "$work/advise.err"; fail "run $i: advise failed"; }
    got=$(python3 -c 'import json,sys
r = json.load(open(sys.argv[1]))["result"]
t = r["thread_s"]
print(r["kind"], r["waits_on"], "busy %.2f" % r["busy_cores"], "threads", r["max_threads"],
      "processes", r["processes"], "computing", r["computing_threads"],
      " ".join("%s=%.2f" % (k, v) for k, v in t.items() if v >= 0.005))' "$work/advise.json")
    echo "run $i: $got"
    kind=${got%% *} rest=${got#* } on=${rest%% *}
    ok=no
    for k in $want; do [ "$kind" != "$k" ] || ok=yes; done
    [ $ok = yes ] || fail "run $i: verdict $kind, expected $want ($got)"
    [ -z "$wait_on" ] || [ "$on" = "$wait_on" ] || fail "run $i: waits on $on, expected $wait_on ($got)"
    i=$((i + 1))
done
