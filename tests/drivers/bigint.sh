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
decimal_check) # every decimal text checked against its value; the canary's changed digit is seen
    for cmd in "factsum 1000 10" "fib 100 7"; do
        # shellcheck disable=SC2086 # the command and its N, split on purpose
        run 0 $cmd --format json --reps 1 --digits "$work/d.txt"
        python3 - "$work/stdout" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))["verification"]
assert v["decimal_mismatches"] == 0 and "mod 4 primes" in v["decimal"], v
PY
        # shellcheck disable=SC2086
        run 3 $cmd --format json --reps 1 --canary --digits "$work/canary.txt"
        [[ ! -e $work/canary.txt ]] || fail "a canary's digits were written"
        python3 - "$work/stdout" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["verified"] is False and r["verification"]["decimal_mismatches"] == 1, r["verification"]
PY
    done
    run 0 factsum 1000 --format json --reps 1 --no-verify
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert "decimal" not in (r.get("verification") or {}), r' "$work/stdout"
    ;;
edges_check) # without --digits: the count and edges printed match the whole text, checked as printed
    for cmd in "factsum 1e5 1000 10" "fib 5e5 100 7"; do
        # shellcheck disable=SC2086 # the command and its N, split on purpose
        run 0 $cmd --format json --reps 1
        cp "$work/stdout" "$work/edges.json"
        # shellcheck disable=SC2086
        run 0 $cmd --format json --reps 1 --digits "$work/d.txt"
        python3 - "$work/edges.json" "$work/d.txt" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
v = r["verification"]
assert r["verified"] is True and v["decimal_mismatches"] == 0, v
assert "first * 10^k <= value" in v["decimal"], v
texts = open(sys.argv[2]).read().split()
for one, text in zip(r["result"], texts):
    want = (len(text), text[:20], text[-20:])
    assert (one["digits"], one["first"], one["last"]) == want, (one, want)
assert len(texts) == len(r["result"]) == 3, r["result"]
PY
        # shellcheck disable=SC2086
        run 3 $cmd --format json --reps 1 --canary
        python3 - "$work/stdout" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["verified"] is False and r["verification"]["decimal_mismatches"] == 1, r["verification"]
PY
    done
    ;;
process_name) # started again for its settings, it still shows as parkit (ps, top, pkill), not exe
    "$parkit" factsum 3e6 -t 1 --reps 1 --warmup 0 > /dev/null &
    pid=$! seen=""
    while kill -0 "$pid" 2>/dev/null; do
        seen+=" $(cat "/proc/$pid/comm" 2>/dev/null || true)"
        sleep 0.02
    done
    wait "$pid" || fail "factsum 3e6 failed"
    [[ $seen == *parkit* ]] || fail "the process was never seen by its name: '$seen'"
    [[ $seen != *exe* ]] || fail "the process showed as exe: '$seen'"
    ;;
*) fail "unknown scenario" ;;
esac
