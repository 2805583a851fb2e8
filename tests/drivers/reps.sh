#!/usr/bin/env bash
# reps.sh PARKIT SCENARIO [SLEEF [MPIEXEC]]: a single computation runs once. Without --reps, a first run longer
# than the budget (PARKIT_REPS_BUDGET_S shrinks it here, so that tiny sizes count as long) is
# the only run, recorded as such; an explicit --reps R always runs R; a short run keeps the
# default reps. Runs are counted from the record.
set -euo pipefail
parkit=$1 scenario=$2 sleef=${3:-1} mpiexec=${4:-} # SLEEF 0: a build without transform
. "$(dirname "$0")/lib.sh" reps

# check REPS WARMUP CUT: the last record's runs
check() {
    python3 - "$work/rec.jsonl" "$@" <<'PY'
import json, sys
rec = json.loads(open(sys.argv[1]).read().splitlines()[-1])
reps, warmup, cut = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "cut"
t, p = rec["timing"], rec["params"]
got = (len(t["reps_s"]), t["warmup"], t["reps_cut_short"], p["reps"], p["warmup"])
assert got == (reps, warmup, cut, reps, warmup), (rec["command"], got)
assert rec["verified"] is True, rec["verified"]
PY
}
# the commands, each at a size that runs in milliseconds
cmds=("factsum 3000" "fib 1e4" "sumsq --range 1e5" "transform -n 1e5 --chunk 1e4")
[[ $sleef == 1 ]] || unset 'cmds[3]'

case $scenario in
long) # over the budget: one run, cold, said on stderr with the way to ask for more
    for c in "${cmds[@]}"; do
        # shellcheck disable=SC2086
        PARKIT_REPS_BUDGET_S=1e-9 run 0 $c -t 1 --record "$work/rec.jsonl"
        check 1 0 cut
        grep -q "ran once, not warmed up; give --reps R" "$work/stderr" || fail "$c: no note"
        [[ $(wc -l < "$work/stderr") == 1 ]] || fail "$c: the note is not one line"
        # shellcheck disable=SC2086
        PARKIT_REPS_BUDGET_S=1e-9 run 0 $c -t 1 --warmup 0 --record "$work/rec.jsonl"
        check 1 0 cut
    done
    ;;
explicit) # --reps R runs R after the warm-up, however long the first run is
    for c in "${cmds[@]}"; do
        # shellcheck disable=SC2086
        PARKIT_REPS_BUDGET_S=1e-9 run 0 $c -t 1 --reps 3 --record "$work/rec.jsonl"
        check 3 1 whole
        [[ ! -s $work/stderr ]] || fail "$c --reps 3: a note on stderr"
        # shellcheck disable=SC2086
        PARKIT_REPS_BUDGET_S=1e-9 run 0 $c -t 1 --reps 1 --warmup 0 --record "$work/rec.jsonl"
        check 1 0 whole
    done
    ;;
short) # under the budget (the default one, and a large one): the default reps
    run 0 factsum 3000 -t 1 --record "$work/rec.jsonl"
    check 3 1 whole
    [[ ! -s $work/stderr ]] || fail "a note on stderr for a short run"
    defaults=(3 3 5 5)
    for i in "${!cmds[@]}"; do
        # shellcheck disable=SC2086
        PARKIT_REPS_BUDGET_S=1000 run 0 ${cmds[i]} -t 1 --warmup 2 --record "$work/rec.jsonl"
        check "${defaults[i]}" 2 whole
    done
    ;;
ranks) # 2 ranks take the same decision and one record says so
    PARKIT_REPS_BUDGET_S=1e-9 "$mpiexec" -n 2 --bind-to none "$parkit" factsum 3000 -t 1 \
        --record "$work/rec.jsonl" > "$work/stdout" 2> "$work/stderr" || fail "exit $?"
    check 1 0 cut
    [[ $(grep -c "ran once" "$work/stderr") == 1 ]] || fail "not one note: $(cat "$work/stderr")"
    ;;
*) fail "unknown scenario" ;;
esac
