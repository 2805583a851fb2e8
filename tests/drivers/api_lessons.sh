#!/usr/bin/env bash
# api_lessons.sh PARKIT SCENARIO: the tutorials' api lessons as `parkit api` prints them, each
# figure checked against the lesson's formulas computed here, independently, in Python.
set -euo pipefail
parkit=$1 scenario=$2
. "$(dirname "$0")/lib.sh" api-lessons api
# stores N BASE PER COST: the lesson's business summary, store by store, in exact fractions
stores() {
    python3 - "$work/stdout" "$work/json" "$@" <<'PY'
import json, re, sys
from fractions import Fraction as F
out, js, n, base, per, cost = open(sys.argv[1]).read(), sys.argv[2], *map(int, sys.argv[3:])
sales = [base + per * i for i in range(1, n + 1)]
profit = [F(28, 100) * s - cost for s in sales]
good = [p for p in profit if p > 5000]
def money(v):
    return ("-" if v < 0 else "") + "${:,}".format(int(abs(v)))
want = [f"total sales {money(sum(sales))}, profit over all {money(sum(profit))}",
        f"Profitable stores: {len(good)}/{n} (profit above $5,000)",
        f"Total profit: {money(sum(good))} (the profitable stores)"]
for w in want:
    assert w in out, (w, out)
r = json.load(open(js))["result"]["stores"]
assert r == {"answered": n, "profitable": len(good), "total_sales": sum(sales),
             "total_profit": float(sum(profit)), "profitable_total_profit": float(sum(good))}, r
print("oracle:", want)
PY
}
# order DURATIONS WORKERS: the printed completion order is the pool's planned one
order() {
    python3 - "$work/stdout" "$@" <<'PY'
import re, sys
out, durs, workers = open(sys.argv[1]).read(), sys.argv[2], int(sys.argv[3])
d = [float(x) for x in durs.split(",")]
free, end = [0.0] * min(workers, len(d)), []
for t in d:                      # each call, in submission order, to the worker free first
    k = free.index(min(free)); free[k] += t; end.append(free[k])
want = sorted(range(1, len(d) + 1), key=lambda i: end[i - 1])
got = [int(m) for m in re.findall(r"^task (\d+) +ok", out, re.M)]
assert got == want, (got, want)
print("oracle order:", want)
PY
}

case $scenario in
stores) # 50 stores x 0.1 s, 10 workers: the lesson's 6/50 profitable, Total profit $33,840
    run 0 --preset stores --no-sequential --format json
    cp "$work/stdout" "$work/json"
    run 0 --preset stores --no-sequential
    grep -q 'Total profit: \$33,840 (the profitable stores)' "$work/stdout" || fail "not \$33,840"
    grep -q 'Profitable stores: 6/50' "$work/stdout" || fail "not 6/50"
    stores 50 25000 800 12000
    ;;
stores_first) # the lesson's first step: 5 stores x 1 s
    run 0 --preset stores-first --no-sequential --format json
    cp "$work/stdout" "$work/json"
    run 0 --preset stores-first --no-sequential
    grep -q '^# parkit api: 5 calls, 5 workers, mean 1.0000 s' "$work/stdout" || fail "not 5 x 1 s"
    stores 5 25000 800 12000
    ;;
stores_exercise) # the exercise: 20 stores x 0.2 s on the user's workers
    run 0 --preset stores-exercise --workers 7 --no-sequential --format json
    cp "$work/stdout" "$work/json"
    python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["params"]["workers"] == 7' "$work/json"
    run 0 --preset stores-exercise --workers 7 --no-sequential
    grep -q '^# parkit api: 20 calls, 7 workers, mean 0.2000 s' "$work/stdout" || fail "not 20 x 0.2 s"
    stores 20 20000 1000 8000
    ;;
health) # five checks on five workers, printed as they finish; unhealthy ones are results: exit 0
    run 0 --preset health --seed 3
    python3 - "$work/stdout" <<'PY'
import re, sys
out = open(sys.argv[1]).read()
checks = {"Database": 0.5, "Cache": 0.1, "Auth": 0.3, "Payments": 0.4, "Email": 0.2}
lines = re.findall(r"^(\w+) +(healthy|unhealthy) +check ([0-9.]+) s, done at ([0-9.]+) s$", out, re.M)
assert sorted(l[0] for l in lines) == sorted(checks), lines
done = [float(l[3]) for l in lines]
assert done == sorted(done), lines                     # printed as they complete
for name, state, check, t in lines:                    # none done before its check took its time
    assert float(check) == checks[name] and float(t) >= checks[name] - 0.002, (name, t)
k = sum(l[1] == "healthy" for l in lines)
assert 0 < k < 5 and f"Health Summary {k}/5 services healthy" in out, (k, out)
assert out.index("Health Summary") > out.index(lines[-1][0])
PY
    ;;
health_timeout) # a check that overruns its timeout says why, and fails the run (exit 1)
    run 1 --preset health --seed 3 --timeout 0.35
    [[ $(grep -c 'TIMED OUT .*no answer within the 0.35 s timeout' "$work/stdout") == 2 ]] ||
        fail "not two timed-out lines"
    grep -Eq '^Database +TIMED OUT' "$work/stdout" || fail "Database did not time out"
    grep -q '2 health checks timed out' "$work/stderr" || fail "stderr does not say why"
    ;;
durations) # the as_completed demo (3,2,1,0.5 s), shorter: on 4 workers the shortest first; on 2
    # the pool's order (2,3,4,1). Planned ends at least 0.2 s apart, so the order is exact.
    run 0 --durations 1.5,0.6,0.4,0.2 --workers 4 --no-sequential --format json
    python3 -c 'import json,sys; r = json.load(open(sys.argv[1]))["result"]; assert r["completion_order"] == [4, 3, 2, 1] and r["in_order"], r' "$work/stdout"
    for w in 4 2; do
        run 0 --durations 1.5,0.6,0.4,0.2 --workers $w --no-sequential
        grep -Eq '^order +as completed, in the planned order' "$work/stdout" || fail "order line"
        order 1.5,0.6,0.4,0.2 $w
    done
    ;;
durations_usage) # --durations sets the calls
    run 2 --durations 0.3,x
    grep -q -- "--durations expects .*got '0.3,x'" "$work/stderr" || fail "bad value not named"
    run 2 --durations 0x1
    grep -q -- "--durations expects .*got '0x1'" "$work/stderr" || fail "hex taken"
    run 0 --durations 0.02,1e-2 --no-sequential --format csv
    python3 -c 'import csv,sys; r = list(csv.DictReader(open(sys.argv[1]))); assert len(r) == 1 and r[0]["latency"] == "durations" and r[0]["tasks"] == "2", r' "$work/stdout"
    run 2 --durations 0.3 --tasks 4
    grep -q -- "--durations sets the calls: give no --tasks" "$work/stderr" || fail "tasks"
    run 2 --durations 0.3 --latency 1
    grep -q -- "give only one of --latency and --durations" "$work/stderr" || fail "latency"
    ;;
*) fail "unknown scenario" ;;
esac
echo "ok ($scenario)"
