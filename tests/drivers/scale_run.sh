#!/usr/bin/env bash
# parkit scale run on tests/drivers/figure.c (a program that prints its own figure of merit).
# usage: scale_run.sh PARKIT FIGURE SCENARIO [MPIEXEC] [SANITIZE]
#   records  threads 1,2 x two sizes: the metric read, the records whole, report reads them
#   json     --metric-json, --mode weak and throughput, the seeded interleaved order
#   failed   a point that exits 3 is recorded failed (never timed); the others run; exit 1
#   ranks    ranks 1..3 through MPIEXEC, and the splits of --budget 2
#   rankspread  each rank timed on its own: a slow last rank named, even ranks not; the
#            timer's lines kept out of the figure of merit; --no-rank-timer; the timer alone
#   metric   --metric's last match, --metric-json's last object (multi-line, nested), no number
#   srun     --launcher srun's command line (a stand-in srun on PATH)
#   resume   a sweep killed mid-way, resumed: no point twice, none lost
#   noise    a point beside three busy loops is named noisy (waited for a core), a quiet one not
#   ci       --target-ci reached, and stopped by --max-time
set -euo pipefail
parkit=$1 figure=$2 scenario=$3 mpiexec=${4:-} sanitize=${5:-}
. "$(dirname "$0")/lib.sh" "scale-run-$scenario" scale run
py() { python3 -c "$@"; }
rate='rate: ([0-9.e+]+)'

case $scenario in
records)
    run 0 -t 1,2 --size 200000,400000 --reps 2 --warmup 1 --metric "$rate" --seed 5 \
        --record "$work/r.jsonl" -- "$figure" -t '{threads}' -n '{size}'
    grep -Eq '^ +1 +2 +2 +400000 ' "$work/stdout" || fail "no row 1 rank x 2 threads at 400000"
    py "
import json, sys
r = [json.loads(l) for l in open('$work/r.jsonl')]
assert len(r) == 4, len(r)
pts = sorted((x['scale']['threads'], x['scale']['size']) for x in r)
assert pts == [(1, 200000), (1, 400000), (2, 200000), (2, 400000)], pts
for x in r:
    s, p = x['scale'], x['params']
    assert x['schema'] == 'parkit.record/1' and x['command'] == 'run' and x['verified'] is True
    assert s['kernel'] == 'run:figure' and s['mode'] == 'strong' and s['seed'] == 5
    assert len({y['scale']['experiment'] for y in r}) == 1
    assert p['argv'][1:] == ['-t', str(s['threads']), '-n', str(s['size'])], p['argv']
    assert len(x['timing']['reps_s']) == 2 and x['timing']['warmup'] == 1
    assert all(v > 0 for v in x['result']['metric_reps']) and x['result']['metric'] == r'$rate'
    assert len(x['result']['user_s']) == 2 and all(k > 0 for k in x['result']['max_rss_kb'])
    assert len(s['noise']['run_delay_s']) == 2 and len(s['noise']['clock_change_pct']) == 2
    assert isinstance(s['noise']['reasons'], list) and s['noise']['noisy'] == bool(s['noise']['reasons'])
    assert sorted(int(k) for k in s['run_order']) == sorted(set(int(k) for k in s['run_order']))
    assert x['provenance']['machine']['host']
"
    # parkit report reads them as it reads the kernels' records
    rc=0
    "$parkit" report "$work/r.jsonl" > "$work/report" 2> "$work/report.err" || rc=$?
    cat "$work/report" "$work/report.err"
    [[ $rc == 0 ]] || fail "report exit $rc"
    grep -q "run:figure" "$work/report" || fail "report does not show run:figure"
    ! grep -q "skipped" "$work/report.err" || fail "report skipped a record"
    ;;
json)
    run 0 -t 1,2 --size 100000 --mode weak --reps 3 --warmup 0 --metric-json rate --seed 11 \
        --record "$work/w.jsonl" -- "$figure" -t '{threads}' -n '{size}'
    run 0 -t 1,2 --size 100000 --mode weak --reps 3 --warmup 0 --metric-json rate --seed 11 \
        --record "$work/w2.jsonl" -- "$figure" -t '{threads}' -n '{size}'
    run 0 -t 1 --size 100000 --mode throughput --reps 2 --warmup 0 --format csv \
        --record "$work/t.jsonl" -- "$figure" -n '{size}'
    py "
import json
def load(f): return sorted((json.loads(l) for l in open(f)), key=lambda x: x['scale']['threads'])
w, w2, t = load('$work/w.jsonl'), load('$work/w2.jsonl'), load('$work/t.jsonl')
assert [x['scale']['size'] for x in w] == [100000, 200000], 'weak: size x workers'
assert all(x['scale']['mode'] == 'weak' and x['scale']['base_size'] == 100000 for x in w)
assert all(x['result']['metric'] == 'rate' and x['result']['metric_median'] > 0 for x in w)
# one seeded order: the same seed runs the repetitions in the same order, interleaved
o = [x['scale']['run_order'] for x in w]
assert o == [x['scale']['run_order'] for x in w2], (o, [x['scale']['run_order'] for x in w2])
assert sorted(o[0] + o[1]) == list(range(6))
assert any(o[0][k + 1] - o[0][k] > 1 for k in range(2)) or o[0][0] > 0, 'not interleaved: %s' % o
x = t[0]
assert x['scale']['run_mode'] == 'throughput' and x['scale']['mode'] == 'strong'
per = x['result']['throughput_per_s']
assert all(abs(p - 100000 / s) < 1e-6 * p for p, s in zip(per, x['timing']['reps_s']))
"
    head -1 "$work/stdout" | grep -q '^kernel,mode,ranks,threads' || fail "no CSV header"
    # --format json: the points in the table's order (size, ranks, threads), not as they ended
    run 0 -t 1,2,3 --reps 1 --warmup 0 --seed 2 --format json -- "$figure" -t '{threads}' -n 1000
    py "
import json
assert [x['scale']['threads'] for x in json.load(open('$work/stdout'))] == [1, 2, 3]
"
    ;;
failed)
    # the point at 2 threads exits 3: recorded failed, never timed; the sweep goes on; exit 1
    run 1 -t 1,2,3 --reps 2 --warmup 0 --record "$work/f.jsonl" -- "$figure" -t '{threads}' -F 2 -n 1000
    grep -q "point 1 ranks x 2 threads failed: exited with status 3" "$work/stderr" || fail "no message"
    grep -Eq '^ +1 +2 +2 .*FAILED: exited with status 3' "$work/stdout" || fail "no FAILED row"
    run 1 -t 1 --reps 1 --warmup 0 --record "$work/k.jsonl" -- "$figure" -k
    grep -q "killed by signal 9" "$work/stderr" || fail "a signal is not named"
    run 1 -t 1 --reps 1 --warmup 0 --metric 'nothing: ([0-9]+)' -- "$figure" -n 10
    grep -q "no line of its output matches --metric" "$work/stderr" || fail "a missing metric passed"
    run 1 -t 1 --reps 1 -- /nonexistent/program
    grep -q "cannot run '/nonexistent/program': No such file" "$work/stderr" || fail "exec error"
    py "
import json
r = {x['scale']['threads']: x for x in map(json.loads, open('$work/f.jsonl'))}
assert sorted(r) == [1, 2, 3], sorted(r)
f = r[2]
assert f['verified'] is False and f['failed']['exit_status'] == 3 and 'timing' not in f, f
assert r[1]['verified'] and len(r[1]['timing']['reps_s']) == 2 and len(r[3]['timing']['reps_s']) == 2
k = json.loads(open('$work/k.jsonl').readline())
assert k['failed']['signal'] == 9 and 'timing' not in k
"
    ;;
ranks)
    [[ -n $mpiexec ]] || { echo "no MPI in this build"; exit 77; }
    export PARKIT_MPIRUN=$mpiexec
    run 0 --ranks 1,2,3 -t 1 --reps 1 --warmup 0 --metric "$rate" --record "$work/m.jsonl" \
        -- "$figure" -t '{threads}' -n 100000
    run 0 --budget 2 --reps 1 --warmup 0 --record "$work/b.jsonl" -- "$figure" -t '{threads}' -n 1000
    py "
import json
r = sorted((json.loads(l) for l in open('$work/m.jsonl')), key=lambda x: x['scale']['ranks'])
assert [x['scale']['ranks'] for x in r] == [1, 2, 3] and all(x['verified'] for x in r)
for x in r:
    a = x['params']['argv']
    assert a[0] == '$mpiexec' and a[1:7] == ['-np', str(x['scale']['ranks']), '--bind-to', 'none', '-x', 'OMP_NUM_THREADS=1'], a
    assert x['params']['launcher'] == 'mpirun'
b = sorted((json.loads(l)['scale'] for l in open('$work/b.jsonl')), key=lambda s: s['ranks'])
assert [(s['ranks'], s['threads']) for s in b] == [(1, 2), (2, 1)], b
"
    ;;
rankspread)
    [[ -n $mpiexec ]] || { echo "no MPI in this build"; exit 77; }
    export PARKIT_MPIRUN=$mpiexec
    # the last of 3 ranks sleeps 0.4 s more than the others' 0.05 s; then 3 even ranks
    run 0 --ranks 3 -t 1 --reps 2 --warmup 0 --record "$work/slow.jsonl" -- "$figure" -s 0.05 -L 0.4
    grep -q "the slowest rank (mostly rank 2) took [0-9]*% longer than the median rank" \
        "$work/stdout" || fail "the slow rank is not named"
    run 0 --ranks 3 -t 1 --reps 2 --warmup 0 --record "$work/even.jsonl" -- "$figure" -s 0.5
    # without a newline before it, the timer's line would be read as part of the figure
    run 0 --ranks 1 -t 1 --reps 1 --warmup 0 --metric 'rate: (.*)' --record "$work/m.jsonl" \
        -- sh -c 'printf "rate: 5"'
    run 0 --ranks 2 -t 1 --reps 1 --warmup 0 --no-rank-timer --record "$work/direct.jsonl" \
        -- "$figure" -s 0.01
    py "
import json
def rec(f): return json.loads(open('$work/' + f).readline())
s, e = rec('slow.jsonl'), rec('even.jsonl')
print(s['scale']['noise']['ranks'], e['scale']['noise']['ranks'])
assert s['params']['argv'][7:9] == ['$parkit', '__rank-timer'] and s['params']['rank_timer'], s['params']
r = s['scale']['noise']['ranks']
assert r['slowest'] == [2, 2] and r['ranks_reported'] == [3, 3], r
assert min(r['spread_pct']) > 30, r  # 0.45 s against 0.05 s and the start-up
r = e['scale']['noise']['ranks']
assert r['ranks_reported'] == [3, 3], r
# even ranks are not named; an instrumented start-up under load can take a tenth of 0.5 s
if not '$sanitize':
    assert r['median_spread_pct'] < 10, r
    assert not any('slowest rank' in x for x in e['scale']['noise']['reasons']), e['scale']['noise']
assert rec('m.jsonl')['result']['metric_median'] == 5
d = rec('direct.jsonl')
assert '__rank-timer' not in d['params']['argv'] and d['params']['rank_timer'] is False, d['params']
assert d['scale']['noise']['ranks'] is None, d['scale']['noise']
"
    # report names the noise per point, in its table, its HTML and its JSON
    "$parkit" report "$work/slow.jsonl" --html "$work/r.html" > "$work/report" || fail "report exit $?"
    grep -q "<li>1x3: .*the slowest rank (mostly rank 2)" "$work/r.html" || fail "the HTML does not name it"
    grep -q "^# noisy 1x3: .*the slowest rank (mostly rank 2) took" "$work/report" \
        || fail "report does not name the slow rank: $(cat "$work/report")"
    "$parkit" report --format json "$work/slow.jsonl" | py "
import json, sys
p = json.load(sys.stdin)['groups'][0]['points'][0]
assert any('slowest rank' in x for x in p['noise']), p
"
    # the timer alone: the program's exit status or signal passed on, its line on stdout
    rc=0; "$parkit" __rank-timer "$figure" -f > "$work/t.out" || rc=$?
    [[ $rc == 3 ]] || fail "__rank-timer gave $rc for a program that exits 3"
    grep -q '^@@parkit-rank-time rank=-1 start=[0-9.]* wall=' "$work/t.out" || fail "no timer line"
    rc=0; "$parkit" __rank-timer "$figure" -k > /dev/null 2>&1 || rc=$?
    [[ $rc == 137 ]] || fail "__rank-timer gave $rc for a program killed by SIGKILL"
    rc=0; "$parkit" __rank-timer "$work/none" > /dev/null 2> "$work/t.err" || rc=$?
    [[ $rc == 127 ]] && grep -q "cannot run '$work/none'" "$work/t.err" || fail "missing program: $rc"
    ;;
metric)
    # the last match of the regex; the last JSON object that starts a line (pretty-printed over
    # lines, nested ones inside it skipped), its nested field; a JSON field that is no number
    run 0 -t 1 --reps 1 --warmup 0 --metric 'rate: ([0-9.]+)' --record "$work/m.jsonl" \
        -- sh -c 'printf "rate: 1\nrate: 2.5 /s\nrated\n"'
    run 0 -t 1 --reps 1 --warmup 0 --metric-json a.b --record "$work/m.jsonl" \
        -- sh -c 'printf "{\"a\": {\"b\": 1}}\nlog line\n{\n  \"a\": {\n    \"b\": 7.5\n  },\n  \"c\": [{\"a\": 9}]\n}\ntail\n"'
    run 1 -t 1 --reps 1 --warmup 0 --metric-json a -- sh -c 'echo "{\"a\": \"fast\"}"'
    grep -q "its last JSON object has no number at 'a'" "$work/stderr" || fail "a string passed as a number"
    run 1 -t 1 --reps 1 --warmup 0 --metric 'rate: (.*)' -- sh -c 'echo "rate: fast"'
    grep -q "matched 'fast', not a number" "$work/stderr" || fail "text passed as a number"
    py "
import json
r = [json.loads(l)['result']['metric_median'] for l in open('$work/m.jsonl')]
assert r == [2.5, 7.5], r
"
    ;;
srun)
    # srun's options, through a stand-in on PATH that notes them and runs the program once
    mkdir "$work/bin"
    printf '%s\n' '#!/bin/sh' "echo \"\$*\" >> '$work/srun.args'" \
        'while [ "$1" != --export=ALL ]; do shift; done' 'shift' 'exec "$@"' > "$work/bin/srun"
    chmod +x "$work/bin/srun"
    PATH=$work/bin:$PATH run 0 --launcher srun --ranks 2 -t 3 --reps 1 --warmup 0 --metric "$rate" \
        --record "$work/s.jsonl" -- "$figure" -t '{threads}' -n 1000
    grep -qx -- "--ntasks 2 --cpus-per-task=3 --cpu-bind=none --export=ALL $parkit __rank-timer $figure -t 3 -n 1000" \
        "$work/srun.args" || fail "srun got: $(cat "$work/srun.args")"
    grep -q '"launcher":"srun"' "$work/s.jsonl" || fail "the record does not name srun"
    # the stand-in started one rank of two: the spread is unknown, not zero
    py "
import json
r = json.loads(open('$work/s.jsonl').readline())['scale']['noise']['ranks']
assert r['ranks_reported'] == [1] and r['spread_pct'] == [None], r
"
    ;;
resume)
    [[ -z $sanitize ]] || { echo "timing-sensitive kill: not under $sanitize"; exit 77; }
    args=(-t 1 --size 1,2,3,4,5,6 --reps 1 --warmup 0 --seed 3 --resume "$work/s.jsonl" --
          "$figure" -s 0.15 -n '{size}')
    "$parkit" scale run "${args[@]}" > "$work/first.out" 2>&1 &
    pid=$!
    for _ in $(seq 200); do # until two points are recorded (at most 10 s)
        [[ -f $work/s.jsonl && $(wc -l < "$work/s.jsonl") -ge 2 ]] && break
        sleep 0.05
    done
    kill -TERM "$pid"
    wait "$pid" && fail "the sweep was not killed" || true
    before=$(wc -l < "$work/s.jsonl")
    [[ $before -ge 2 && $before -lt 6 ]] || fail "$before points recorded before the kill"
    run 0 "${args[@]}"
    grep -q -- "--resume: $before of 6 points already in" "$work/stderr" || fail "resume not said"
    py "
import json
r = [json.loads(l) for l in open('$work/s.jsonl')]
sizes = sorted(x['scale']['size'] for x in r)
assert sizes == [1, 2, 3, 4, 5, 6], 'duplicate or lost points: %s' % sizes
assert len({x['scale']['experiment'] for x in r}) == 1, 'the resumed sweep changed its id'
"
    # the table shows every point, the resumed ones too
    [[ $(grep -Ec '^ +1 +1 +1 +[1-6] ' "$work/stdout") == 6 ]] || fail "the table lacks points"
    ;;
noise)
    [[ -z $sanitize ]] || { echo "timing-sensitive: not under $sanitize"; exit 77; }
    # three busy loops on a 2-core machine: the point's thread must wait for a core
    hogs=()
    for _ in 1 2 3; do (while :; do :; done) & hogs+=($!); done
    trap 'kill "${hogs[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT
    # the hogs settled first, and the point twice as long (about 0.13 s alone): 5e7 (60 ms)
    # started with the hogs once ran within their first slices, its thread hardly waiting
    # (1e8 is the most figure's own check allows)
    sleep 0.2
    run 0 -t 1 --reps 3 --warmup 0 --record "$work/busy.jsonl" -- "$figure" -t 1 -n 1e8
    kill "${hogs[@]}"
    wait "${hogs[@]}" 2>/dev/null || true
    # a quiet point: it sleeps, needing a core only to start (long enough that waiting for one
    # then stays under a tenth of its time on a loaded machine)
    run 0 -t 1 --reps 3 --warmup 0 --record "$work/quiet.jsonl" -- "$figure" -s 0.4
    py "
import json
b = json.loads(open('$work/busy.jsonl').readline())['scale']['noise']
q = json.loads(open('$work/quiet.jsonl').readline())['scale']['noise']
print('busy', b); print('quiet', q)
assert b['noisy'] and b['run_delay_share'] > 0.10, b
assert any('waited for a core' in s for s in b['reasons'])
assert b['other_cores'] > 0.5, 'the hogs are not seen: %s' % b
assert q['run_delay_share'] < 0.10 and not any('waited for a core' in s for s in q['reasons']), q
"
    ;;
ci)
    run 0 -t 1 --reps 3 --warmup 0 --target-ci 25 --max-time 20 --record "$work/c.jsonl" -- "$figure" -s 0.01
    grep -q -- "--target-ci 25%: 1 of 1 points reached it" "$work/stderr" || fail "not reached"
    run 0 -t 1 --reps 3 --warmup 0 --target-ci 0.01 --max-time 0.3 --record "$work/d.jsonl" -- "$figure" -n 1e5
    grep -q -- "0 of 1 points reached it; --max-time stopped 1" "$work/stderr" || fail "no budget"
    py "
import json
c = json.loads(open('$work/c.jsonl').readline())
d = json.loads(open('$work/d.jsonl').readline())
assert c['scale']['ci']['stopped'] == 'target reached' and c['scale']['ci']['half_width_pct'] <= 25
assert len(c['timing']['reps_s']) >= 6, 'a 95% interval needs 6 repetitions'
assert d['scale']['ci']['stopped'] == 'time budget spent', d['scale']['ci']
"
    ;;
*) fail "unknown scenario" ;;
esac
echo "ok ($scenario)"
