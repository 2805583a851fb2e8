#!/usr/bin/env bash
# Builds the libFuzzer target for image decoding (tests/io/fuzz_image.c + io/image.c) with
# clang-14 -fsanitize=fuzzer,address,undefined and runs it for a bounded time on a seed corpus
# that tests/io/mkimages.c writes (small valid and broken JPEG, PNG and PNM files).
#   jobs/fuzz-image.sh [SECONDS=60] [OUTDIR=build/fuzz-image]
# The corpus grows in OUTDIR/corpus (seeds in OUTDIR/seeds); crashes land in OUTDIR as
# crash-*; the last lines of the log (executions, coverage) are printed. Exit status: 0 when
# nothing was found, 1 otherwise.
set -euo pipefail
secs=${1:-60}
out=${2:-build/fuzz-image}
root=$(cd "$(dirname "$0")/.." && pwd)
[[ -f $root/CMakeLists.txt ]] || { echo "fuzz-image.sh: needs the parkit source and build tree (run it from the repository's jobs/, not an installed copy)" >&2; exit 2; }
cc=${CC:-clang-14}
mkdir -p "$out/seeds" "$out/corpus"
flags=(-std=c17 -g -O1 -D_POSIX_C_SOURCE=200809L -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
       -I"$root/io/include" -I"$root/kernels/include")
# the seed generator: a plain build
$cc "${flags[@]}" -o "$out/mkimages" "$root/tests/io/mkimages.c" "$root/io/image.c" \
    "$root/io/atomicfile.c" "$root/kernels/status.c" -lpng -ljpeg -lm
"$out/mkimages" "$out/seeds"
$cc "${flags[@]}" -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -o "$out/fuzz_image" "$root/tests/io/fuzz_image.c" "$root/io/image.c" \
    "$root/io/atomicfile.c" "$root/kernels/status.c" -lpng -ljpeg -lm
echo "fuzz-image: $(ls "$out/seeds" | wc -l) seeds, ${secs} s" >&2
set +e
(cd "$out" && ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=1 \
    ./fuzz_image -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -max_len=65536 \
    -print_final_stats=1 corpus seeds) > "$out/fuzz.log" 2>&1
rc=$?
set -e
# cov: edges of the instrumented code (io/image.c; libjpeg and libpng are not instrumented)
grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)' "$out/fuzz.log" || true
grep -E '^(stat::|SUMMARY|==[0-9]+==ERROR)' "$out/fuzz.log" || true
echo "fuzz-image: corpus $(ls "$out/corpus" | wc -l) files; log $out/fuzz.log" >&2
if ls "$out"/crash-* "$out"/leak-* "$out"/timeout-* "$out"/oom-* 2>/dev/null; then
    rc=1
fi
exit $rc
