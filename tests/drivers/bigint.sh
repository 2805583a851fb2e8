#!/usr/bin/env bash
# bigint.sh PARKIT SCENARIO: factsum and fib as a user reads them: --format csv parsed by
# Python's csv module, their help listing every option they declare, and the values right.
set -euo pipefail
parkit=$1 scenario=$2
. "$(dirname "$0")/lib.sh" bigint

case $scenario in
csv) # a header row, then one row per N in the order given
    run 0 factsum 1000 10 --format csv --reps 1
    python3 - "$work/stdout" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
assert [r["n"] for r in rows] == ["1000", "10"], rows
assert rows[0]["digits"] == "2565" and rows[1]["first20"] == "409114", rows
assert all(r["driver"] == "factsum" and r["verified"] == "yes" for r in rows), rows
PY
    run 0 fib 10 0 100 --format csv --reps 1 --no-verify
    python3 - "$work/stdout" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
assert [(r["n"], r["first20"]) for r in rows] == [("10", "55"), ("0", "0"),
        ("100", "35422484817926191507")], rows
assert all(r["driver"] == "fib" and r["verified"] == "skipped" for r in rows), rows
PY
    ;;
help_lists) # every option in the declared table is in --help; the declared reps default is 3, cut after a long first run
    for cmd in factsum fib; do
        run 0 "$cmd" --options-json
        cp "$work/stdout" "$work/opts.json"
        run 0 "$cmd" --help
        python3 - "$work/opts.json" "$work/stdout" <<'PY'
import json, sys
spec = json.load(open(sys.argv[1]))
help = open(sys.argv[2]).read()
names = [o["name"] for o in spec["options"] + spec["shared"] if not o["hidden"]]
missing = [n for n in names if "--" + n not in help]
assert not missing, missing
assert "csv" in spec["formats"], spec["formats"]
flat = " ".join(help.split())
assert ("timed repetitions; the maximum over ranks is kept (default 3; without --reps, a "
        "first run over 1 s is the only one)") in flat, help
PY
    done
    ;;
*) fail "unknown scenario" ;;
esac
