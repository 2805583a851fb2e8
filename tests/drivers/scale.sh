#!/usr/bin/env bash
# scale.sh PARKIT SCENARIO: what `parkit scale`, `scale grain` and `advise` print with --format
# csv, read back by Python's csv module, and that the help of scale, scale grain, advise and demo
# lists exactly the options they accept.
set -euo pipefail
parkit=$1 scenario=$2
. "$(dirname "$0")/lib.sh" scale

case $scenario in
csv) # a header row, then one row per point
    run 0 scale fib 20000 -t 1,2 --reps 1 --format csv
    python3 - "$work/stdout" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
assert [r["workers"] for r in rows] == ["1", "2"], rows
assert all(r["kernel"] == "fib" and r["mode"] == "strong" and r["size"] == "20000" for r in rows), rows
assert all(r["verified"] == "yes" and float(r["median_s"]) > 0 for r in rows), rows
assert float(rows[0]["speedup"]) == 1 and float(rows[0]["efficiency"]) == 1, rows
PY
    ;;
engines) # scale api --engine threads,loop --concurrency: both engines side by side, each verified
    run 0 scale api --engine threads,loop --concurrency 2,4 --reps 1 --warmup 0 --format csv -- \
        --tasks 8 --latency 0.01
    python3 - "$work/stdout" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
assert [(r["engine"], r["workers"]) for r in rows] == [("threads", "2"), ("threads", "4"), ("loop", "2"), ("loop", "4")], rows
assert all(r["verified"] == "yes" and float(r["median_s"]) >= 0.02 for r in rows), rows
assert float(rows[0]["speedup"]) == 1 and float(rows[2]["speedup"]) == 1, rows  # within an engine
PY
    run 0 scale api --engine loop --concurrency 3 --reps 1 --warmup 0 -- --tasks 6 --latency 0.01
    grep -Eq '^ +3 .* yes +loop ' "$work/stdout" || fail "the engine is not named in the table"
    run 2 scale api --engine threads,fibers --concurrency 2
    grep -q "threads, loop or threads,loop, got 'threads,fibers'" "$work/stderr" || fail "bad engine not named"
    run 2 scale sumsq --range 100 --engine loop
    grep -q -- "--engine is for api and fetch, not sumsq" "$work/stderr" || fail "engine on a kernel"
    run 2 scale api --workers 2 --concurrency 2
    ;;
grain_csv) # a header row, then one row per chunk size; no MPI columns on one rank
    run 0 scale grain --total 20000 --chunk 1,100,20000 --reps 1 -t 2 --format csv
    python3 - "$work/stdout" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
assert [r["chunk"] for r in rows] == ["1", "100", "20000"], rows
assert [r["chunks"] for r in rows] == ["20000", "200", "1"], rows
assert all(r["verified"] == "yes" and r["threads"] == "2" and r["total"] == "20000" for r in rows), rows
assert all(float(r["openmp_ns_per_item"]) > 0 and float(r["pool_ns_per_item"]) > 0 for r in rows), rows
assert all(r["mpi_ns_per_item"] == "" and float(r["pool_task_us"]) > 0 for r in rows), rows
PY
    ;;
advise_csv) # one row of measurements; a command holding a comma and quotes stays one field
    run 0 advise --format csv -- sh -c ': "a,b"'
    python3 - "$work/stdout" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
assert len(rows) == 1, rows
r = rows[0]
assert r["command"] == 'sh -c : "a,b"', r
assert r["exit"] == "exited with status 0" and float(r["wall_s"]) > 0, r
assert r["kind"] in ("io-bound", "mixed", "cpu-bound-serial", "cpu-bound-parallel"), r
assert int(r["workers"]) >= 1 and int(r["max_threads"]) >= 1, r
PY
    ;;
help_lists) # every declared option is in --help; shared options a command ignores are refused
    for cmd in "scale" "scale grain" "advise" "demo"; do
        # shellcheck disable=SC2086 # the subcommand is two words
        run 0 $cmd --help
        cp "$work/stdout" "$work/help"
        # shellcheck disable=SC2086
        run 0 $cmd --options-json
        python3 - "$work/stdout" "$work/help" <<'PY' || fail "$cmd: help and table differ"
import json, sys
spec = json.load(open(sys.argv[1]))
help_text = open(sys.argv[2]).read()
for o in spec["options"] + spec["shared"]:
    if not o["hidden"]:
        assert "--" + o["name"] in help_text, (spec["command"], o["name"])
PY
    done
    # advise measures one run of a command: no threads, repetitions or verification of its own
    for o in -t --threads --reps --warmup --no-verify; do
        run 2 advise "$o" 2 -- true
        grep -q -- "'$o'" "$work/stderr" || fail "advise: $o not named"
    done
    run 0 advise --help
    grep -Eq -- '(^|[ ,])(-t|--threads)[ ,]' "$work/stdout" && fail "advise help lists -t"
    run 2 demo --format json
    run 2 demo --no-verify
    run 2 scale grain --no-verify
    run 2 scale sleep 0.01 --no-verify
    grep -q -- "--no-verify does not apply to scale sleep" "$work/stderr" || fail "sleep --no-verify"
    ;;
*) fail "unknown scenario" ;;
esac
echo "ok ($scenario)"
