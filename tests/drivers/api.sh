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
        --preset --record --format --help; do
        grep -q -- "$o" "$work/help" || fail "help lacks $o"
    done
    grep -q -- 'a bare number S is fixed:S' "$work/help" || fail "help does not say a bare latency is fixed"
    ;;
*) fail "unknown scenario" ;;
esac
echo "ok ($scenario)"
