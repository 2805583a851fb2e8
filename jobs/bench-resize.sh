#!/usr/bin/env bash
# `parkit resize` against its anchors (../shared/anchors/resize): every image of CORPUS_DIR fit
# into 256x256, JPEG q85 for JPEG input and PNG for PNG. Timed side by side in one invocation,
# RUNS rounds interleaved over the variants, output emptied before each run, files in the page
# cache: parkit (default, --reducing-gap 4, --no-shrink-on-load, and on one core with taskset),
# Pillow thumbnail LANCZOS (Pool(2) and 1 process) and resize LANCZOS (Pool(2)) from thumbs.py,
# and vipsthumbnail (2 processes x VIPS_CONCURRENCY=1, 1 process x 2), as the anchors'
# bench-resize.sh runs them.
# Then quality: lossless PNG outputs against a float64 Lanczos3 reference (quality.py), parkit's
# own float64 reference of each filter on every image (--check-all), and parkit against Pillow
# pixel by pixel (jobs/resize_compare.py). Speed is never asserted: this script measures.
#
# usage: jobs/bench-resize.sh CORPUS_DIR [PARKIT]
#   CORPUS_DIR  made by ANCHORS/get-corpus.sh
#   PARKIT      default build/release/drivers/parkit
#   env: RUNS (5) OUT (results/bench-resize) ANCHORS (../shared/anchors/resize) SKIP_QUALITY=1
set -euo pipefail
export LC_ALL=C
here=$(cd "$(dirname "$0")/.." && pwd)
results=$here/results; [[ -f $here/CMakeLists.txt ]] || results=$PWD/results  # installed: ./results
corpus=$(cd "${1:?usage: jobs/bench-resize.sh CORPUS_DIR [PARKIT]}" && pwd)
parkit=${2:-$here/build/release/drivers/parkit}
# installed as PREFIX/share/parkit/jobs: PREFIX/bin/parkit, else parkit on PATH
if [[ -z ${2:-} && ! -x $parkit ]]; then
    parkit=$here/../../bin/parkit; [[ -x $parkit ]] || parkit=$(command -v parkit || echo "$parkit")
fi
RUNS=${RUNS:-5} OUT=${OUT:-$results/bench-resize}
anchors=${ANCHORS:-$here/../shared/anchors/resize}
py=/usr/bin/python3
[[ -x $parkit ]] || { echo "build $parkit first (cmake --build --preset release)" >&2; exit 2; }
[[ -f $anchors/thumbs.py ]] || { echo "no anchors in $anchors (set ANCHORS)" >&2; exit 2; }
mkdir -p "$OUT/lists"
exec > >(tee "$OUT/output.txt") 2>&1
die() { echo "error: $*" >&2; exit 1; }

need=()
command -v vipsthumbnail >/dev/null || need+=(libvips-tools)
"$py" -c 'import numpy, PIL' 2>/dev/null || need+=(python3-numpy python3-pil)
if ((${#need[@]})); then
    apt() { DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null; }
    apt || { apt-get update -q >/dev/null && apt; }
fi

# lists of absolute paths, largest first; jpg/png of all (.txt) and of two pixel-balanced halves
lists=$OUT/lists
read -r nimg mp < <("$py" - "$corpus" "$lists" <<'EOF'
import os, sys
from PIL import Image
corpus, lists = sys.argv[1:3]
items = []
for n in os.listdir(corpus):
    if n.lower().endswith((".jpg", ".jpeg", ".png")):
        w, h = Image.open(os.path.join(corpus, n)).size
        items.append((w * h, os.path.join(corpus, n)))
items.sort(reverse=True)  # as the anchors' bench-resize.sh, so the halves are the same
halves, load = ([], []), [0, 0]
for px, p in items:
    k = 0 if load[0] <= load[1] else 1
    halves[k].append(p)
    load[k] += px
def write(name, paths):
    with open(os.path.join(lists, name), "w") as f:
        f.write("".join(p + "\n" for p in paths))
png = lambda p: p.lower().endswith(".png")
every = [p for _, p in items]
write("all.txt", every)
for suffix, ps in (("txt", every), ("h0", halves[0]), ("h1", halves[1])):
    write("jpg." + suffix, [p for p in ps if not png(p)])
    write("png." + suffix, [p for p in ps if png(p)])
print(len(items), f"{sum(px for px, _ in items) / 1e6:.3f}")
EOF
)
echo "corpus: $corpus  images=$nimg  input MP=$mp  runs=$RUNS  cores=$(nproc)  parkit: $parkit"

# the tools; the first argument is the output directory
export VIPS_WARNING=1 # quiets "unknown EXIF resolution unit", on many corpus JPEGs
pk() { local d=$1; shift; "$parkit" resize "$corpus" --out "$d" --size 256x256 "$@"; }
thumbs() { local d=$1; shift; "$py" "$anchors/thumbs.py" --out "$d" --list "$lists/all.txt" "$@"; }
vips() { # DIR LOSSLESS(0|1) LIST(txt|h0|h1): the anchors' vips_cmd
    local jo="$1/%s.jpg[Q=85,strip]"
    [[ $2 == 1 ]] && jo="$1/%s.png"
    xargs -r -d '\n' -a "$lists/jpg.$3" vipsthumbnail -s 256x256 -o "$jo" &&
        xargs -r -d '\n' -a "$lists/png.$3" vipsthumbnail -s 256x256 -o "$1/%s.png[strip]"
}
vips2() { vips "$1" 0 h0 & local p=$! r=0; vips "$1" 0 h1 || r=$?; wait "$p" && return "$r"; }

variants=(parkit parkit-gap4 parkit-no-shrink parkit-1core pil-thumbnail-lanczos-pool2
          pil-thumbnail-lanczos-p1 pil-resize-lanczos-pool2 vips-2proc-c1 vips-c2)
run_variant() { # NAME DIR
    case $1 in
    parkit) pk "$2" >"$OUT/$1.txt" ;;
    parkit-gap4) pk "$2" --reducing-gap 4 >"$OUT/$1.txt" ;;
    parkit-no-shrink) pk "$2" --no-shrink-on-load >"$OUT/$1.txt" ;;
    parkit-1core) taskset -c 0 "$parkit" resize "$corpus" --out "$2" --size 256x256 >"$OUT/$1.txt" ;;
    pil-thumbnail-lanczos-pool2) thumbs "$2" --mode pil-thumbnail-lanczos --procs 2 ;;
    pil-thumbnail-lanczos-p1) thumbs "$2" --mode pil-thumbnail-lanczos --procs 1 ;;
    pil-resize-lanczos-pool2) thumbs "$2" --mode pil-resize-lanczos --procs 2 ;;
    vips-2proc-c1) VIPS_CONCURRENCY=1 vips2 "$2" ;;
    vips-c2) VIPS_CONCURRENCY=2 vips "$2" 0 txt ;;
    esac
}

xargs -d '\n' -a "$lists/all.txt" cat >/dev/null # page cache
printf 'variant\trun\tseconds\n' >"$OUT/times.tsv"
scratch=$OUT/out
for ((r = 1; r <= RUNS; r++)); do
    for v in "${variants[@]}"; do
        rm -rf "$scratch" && mkdir -p "$scratch"
        t0=$EPOCHREALTIME
        run_variant "$v" "$scratch" || die "$v failed (run $r)"
        t1=$EPOCHREALTIME
        awk -v v="$v" -v r="$r" -v a="$t0" -v b="$t1" 'BEGIN {printf "%s\t%d\t%.4f\n", v, r, b - a}' \
            >>"$OUT/times.tsv"
        got=$(find "$scratch" -type f | wc -l)
        ((got == nimg)) || echo "warning: $v wrote $got files for $nimg inputs (run $r)" >&2
    done
done

"$py" - "$OUT/times.tsv" "$nimg" "$mp" "$(nproc)" <<'EOF' | tee "$OUT/summary.md"
import csv, statistics, sys
tsv, nimg, mp, cores = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
t = {}
for row in csv.DictReader(open(tsv), delimiter="\t"):
    t.setdefault(row["variant"], []).append(float(row["seconds"]))
med = {v: statistics.median(s) for v, s in t.items()}
best = min((v for v in t if not v.startswith("parkit")), key=med.get)
print("| variant | median s | min | max | images/s | MP/s | x vs fastest anchor |")
print("|---|---|---|---|---|---|---|")
for v, s in t.items():
    x = f"{med[best] / med[v]:.2f}" if v.startswith("parkit") else ""
    print(f"| {v} | {med[v]:.3f} | {min(s):.3f} | {max(s):.3f} | {nimg / med[v]:.1f} "
          f"| {mp / med[v]:.1f} | {x} |")
print(f"\n{len(next(iter(t.values())))} runs each, interleaved; fastest anchor: {best}")
print(f"parkit on 1 core (taskset -c 0) -> all {cores} cores: "
      f"{med['parkit-1core'] / med['parkit']:.2f}x")
EOF

[[ -n ${SKIP_QUALITY:-} ]] && exit 0
echo
echo "== quality: lossless PNG outputs against a float64 Lanczos3 reference (quality.py)"
q=$OUT/quality
rm -rf "$q" "$OUT/filters" && mkdir -p "$q/vips" "$OUT/filters"
pk "$q/parkit" --format png >/dev/null || die "parkit --format png failed"
pk "$q/parkit-gap4" --format png --reducing-gap 4 >/dev/null || die "parkit gap 4 failed"
pk "$q/parkit-no-shrink" --format png --no-shrink-on-load >/dev/null || die "parkit no-shrink failed"
for m in pil-thumbnail-lanczos pil-resize-lanczos; do
    thumbs "$q/$m" --mode "$m" --procs 2 --lossless || die "thumbs.py --mode $m failed"
done
VIPS_CONCURRENCY=2 vips "$q/vips" 1 txt || die "vipsthumbnail failed"
"$py" "$anchors/quality.py" "$corpus" "$q"/*/ --json "$OUT/quality.json" | tee "$OUT/quality.md"

echo
echo "== parkit's float64 reference of each filter on every image (--no-shrink-on-load --check-all)"
echo "| filter | images | mean PSNR dB | min PSNR dB | max error | exit |"
echo "|---|---|---|---|---|---|"
for f in nearest bilinear bicubic mitchell lanczos3; do
    st=0
    pk "$OUT/filters/$f" --format png --no-shrink-on-load --filter "$f" --check-all \
        --output-format json >"$OUT/filter-$f.json" || st=$?
    ((st == 0 || st == 3)) || die "parkit --filter $f --check-all failed ($st)"
    "$py" -c "import json, sys; r = json.load(open(sys.argv[1]))['result']['reference']
print('| %s | %s | %.2f | %.2f | %s | %s |' % (sys.argv[2], r['images'], r['psnr_mean_db'],
  r['psnr_min_db'], r['max_error'], sys.argv[3]))" "$OUT/filter-$f.json" "$f" "$st"
    ((st == 0)) || failed=1
done

echo
echo "== parkit against Pillow, pixel by pixel (jobs/resize_compare.py)"
"$py" "$here/jobs/resize_compare.py" "$q/parkit-no-shrink" "$q/pil-resize-lanczos" \
    --json "$OUT/compare-no-shrink.json" | tee "$OUT/compare.md"
echo | tee -a "$OUT/compare.md"
"$py" "$here/jobs/resize_compare.py" "$q/parkit" "$q/pil-thumbnail-lanczos" \
    --json "$OUT/compare-default.json" | tee -a "$OUT/compare.md"
echo "parkit-no-shrink uses lanczos3 (the default filter). Results: $OUT"
exit "${failed:-0}"
