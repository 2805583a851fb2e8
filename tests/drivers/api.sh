#!/usr/bin/env bash
# api.sh PARKIT SCENARIO: what `parkit api` prints, read back by real parsers (Python's csv and
# json modules), and that its help lists exactly the options it accepts.
set -euo pipefail
parkit=$1 scenario=$2
. "$(dirname "$0")/lib.sh" api api

case $scenario in
csv) # a header row and one row: the run's summary, parsed by an RFC 4180 reader
    run 0 --tasks 12 --workers 4 --latency fixed:0.002 --format csv
    python3 - "$work/stdout" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
assert len(rows) == 1, rows
r = rows[0]
assert r["tasks"] == "12" and r["workers"] == "4" and r["latency"] == "fixed", r
assert r["failed"] == "0" and r["finished"] == "12" and r["verified"] == "yes", r
assert float(r["sequential_s"]) >= 0.02 and float(r["pooled_s"]) > 0, r
assert abs(float(r["littles_bound"]) - 2000) < 1, r
PY
    run 0 --tasks 3 --workers 3 --latency 0 --no-sequential --format csv
    python3 - "$work/stdout" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
assert len(rows) == 1 and rows[0]["sequential_s"] == "" and rows[0]["speedup"] == "", rows
PY
    ;;
health_json) # the as-completed lines are table output: --format json stays one JSON document
    run 0 --preset health --seed 3 --format json
    python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); assert r["result"]["healthy"] == 3, r' \
        "$work/stdout"
    run 0 --preset health --format csv
    python3 -c 'import csv, sys; rows = list(csv.DictReader(open(sys.argv[1]))); assert len(rows) == 1 and rows[0]["preset"] == "health", rows' \
        "$work/stdout"
    ;;
help_lists) # every option it lists is accepted, and the shared ones it ignores are neither listed nor accepted
    run 0 --help
    cp "$work/stdout" "$work/help"
    for o in --threads --reps --warmup --no-verify; do
        grep -q -- "$o" "$work/help" && fail "help lists $o"
        run 2 "$o" 2
        grep -q "option '$o' does not apply to parkit api" "$work/stderr" || fail "$o not named"
    done
    grep -Eq -- '(^|[ ,])-t[ ,]' "$work/help" && fail "help lists -t"
    for o in --tasks --workers --latency --seed --fail-rate --timeout --retries --no-sequential \
        --preset --engine --concurrency --record --format --help; do
        grep -q -- "$o" "$work/help" || fail "help lacks $o"
    done
    grep -q -- 'a bare number S is fixed:S' "$work/help" || fail "help does not say a bare latency is fixed"
    ;;
engines_agree) # the same plan on both engines: retries, timeouts and failures come out the same
    for e in threads loop; do # calls that fail after their retries: exit 1
        run 1 --engine "$e" --tasks 300 --workers 40 --latency lognormal:-4.6:0.5 --fail-rate 0.3 \
            --retries 2 --timeout 0.03 --seed 7 --no-sequential --format json
        cp "$work/stdout" "$work/$e.json"
    done
    python3 - "$work/threads.json" "$work/loop.json" <<'PY'
import json, sys
t, l = (json.load(open(f)) for f in sys.argv[1:])
assert t["params"]["engine"] == "threads" and l["params"]["engine"] == "loop", (t, l)
for k in ("finished", "failed"):
    assert t["result"][k] == l["result"][k], (k, t["result"], l["result"])
assert t["result"]["failed"] > 0 and t["verified"] and l["verified"], (t, l)
PY
    ;;
loop_lessons) # the tutorials' presets on the event loop print the same lessons
    run 0 --preset stores --engine loop --no-sequential
    grep -q '^Profitable stores: 6/50 ' "$work/stdout" || fail "profitable stores"
    grep -q '^Total profit: \$33,840 ' "$work/stdout" || fail "total profit"
    grep -q 'timers on one event-loop thread' "$work/stdout" || fail "engine not named"
    run 0 --preset health --engine loop --seed 3
    grep -q 'Health Summary 3/5 services healthy' "$work/stdout" || fail "health summary"
    ;;
loop_many) # 10,000 timers at once: each call made exactly as planned, once
    run 0 --engine loop --tasks 10000 --workers 10000 --latency 0.01 --no-sequential --format json
    python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); assert r["verified"] and r["result"]["finished"] == 10000 and r["params"]["in_flight"] == 10000, r' \
        "$work/stdout"
    ;;
concurrency) # --concurrency bounds the calls in flight on both engines: 12 calls 3 at a time
    for e in threads loop; do # take at least 4 rounds of 0.05 s
        run 0 --engine "$e" --tasks 12 --workers 10 --concurrency 3 --latency 0.05 --no-sequential \
            --format json
        python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); assert r["params"]["in_flight"] == 3 and r["result"]["pooled_s"] >= 0.2 and r["verified"], r' \
            "$work/stdout"
    done
    ;;
loop_sigint) # Ctrl-C with 10,000 calls in flight on the loop: out within 0.5 s, interrupted
    "$parkit" api --engine loop --tasks 10000 --workers 10000 --latency 30 --no-sequential \
        > "$work/stdout" 2> "$work/stderr" &
    pid=$!
    sleep 1.5
    t0=$(date +%s.%N)
    kill -INT $pid
    rc=0
    wait $pid || rc=$?
    t1=$(date +%s.%N)
    cat "$work/stdout" "$work/stderr"
    [[ $rc == 1 ]] || fail "exit $rc, expected 1"
    grep -q interrupted "$work/stderr" || fail "not said interrupted"
    python3 -c "import sys; d = $t1 - $t0; print(f'exit {d:.3f} s after SIGINT'); sys.exit(d > 0.5)" ||
        fail "took longer than 0.5 s to stop"
    ;;
*) fail "unknown scenario" ;;
esac
echo "ok ($scenario)"
