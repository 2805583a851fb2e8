#!/bin/sh
# CSV input of `parkit files` and `parkit transform --input X.csv`: both read with the one reader
# of io/csv.c, so they must agree, and neither may give a confident wrong answer. Each scenario
# writes its own files (prefix csv_) in the current directory.
# usage: csv_cli.sh PARKIT SCENARIO [MPIEXEC]
set -eu
P=$1
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
# json_get FILE PATH...: one value of a JSON record (python3's json, an independent parser)
json_get() {
    python3 -c 'import json,sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2:]:
    v = v[int(k)] if isinstance(v, list) else v[k]
print(v)' "$@"
}
# expect RC OUT_PATTERN ERR_PATTERN -- ARGS: runs parkit, checks the exit status and messages.
# Its output files are the scenario's own: CTest runs the scenarios side by side in one directory.
run=csv_run_$2
expect() {
    want=$1 out=$2 err=$3
    shift 4
    rc=0
    "$P" "$@" >"$run.out" 2>"$run.err" || rc=$?
    [ "$rc" -eq "$want" ] || { cat "$run.out" "$run.err"; fail "parkit $*: exit $rc, expected $want"; }
    [ -z "$out" ] || grep -Pzq "(?s)$out" "$run.out" || { cat "$run.out"; fail "parkit $*: stdout lacks '$out'"; }
    [ -z "$err" ] || grep -Pzq "(?s)$err" "$run.err" || { cat "$run.err"; fail "parkit $*: stderr lacks '$err'"; }
}
case $2 in
agree)
    # transform and files agree bit for bit (count, missing, exact sum) on every number column of
    # a --make report, whose products include "Widget, large" (a quoted comma): before the shared
    # reader, transform read the wrong field on those rows, 12% off, and said "verified yes"
    rm -rf csv_agree
    "$P" files --make csv_agree --count 1 --rows 10000 >/dev/null
    "$P" files csv_agree --no-sequential --format json >csv_files.json
    [ "$(json_get csv_files.json verified)" = True ] || fail "files not verified"
    grep -q '"Widget, large"' csv_agree/sales_001.csv || fail "no quoted comma in the report"
    for col in units unit_price revenue margin; do
        "$P" transform --input csv_agree/sales_001.csv --column $col --reps 1 --warmup 0 \
            --format json >csv_tr_$col.json
    done
    # one python3 run compares them all (each start costs a lot on a loaded machine)
    python3 - <<'PY' || fail "transform and files differ"
import json
files = json.load(open("csv_files.json"))
cols = {c["name"]: c for c in files["result"]["columns"]}
checked = 0
for name in ("units", "unit_price", "revenue", "margin"):
    tr = json.load(open("csv_tr_%s.json" % name))
    got, want = tr["result"]["input"], cols[name]
    assert want["type"] == "number", name
    for key in ("count", "missing", "sum_hex"):
        print(name, key, "files", want[key], "transform", got[key])
        assert got[key] == want[key], (name, key)
    assert got["column"] == name and got["count"] == 10000, name
    assert tr["result"]["total"]["count"] == 10000 and tr["verified"] is True, name
    checked += 1
assert checked == 4
PY
    ;;
ranks)
    # a column with missing values streamed by 1..3 ranks: the same statistics as one process
    MPI=${3:?mpiexec}
    awk 'BEGIN { print "id,\"v, w\",t"; for (i = 0; i < 30011; i++)
                 printf "%d,%s,\"x\n%d\"\n", i, (i % 7 == 3) ? "" : sprintf("%d.5", i % 1000), i }' \
        >csv_ranks.csv
    first=
    for np in 1 2 3; do
        r=$($MPI -n $np --bind-to none "$P" transform --input csv_ranks.csv --column 'v, w' \
            --chunk 997 -t 1 --reps 1 --warmup 0 --format csv | sed -n 2p | cut -d, -f15-23)
        echo "np $np: $r"
        case $r in 25724,*,yes) ;; *) fail "np $np: $r" ;; esac
        [ -z "$first" ] && first=$r
        [ "$r" = "$first" ] || fail "np $np differs"
    done
    ;;
transform)
    # a quoted comma: the price is 4.5 (the old reader gave the quantity, 3)
    printf 'name,qty,price\n"Smith, J",3,4.5\n' >csv_smith.csv
    expect 0 "input +column 'price': 1 value, 0 missing .* 4.5 \\(0x1.2p\\+2\\)" "" -- \
        transform --input csv_smith.csv --column price --reps 1
    # an empty header name shifts nothing
    printf 'a,,c\n1,2,3\n' >csv_emptyname.csv
    expect 0 "input +column 'c': 1 value, 0 missing .* 3 \\(0x1.8p\\+1\\)" "" -- \
        transform --input csv_emptyname.csv --column c --reps 1
    # the default column is the first number column, named by its header
    printf 'name,qty,price\nab,3,4.5\ncd,5,1\n' >csv_default.csv
    expect 0 "input +column 'qty': 2 values, 0 missing .* 8 " "" -- \
        transform --input csv_default.csv --reps 1
    "$P" transform --input csv_default.csv --reps 1 --format json >csv_default.json
    [ "$(json_get csv_default.json params column)" = qty ] || fail "default column not named"
    # a header-less file: refused (it would lose its first row), then read with --no-header
    printf '1.5,2\n3,4\n5,6\n' >csv_noheader.csv
    expect 2 "" "csv_noheader.csv:1:1: the first row holds only numbers .*use --no-header" -- \
        transform --input csv_noheader.csv --reps 1
    expect 0 "input +column '1': 3 values, 0 missing .* 9.5 " "" -- \
        transform --input csv_noheader.csv --no-header --reps 1
    expect 0 "input +column '2': 3 values, 0 missing .* 12 " "" -- \
        transform --input csv_noheader.csv --no-header --column 2 --reps 1
    expect 2 "" "--column 3: 'csv_noheader.csv' has 2 columns" -- \
        transform --input csv_noheader.csv --no-header --column 3
    # values that strtod takes but are not decimal numbers: exit 2 naming the place and value
    for v in inf nan 0x10 -infinity ' 7'; do
        printf 'id,v\n1,2\n2,%s\n' "$v" >csv_badvalue.csv
        expect 2 "" "csv_badvalue.csv:3:2: '$v' in column 'v' is not a number" -- \
            transform --input csv_badvalue.csv --column v --output csv_badvalue.f64
        [ ! -e csv_badvalue.f64 ] && [ ! -e csv_badvalue.f64.tmp ] || fail "output left for $v"
    done
    # missing values are skipped, counted and reported
    printf 'id,v\n1,2.5\n2,\n3,\n4,1\n' >csv_missing.csv
    expect 0 "total +2 .*input +column 'v': 2 values, 2 missing" "" -- \
        transform --input csv_missing.csv --column v --reps 1
    "$P" transform --input csv_missing.csv --column v --reps 1 --format json >csv_missing.json
    [ "$(json_get csv_missing.json result input missing)" = 2 ] || fail "missing not recorded"
    # an unknown column is named, with the ones there are
    expect 2 "" "'csv_smith.csv' has no column 'cost'; its columns: 'name', 'qty', 'price'" -- \
        transform --input csv_smith.csv --column cost
    # malformed CSV is named FILE:LINE:COLUMN, exit 2
    printf 'a,b\n1,2\n3\n' >csv_ragged.csv
    expect 2 "" "csv_ragged.csv:3:2: row has 1 field, the header 2: column 'b' missing" -- \
        transform --input csv_ragged.csv --column a
    ;;
files)
    # text later in a number-looking column, an empty field, a quoted line break: all legal
    rm -rf csv_files_dir
    mkdir csv_files_dir
    printf 'id,code,qty,note\n1,17,2,plain\n2,18,,"two\nlines"\n3,n/a,4,x\n' \
        >csv_files_dir/a.csv
    expect 0 "a.csv +3 .* ok.*id +number +3 +0 +6 .*code +text +3 +0 +3 distinct\nqty +number +2 +1 +6 .*note +text +3 +0 +3 distinct" "" -- \
        files csv_files_dir
    "$P" files csv_files_dir --format json >csv_files_dir.json
    [ "$(json_get csv_files_dir.json result columns 2 missing)" = 1 ] || fail "missing not recorded"
    # a header-less file: exit 2 with the advice, read with --no-header
    printf '1,2\n3,4\n' >csv_files_dir/b.csv
    expect 2 "b.csv .*FAILED at line 1, column 1" "csv_files_dir/b.csv:1:1: the first row holds only numbers .*use --no-header" -- \
        files csv_files_dir
    rm csv_files_dir/a.csv
    expect 0 "b.csv +2 .* ok.*\n1 +number +2 +0 +4 " "" -- files csv_files_dir --no-header
    ;;
*)
    fail "unknown scenario $2"
    ;;
esac
echo "ok: $2"
