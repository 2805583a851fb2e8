#!/usr/bin/env bash
# I/O building blocks against their anchors, side by side in one invocation: pk_queue with
# 1 producer and 3 consumers (single items and batches) against Python's queue.Queue (the
# tutorials') and, when GLib's headers are installed, GLib's GAsyncQueue and a plain pthread ring.
# usage: jobs/bench-io.sh [BUILD_DIR]   env: ITEMS (2000000) REPS (5) ANCHORS (../shared/anchors/io)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build/release}
ITEMS=${ITEMS:-2000000} REPS=${REPS:-5}
anchors=${ANCHORS:-$here/../shared/anchors/io}
bq=$build/tests/bench_queue
[[ -x $bq ]] || { echo "build $bq first (cmake --build --preset release)" >&2; exit 2; }
for b in 1 16 64; do
    "$bq" "$ITEMS" 3 1024 "$b" "$REPS"
done
if [[ -f $anchors/py_concurrency.py ]]; then
    echo "python queue.Queue 1P/3C (1e6 items):"
    /usr/bin/python3 "$anchors/py_concurrency.py" c --repeats 3
fi
if [[ -f $anchors/gpool_bench.c ]] && pkg-config --exists glib-2.0 2>/dev/null; then
    tmp=$(mktemp -d)
    gcc -O2 "$anchors/gpool_bench.c" -o "$tmp/gpool" $(pkg-config --cflags --libs glib-2.0) -lpthread
    "$tmp/gpool" gasyncqueue "$ITEMS" 3
    "$tmp/gpool" ring "$ITEMS" 3 1024
    "$tmp/gpool" ringb "$ITEMS" 3 1024 64
    rm -rf "$tmp"
fi
