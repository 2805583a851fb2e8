#!/usr/bin/env bash
# Builds the libFuzzer target for the CSV reader (tests/io/fuzz_csv.c + io/csv.c) with
# clang-14 -fsanitize=fuzzer,address,undefined and a 61-byte read block (records cross blocks
# and the buffer grows), and runs it for a bounded time on a small seed corpus written here
# (quotes, doubled quotes, CRLF, line breaks in quotes, BOM, missing values, bad UTF-8, NUL).
#   jobs/fuzz-csv.sh [SECONDS=60] [OUTDIR=build/fuzz-csv]
# The corpus grows in OUTDIR/corpus (seeds in OUTDIR/seeds); crashes land in OUTDIR as
# crash-*; the last lines of the log (executions, coverage) are printed. Exit status: 0 when
# nothing was found, 1 otherwise.
set -euo pipefail
secs=${1:-60}
out=${2:-build/fuzz-csv}
root=$(cd "$(dirname "$0")/.." && pwd)
[[ -f $root/CMakeLists.txt ]] || { echo "fuzz-csv.sh: needs the parkit source and build tree (run it from the repository's jobs/, not an installed copy)" >&2; exit 2; }
cc=${CC:-clang-14}
mkdir -p "$out/seeds" "$out/corpus"
s=$out/seeds
printf 'a,b,c\n1,2,x\n3,,"y, z"\n' >"$s/basic.csv"
printf '\357\273\277id,"note",x\r\n1,"a, ""b""",2.5\r\n2,"multi\r\nline",-1e2\r\n3,plain,+.5' >"$s/quirks.csv"
printf 'name,qty,price\n"Smith, J",3,4.5\n"12"" pipe",,inf\n' >"$s/quotes.csv"
printf '1,2.5\n3,\n5,6\n' >"$s/noheader.csv"
printf '1,2.5\n3,\n5,6\n\001' >"$s/noheader_flag.csv"
printf 'a,b\n"open\n1,2\n' >"$s/unclosed.csv"
printf 'a,b\n1,x"y\n' >"$s/quote_inside.csv"
printf 'name,v\n"ok",1\nbad\377,3\n' >"$s/utf8.csv"
printf 'a,b\n1,x\000y\n' >"$s/nul.csv"
printf 'a,b,c\n1,2,3\n4,5\n6,7,8,9\n' >"$s/ragged.csv"
printf 'v\n1\n\n0x10\nnan\n1e999\n-0\n' >"$s/numbers.csv"
flags=(-std=c17 -g -O1 -D_POSIX_C_SOURCE=200809L -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
       -DPK_CSV_BLOCK=61 -I"$root/io/include" -I"$root/kernels/include")
$cc "${flags[@]}" -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -o "$out/fuzz_csv" "$root/tests/io/fuzz_csv.c" "$root/io/csv.c" "$root/kernels/xacc.c" \
    "$root/kernels/status.c" -lm
echo "fuzz-csv: $(ls "$s" | wc -l) seeds, ${secs} s" >&2
set +e
(cd "$out" && ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=1 \
    ./fuzz_csv -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -max_len=65536 \
    -print_final_stats=1 corpus seeds) > "$out/fuzz.log" 2>&1
rc=$?
set -e
grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)' "$out/fuzz.log" || true
grep -E '^(stat::|SUMMARY|==[0-9]+==ERROR)' "$out/fuzz.log" || true
echo "fuzz-csv: corpus $(ls "$out/corpus" | wc -l) files; log $out/fuzz.log" >&2
if ls "$out"/crash-* "$out"/leak-* "$out"/timeout-* "$out"/oom-* 2>/dev/null; then
    rc=1
fi
exit $rc
