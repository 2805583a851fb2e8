#!/usr/bin/env bash
# race.sh PARKIT SCENARIO: `parkit race` read back by real parsers, every count checked against
# threads x increments computed here. The unlocked count is only bounded: how many updates it
# loses depends on the machine (none when the threads do not overlap).
set -euo pipefail
parkit=$1 scenario=$2
. "$(dirname "$0")/lib.sh" race race

case $scenario in
counts) # 2 and 3 threads (more threads than cores too): csv rows, exact where a lock or merge is
    for t in 2 3; do
        run 0 -t $t --increments 200003 --format csv
        python3 - "$work/stdout" $t 200003 <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
t, n = int(sys.argv[2]), int(sys.argv[3])
want = t * n
assert [r["way"] for r in rows] == ["no lock", "mutex", "atomic add", "thread-local"], rows
for r in rows:
    count = int(r["count"])
    assert int(r["threads"]) == t and int(r["increments"]) == n and int(r["expected"]) == want, r
    assert int(r["lost"]) == want - count and r["ok"] == "yes", r
    assert (count <= want) if r["way"] == "no lock" else (count == want), r
    assert float(r["time_s"]) > 0 and abs(float(r["ns_per_increment"]) - 1e9 * float(r["time_s"]) / want) < 1e-3, r
PY
    done
    ;;
table) # the table and the JSON record say the same
    run 0 -t 2 -n 50000 --format json
    python3 - "$work/stdout" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ways = {w["way"]: w for w in r["result"]["ways"]}
assert r["verified"] is True and r["params"] == {"threads": 2, "increments": 50000, "canary": False}, r
for k in ("mutex", "atomic add", "thread-local"):
    assert ways[k]["count"] == 100000 and ways[k]["lost"] == 0 and ways[k]["ok"], ways[k]
assert ways["no lock"]["count"] + ways["no lock"]["lost"] == 100000, ways
PY
    run 0 -t 2 -n 50000
    grep -Eq '^mutex +100000 +100000 +0 +[0-9.]+ +yes$' "$work/stdout" || fail "mutex row"
    grep -Eq '^thread-local +100000 +100000 +0 ' "$work/stdout" || fail "thread-local row"
    grep -q '^verified    yes' "$work/stdout" || fail "not verified"
    ;;
canary) # one thread-local increment dropped: the check fails, exit 3
    run 3 -t 2 -n 1000 --canary
    grep -Eq '^thread-local +1999 +2000 +1 .* NO$' "$work/stdout" || fail "canary row"
    grep -q 'verification failed' "$work/stderr" || fail "not named"
    ;;
usage) # a race needs two threads; the counts are bounded
    run 2 -t 1
    grep -q 'a race needs at least 2 threads (-t), got 1' "$work/stderr" || fail "-t 1"
    run 2 --increments 0
    grep -q -- '--increments must be at least 1' "$work/stderr" || fail "--increments 0"
    run 2 --reps 2
    grep -q "option '--reps' does not apply to parkit race" "$work/stderr" || fail "--reps"
    ;;
*) fail "unknown scenario" ;;
esac
echo "ok ($scenario)"
