#!/usr/bin/env bash
# resize.sh PARKIT MKIMAGES SCENARIO [MPIEXEC]: `parkit resize` on images made by the project's
# own generator (tests/io/mkimages.c: small valid and broken files) and on a generated photo-like
# PPM; checks exit codes, messages, output sizes (with file(1)) and that the pixels do not
# depend on threads or ranks.
set -euo pipefail
parkit=$1 mkimages=$2 scenario=$3 mpiexec=${4:-mpiexec}
work=$(mktemp -d "${TMPDIR:-/tmp}/parkit-resize.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL ($scenario): $*" >&2; exit 1; }
mkdir "$work/in" "$work/good"
"$mkimages" "$work/in" > /dev/null
for f in rgb.jpg rgba.png g.png ga.png g16.pgm exif6.jpg; do cp "$work/in/$f" "$work/good/"; done
# a 400x300 gradient with texture, as P6
python3 - "$work/big.ppm" <<'PY'
import sys
w, h = 400, 300
px = bytearray()
for y in range(h):
    for x in range(w):
        px += bytes(((x * 255 // w) ^ (y & 7) * 8, (y * 255 // h), ((x * y) >> 6) & 255))
open(sys.argv[1], "wb").write(b"P6\n%d %d\n255\n" % (w, h) + px)
PY
run() { # run EXPECTED_RC ARGS...
    local want=$1 rc=0
    shift
    "$parkit" resize "$@" > "$work/stdout" 2> "$work/stderr" || rc=$?
    cat "$work/stdout" "$work/stderr"
    [[ $rc == "$want" ]] || fail "exit $rc, expected $want"
}
expect() { grep -Eq -- "$1" "$work/$2" || fail "no /$1/ in $2"; }
dims() { file -b "$1" | grep -Eo '[0-9]+ ?x ?[0-9]+' | tail -1 | tr -d ' '; }
no_temp() { [[ -z $(find "$1" -name '.*' -type f) ]] || fail "temporary files left in $1"; }

case $scenario in
good) # every kind of input; fit keeps the aspect ratio and never enlarges; orientation applied
    run 0 "$work/good" "$work/big.ppm" --out "$work/out" --size 64x64
    expect "done +7, failed 0" stdout
    expect "verified +yes" stdout
    [[ $(dims "$work/out/big.png") == 64x48 ]] || fail "big.png is $(dims "$work/out/big.png")"
    [[ $(dims "$work/out/rgb.jpg") == 24x16 ]] || fail "rgb.jpg was enlarged"
    [[ $(dims "$work/out/exif6.jpg") == 16x24 ]] || fail "exif6.jpg not rotated: $(dims "$work/out/exif6.jpg")"
    run 0 "$work/big.ppm" --out "$work/fill" --size 50x50 --fill --format jpeg --quality 90
    expect "^# parkit resize: 1 image \\(" stdout
    [[ $(dims "$work/fill/big.jpg") == 50x50 ]] || fail "fill gave $(dims "$work/fill/big.jpg")"
    run 0 "$work/big.ppm" --out "$work/exact" --size 30x70 --exact --filter bicubic --no-shrink-on-load
    [[ $(dims "$work/exact/big.png") == 30x70 ]] || fail "exact gave $(dims "$work/exact/big.png")"
    no_temp "$work/out"
    ;;
bad) # broken files are reported with their reason and skipped; the good ones are done
    run 1 "$work/in" --out "$work/out" --size 32x32
    expect "cut_rgb.png' is truncated" stderr
    expect "flip_rgb.jpg' is corrupt" stderr
    expect "empty.jpg' is empty" stderr
    expect "rgb.ppm: output '.*/rgb.png' is also the output of '.*/rgb.png'" stderr
    expect "of 27 images failed" stderr
    [[ -s $work/out/rgba.png && -s $work/out/exif6.jpg ]] || fail "good files not written"
    run 1 "$work/in/unknown.gif" --out "$work/out"
    expect "unknown.gif': unknown format" stderr
    run 1 "$work/big.ppm" --out "$work/out" --max-pixels 1000
    expect "400x300 is 0.1 megapixels, above the budget of 0.0" stderr
    run 0 "$work/big.ppm" --out "$work/out" --size 10x10
    run 1 "$work/big.ppm" --out "$work/out" --size 12x12
    expect "exists|not replac" stderr
    run 0 "$work/big.ppm" --out "$work/out" --size 10x10 --force
    no_temp "$work/out"
    ;;
invariance) # the same bytes for any thread count, worker count and rank count
    run 0 "$work/big.ppm" --out "$work/t1" -t 1 --size 97x61
    run 0 "$work/big.ppm" --out "$work/t2" -t 2 --size 97x61
    cmp "$work/t1/big.png" "$work/t2/big.png" || fail "threads changed the pixels"
    cp "$work/big.ppm" "$work/good/"
    run 0 "$work/good" --out "$work/w1" --workers 1 --size 40x40
    run 0 "$work/good" --out "$work/w3" --workers 3 --size 40x40
    for f in "$work"/w1/*; do cmp "$f" "$work/w3/$(basename "$f")" || fail "workers changed $f"; done
    if command -v "$mpiexec" > /dev/null; then
        "$mpiexec" -n 3 "$parkit" resize "$work/good" --out "$work/r3" --size 40x40 > "$work/stdout"
        cat "$work/stdout"
        expect "done +7, failed 0" stdout
        for f in "$work"/w1/*; do cmp "$f" "$work/r3/$(basename "$f")" || fail "ranks changed $f"; done
    fi
    ;;
checkall) # every image against the float64 reference, for each filter; the JSON carries it
    for f in nearest bilinear bicubic mitchell lanczos3; do
        run 0 "$work/good" "$work/big.ppm" --out "$work/ca-$f" --size 40x40 --filter $f \
            --check-all --format png
        expect "reference +7 images against the float64 resampler: max error [01] of 255" stdout
    done
    run 0 "$work/good" --out "$work/cj" --size 40x40 --check-all --output-format json
    python3 - "$work/stdout" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["result"]
ref = r["reference"]
assert ref["images"] == 6 and ref["max_error"] <= 1 and 40 < ref["psnr_min_db"] <= ref["psnr_mean_db"] <= 99, ref
assert set(r["stage_busy_s"]) == {"decode", "resample", "write"}, r
PY
    run 0 "$work/good" --out "$work/nv" --size 40x40 --no-verify
    expect "verified +skipped" stdout
    grep -q "^reference" "$work/stdout" && fail "--no-verify still compared"
    ;;
interrupt | killed) # Ctrl-C or SIGKILL (a killed rank) mid-batch: what was written is complete,
    # nothing is half-written, no temporary is left
    python3 - "$work/huge.ppm" <<'PY'
import sys
w, h = 2000, 1500
base = bytes((x * 7 + (x >> 3)) & 255 for x in range(3 * w))
rows = [base.translate(bytes((v + 3 * y) & 255 for v in range(256))) for y in range(h)]
open(sys.argv[1], "wb").write(b"P6\n%d %d\n255\n" % (w, h) + b"".join(rows))
PY
    mkdir "$work/many"
    for i in $(seq -w 24); do ln "$work/huge.ppm" "$work/many/h$i.ppm"; done
    # the float64 check of every image makes each one take a while
    "$parkit" resize "$work/many" --out "$work/out" --check-all --workers 2 \
        > "$work/stdout" 2> "$work/stderr" &
    p=$!
    sleep 1
    [[ $scenario == interrupt ]] && kill -INT $p || kill -KILL $p
    rc=0
    wait $p || rc=$?
    cat "$work/stdout" "$work/stderr"
    if [[ $scenario == interrupt ]]; then
        [[ $rc == 1 ]] || fail "exit $rc, expected 1"
        expect "interrupted after [0-9]+ of 24 images" stderr
        expect "not done [0-9]+ \\(interrupted\\)" stdout
        grep -q "interrupted before" "$work/stderr" && fail "an error line for each image not done"
        expect "verified +no \(interrupted\)" stdout
    fi
    no_temp "$work/out"
    n=$(find "$work/out" -type f | wc -l)
    ((n < 24)) || fail "all $n images were written: the signal came too late to test"
    for f in $(find "$work/out" -type f); do # none, when slow (sanitizers)
        [[ $(dims "$f") == 256x192 ]] || fail "$f is $(dims "$f")"
    done
    ;;
csv) # one row per image, in input order, read back by an RFC 4180 reader (Python's csv)
    cp "$work/big.ppm" "$work/good/a,b \"c\".ppm"
    cp "$work/in/empty.jpg" "$work/good/"
    run 1 "$work/good" --out "$work/csv" --size 40x40 --output-format csv
    python3 - "$work/stdout" "$work/good" "$work/csv" <<'PY'
import csv, os, sys
out, good, dest = sys.argv[1:]
rows = list(csv.reader(open(out, newline="")))
head = ["input", "output", "status", "width", "height", "seconds", "reference_max_error", "psnr_db"]
assert rows[0] == head, rows[0]
rows = [dict(zip(head, r)) for r in rows[1:]]
names = sorted(n for n in os.listdir(good))
assert [os.path.basename(r["input"]) for r in rows] == names, rows
by = {os.path.basename(r["input"]): r for r in rows}
q = by['a,b "c".ppm']
assert q["status"] == "done" and q["output"] == dest + '/a,b "c".png', q
assert (q["width"], q["height"]) == ("40", "30"), q
assert by["empty.jpg"]["status"] == "failed" and by["empty.jpg"]["output"] == "", by["empty.jpg"]
assert by["empty.jpg"]["width"] == "", by["empty.jpg"]
assert sum(r["status"] == "done" for r in rows) == 7, rows
checked = [r for r in rows if r["reference_max_error"]]
assert len(checked) == 1 and float(checked[0]["reference_max_error"]) <= 1, checked
assert all(float(r["seconds"]) > 0 for r in rows if r["status"] == "done"), rows
PY
    expect "empty.jpg' is empty" stderr
    run 2 "$work/big.ppm" --out "$work/csv" --format csv
    expect "--format expects jpeg, png or same, got 'csv'" stderr
    ;;
help_lists) # the help lists each option once, only those resize accepts
    run 0 --help
    cp "$work/stdout" "$work/help"
    [[ $(grep -c -- '--format' "$work/help") == 1 ]] || fail "--format is listed more than once"
    for o in --reps --warmup; do
        grep -q -- "$o" "$work/help" && fail "help lists $o"
        run 2 "$work/big.ppm" --out "$work/h" "$o" 2
        expect "option '$o' does not apply to parkit resize" stderr
    done
    for o in --out --size --fill --exact --reducing-gap --no-shrink-on-load --filter --format \
        --quality --force --recursive --max-pixels --linear --workers --check-all --threads \
        --record --output-format --no-verify --help; do
        grep -q -- "$o" "$work/help" || fail "help lacks $o"
    done
    # the option's description may start on the line after its name
    tr -s '\n ' ' ' < "$work/help" | grep -Eq -- '--output-format F +table .default., csv .*one row per image' ||
        fail "help does not describe --output-format csv"
    ;;
dirs) # directories through io/dirlist: sorted, hidden names skipped, any case of the
    # extension, other files ignored, subdirectories only with --recursive
    mkdir -p "$work/d/sub" "$work/d/.hid"
    cp "$work/in/rgb.jpg" "$work/d/b.jpg"
    cp "$work/in/g.png" "$work/d/A.PNG"
    cp "$work/in/rgba.png" "$work/d/.hidden.png"
    cp "$work/in/rgba.png" "$work/d/.hid/h.png"
    cp "$work/in/ga.png" "$work/d/sub/c.png"
    echo "not an image" > "$work/d/notes.txt"
    run 0 "$work/d" --out "$work/flat" --size 8x8 --output-format csv
    python3 - "$work/stdout" "$work/d" <<'PY2'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
assert [r["input"] for r in rows] == [sys.argv[2] + "/A.PNG", sys.argv[2] + "/b.jpg"], rows
assert all(r["status"] == "done" for r in rows), rows
PY2
    run 0 "$work/d" --out "$work/deep" --size 8x8 --recursive --output-format csv
    python3 - "$work/stdout" "$work/d" <<'PY2'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
d = sys.argv[2]
assert [r["input"] for r in rows] == [d + "/A.PNG", d + "/b.jpg", d + "/sub/c.png"], rows
PY2
    [[ ! -e $work/deep/h.png && ! -e $work/deep/.hidden.png ]] || fail "a hidden file was resized"
    ;;
outdir) # --out made with its missing parents (as fetch's); a file as --out is refused, exit 2;
    # a directory that cannot be made is an I/O failure, exit 1; nothing is written then
    run 0 "$work/big.ppm" --out "$work/a/b/c" --size 16x16
    [[ $(dims "$work/a/b/c/big.png") == 16x12 ]] || fail "nested --out not made"
    : > "$work/file"
    run 2 "$work/big.ppm" --out "$work/file" --size 16x16
    expect "--out: '.*/file' is not a directory" stderr
    [[ ! -s $work/file ]] || fail "the file given as --out was written"
    run 1 "$work/big.ppm" --out "$work/file/sub" --size 16x16
    expect "--out: cannot create directory '.*/file/sub'" stderr
    [[ -z $(find "$work" -name 'big.png' -not -path "$work/a/*") ]] || fail "a thumbnail was written"
    ;;
*) fail "unknown scenario" ;;
esac
echo "ok ($scenario)"
