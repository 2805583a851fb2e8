#!/bin/sh
# Scenarios of `parkit files` that need more than one run or a signal. Run from the tests' build
# folder after files_setup.sh (the fixture), which made files_good.
# usage: files.sh PARKIT SCENARIO
set -eu
P=$1
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
case $2 in
same_workers)
    # the per-file, per-column statistics are the same bits for any worker count and rep count
    "$P" files files_good -w 1 --no-sequential --format csv >fw1.csv
    "$P" files files_good -w 7 --format csv >fw7.csv
    "$P" files files_good -w 3 --reps 3 --format csv >fw3.csv
    [ "$(wc -l <fw1.csv)" -eq 57 ] || fail "expected 57 lines, got $(wc -l <fw1.csv)"
    cmp fw1.csv fw7.csv || fail "1 and 7 workers differ"
    cmp fw1.csv fw3.csv || fail "3 workers, 3 reps differ"
    ;;
summary)
    # header, 7 files x 7 columns, 7 totals; written atomically (no temporary left)
    rm -f fsum.csv
    "$P" files files_good --summary fsum.csv >/dev/null
    [ "$(sed -n 1p fsum.csv)" = "file,status,rows,bytes,column,type,count,missing,distinct,sum,mean,min,max,sum_hex,error" ] ||
        fail "bad header"
    [ "$(wc -l <fsum.csv)" -eq 57 ] || fail "expected 57 lines"
    # units: 1..50, all drawn in 1009 rows; margin: past the 1000 counted, so no distinct count
    grep -q '^sales_004.csv,ok,1009,[0-9]*,units,number,1009,0,50,' fsum.csv || fail "no units line"
    grep -q '^sales_004.csv,ok,1009,[0-9]*,margin,number,1009,0,,' fsum.csv || fail "no margin line"
    grep -q '^\*,ok,7063,[0-9]*,units,number,7063,0,50,' fsum.csv || fail "no totals line"
    grep -q '^sales_001.csv,ok,1009,[0-9]*,product,text,1009,0,8,,,,,,$' fsum.csv || fail "no text line"
    grep -q '^\*,ok,7063,[0-9]*,store,text,7063,0,7,,,,,,$' fsum.csv || fail "no store totals line"
    ! ls fsum.csv.tmp.* 2>/dev/null || fail "temporary file left behind"
    # the same rows on stdout with --format csv, read back by Python's csv module: every row as
    # wide as the header, quoted product names intact, missing values counted
    "$P" files files_good --format csv >fsum_stdout.csv
    cmp fsum.csv fsum_stdout.csv || fail "--format csv differs from --summary"
    rm -rf files_missing && mkdir files_missing
    printf 'id,"a, b",c\n1,,"x\ny"\n2,3,\n' >files_missing/m.csv
    "$P" files files_missing --format csv >fmissing.csv
    python3 - fsum.csv fmissing.csv <<'PY' || fail "CSV not read back"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
assert len(rows) == 56 and all(None not in r for r in rows), len(rows)
assert {r["column"] for r in rows} >= {"product", "margin"}
m = {r["column"]: r for r in csv.DictReader(open(sys.argv[2], newline="")) if r["file"] == "m.csv"}
assert m["a, b"]["missing"] == "1" and m["a, b"]["count"] == "1" and m["a, b"]["sum"] == "3", m
assert m["c"]["missing"] == "1" and m["c"]["type"] == "text" and m["c"]["distinct"] == "1", m
PY
    ;;
remake)
    # a set is replaced by a smaller one; other files are refused unless --force
    rm -rf files_remake
    "$P" files --make files_remake --count 5 --rows 10 >/dev/null
    "$P" files --make files_remake --count 2 --rows 10 >/dev/null
    [ "$(ls files_remake | wc -l)" -eq 3 ] || fail "old reports left: $(ls files_remake)"
    "$P" files files_remake | grep -q 'verified *yes.*2 of 2 listed files match' || fail "remade set"
    echo x >files_remake/notes.txt
    rc=0
    "$P" files --make files_remake --count 2 2>remake.err || rc=$?
    [ $rc -eq 2 ] && grep -q "holds 'notes.txt', which is not part of a parkit set" remake.err ||
        fail "foreign file not refused (rc $rc)"
    "$P" files --make files_remake --count 3 --rows 10 --force >/dev/null || fail "--force"
    [ -f files_remake/notes.txt ] && [ -f files_remake/sales_003.csv ] || fail "--force set"
    # reports with a header only: every column counted 0 times, and still verified
    rm -rf files_remake
    "$P" files --make files_remake --count 2 --rows 0 >/dev/null
    "$P" files files_remake | grep -q 'verified *yes.*2 of 2 listed files match' || fail "0 rows"
    ;;
make_parents)
    # --make creates its directory with the missing parents (mkdir -p), as resize and fetch do
    rm -rf files_parents
    "$P" files --make files_parents/a/b --count 2 --rows 3 >/dev/null || fail "parents not made"
    "$P" files files_parents/a/b | grep -q 'verified *yes.*2 of 2 listed files match' || fail "set"
    [ "$(stat -c %a files_parents/a)" = "$(mkdir files_parents/m && stat -c %a files_parents/m)" ] ||
        fail "parent mode differs from mkdir's"
    ;;
tampered)
    # one value changed in place (same size): the manifest catches it, exit 3
    rm -rf files_tampered
    cp -r files_good files_tampered
    sed -i '2s/,0\.\([0-9]*\)$/,1.\1/' files_tampered/sales_002.csv
    ! cmp -s files_good/sales_002.csv files_tampered/sales_002.csv || fail "could not tamper"
    rc=0
    "$P" files files_tampered >tampered.out 2>tampered.err || rc=$?
    cat tampered.err
    [ $rc -eq 3 ] || fail "exit $rc, expected 3"
    grep -q "files_tampered/sales_002.csv column 'margin': sum .*, the manifest says" tampered.err ||
        fail "mismatch not named"
    grep -q 'verified *NO' tampered.out || fail "not NO"
    ;;
sigint)
    # Ctrl-C: stops within a bounded time, reports what finished, exits 1
    t0=$(date +%s)
    "$P" files files_good -w 2 --reps 100000 >int.out 2>int.err &
    pid=$!
    sleep 1 # the handler is installed after start-up, which sanitizers slow down
    kill -INT $pid
    rc=0
    wait $pid || rc=$?
    t1=$(date +%s)
    cat int.out int.err
    [ $rc -eq 1 ] || fail "exit $rc, expected 1"
    grep -q 'interrupted: [0-9]* of 7 files finished' int.err || fail "no interrupted message"
    grep -q 'verified *no (interrupted)' int.out || fail "not marked interrupted"
    [ $((t1 - t0)) -le 5 ] || fail "took $((t1 - t0)) s to stop"
    ;;
*)
    fail "unknown scenario $2"
    ;;
esac
echo "ok: $2"
