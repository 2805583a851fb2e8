#!/usr/bin/env bash
# pipeline.sh PARKIT SCENARIO: `parkit pipeline` as a user reads it: --format csv parsed by
# Python's csv module, and the shared options it cannot honour neither listed nor accepted.
set -euo pipefail
parkit=$1 scenario=$2
. "$(dirname "$0")/lib.sh" pipeline pipeline

case $scenario in
csv) # a header row, then one row per stage, in order, names quoted where they need it
    run 0 --items 7 --stages 'a "b":0:2,c:0.001:1' --format csv
    python3 - "$work/stdout" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
assert [r["stage"] for r in rows] == ['a "b"', "c"], rows
assert [r["workers"] for r in rows] == ["2", "1"] and all(r["items"] == "7" for r in rows), rows
assert all(r["driver"] == "pipeline" and r["verified"] == "yes" for r in rows), rows
assert float(rows[1]["seconds"]) == 0.001 and float(rows[0]["wall_s"]) > 0, rows
PY
    ;;
no_shared) # one run on its own threads: no --threads, --reps, --warmup or --no-verify
    run 0 --help
    cp "$work/stdout" "$work/help"
    for o in -t --threads --reps --warmup --no-verify; do
        grep -Eq -- "(^|[ ,])$o[ ,]" "$work/help" && fail "help lists $o"
        if [[ $o == --no-verify ]]; then run 2 "$o"; else run 2 "$o" 2; fi
        grep -q "option '$o' does not apply to parkit pipeline" "$work/stderr" || fail "$o not named"
    done
    for o in --stages --items --queue --record --format --help; do
        grep -q -- "$o" "$work/help" || fail "help lacks $o"
    done
    ;;
*) fail "unknown scenario" ;;
esac
