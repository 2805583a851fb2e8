#!/usr/bin/env bash
# I/O building blocks against their anchors, side by side in one invocation (the event-loop
# engine's timers against Python's asyncio among them): pk_queue with
# 1 producer and 3 consumers (single items and batches) against Python's queue.Queue (the
# tutorials'); pk_pool's cost per trivial task (submit + result, and map) and sleeping tasks
# against their ideal wall time, beside Python's ThreadPoolExecutor; and, when GLib's headers are
# installed, GLib's GAsyncQueue, GThreadPool and a plain pthread ring.
# usage: jobs/bench-io.sh [BUILD_DIR]   env: ITEMS (2000000) REPS (5) ANCHORS (../shared/anchors/io)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
[[ -f $here/CMakeLists.txt ]] || { echo "bench-io.sh: needs the parkit source and build tree (run it from the repository's jobs/, not an installed copy)" >&2; exit 2; }
build=${1:-$here/build/release}
ITEMS=${ITEMS:-2000000} REPS=${REPS:-5}
anchors=${ANCHORS:-$here/../shared/anchors/io}
bq=$build/tests/bench_queue bp=$build/tests/bench_pool bl=$build/tests/bench_loop
for t in "$bq" "$bp" "$bl"; do
    [[ -x $t ]] || { echo "build $t first (cmake --build --preset release)" >&2; exit 2; }
done
for b in 1 16 64; do
    "$bq" "$ITEMS" 3 1024 "$b" "$REPS"
done
for t in 1 2 4; do
    "$bp" trivial 100000 "$t" "$REPS"
done
"$bp" map 100000 4 64 "$REPS"
"$bp" sleep 50 10 0.1 3
"$bp" sleep 1000 100 0.01 "$REPS"
"$bp" sleep 10000 1000 0.01 3
# the event-loop engine (io/loop) against asyncio, the same waits: issue 13's table
"$bl" sleep 10000 10000 0.01 1 "$REPS"
"$bl" sleep 100000 10000 0.01 1 3
"$bl" sleep 1000 100 0.01 1 "$REPS"
"$bp" sleep 1000 100 0.01 "$REPS"
/usr/bin/python3 "$here/jobs/asyncio_sleep.py" 10000 10000 0.01 "$REPS"
/usr/bin/python3 "$here/jobs/asyncio_sleep.py" 100000 10000 0.01 3
if [[ -f $anchors/py_concurrency.py ]]; then
    echo "python (same run): ThreadPoolExecutor sleeps, trivial tasks, queue.Queue 1P/3C:"
    for part in a b c; do
        /usr/bin/python3 "$anchors/py_concurrency.py" "$part" --repeats 3
    done
fi
if [[ -f $anchors/gpool_bench.c ]] && pkg-config --exists glib-2.0 2>/dev/null; then
    tmp=$(mktemp -d)
    gcc -O2 "$anchors/gpool_bench.c" -o "$tmp/gpool" $(pkg-config --cflags --libs glib-2.0) -lpthread
    for t in 1 2 4; do "$tmp/gpool" pool 1000000 "$t" || true; done
    "$tmp/gpool" gasyncqueue "$ITEMS" 3
    "$tmp/gpool" ring "$ITEMS" 3 1024
    "$tmp/gpool" ringb "$ITEMS" 3 1024 64
    rm -rf "$tmp"
fi
