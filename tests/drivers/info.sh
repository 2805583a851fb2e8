#!/usr/bin/env bash
# info.sh PARKIT SCENARIO: `parkit info` as a user and the job scripts read it: --format csv
# parsed by Python's csv module, --format json with the facts at the top (jobs/ read .ranks),
# -t changing the threads it shows, and the shared options it cannot honour refused.
set -euo pipefail
parkit=$1 scenario=$2
. "$(dirname "$0")/lib.sh" info info

case $scenario in
csv) # a header row, then one row per OpenMP thread of each rank
    run 0 -t 3 --format csv
    python3 - "$work/stdout" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
assert [r["thread"] for r in rows] == ["0", "1", "2"], rows
assert all(r["rank"] == "0" and r["host"] and r["cpu"].isdigit() for r in rows), rows
PY
    ;;
json) # the facts at the top level, and -t is the thread count they describe
    run 0 -t 3 --format json --record "$work/r.jsonl"
    python3 - "$work/stdout" "$work/r.jsonl" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["command"] == "info" and d["nthreads"] == 3, d
assert len(d["ranks"]) == 1 and len(d["ranks"][0]["threads"]) == 3, d["ranks"]
r = [json.loads(l) for l in open(sys.argv[2])]
assert len(r) == 1 and r[0]["ranks"] == d["ranks"] and "version" in r[0]["provenance"], r
PY
    ;;
no_shared) # nothing timed or verified: no --reps, --warmup or --no-verify
    run 0 --help
    cp "$work/stdout" "$work/help"
    for o in --reps --warmup --no-verify; do
        grep -q -- "$o" "$work/help" && fail "help lists $o"
        if [[ $o == --no-verify ]]; then run 2 "$o"; else run 2 "$o" 2; fi
        grep -q "option '$o' does not apply to parkit info" "$work/stderr" || fail "$o not named"
    done
    for o in --threads --record --format --help; do
        grep -q -- "$o" "$work/help" || fail "help lacks $o"
    done
    ;;
*) fail "unknown scenario" ;;
esac
