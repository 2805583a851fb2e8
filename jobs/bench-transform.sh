#!/usr/bin/env bash
# Chunked-transform speed against its anchors, measured in the same invocation: numpy one-shot
# over the same 1e8 values (anchors/numeric/transform.py, OPENBLAS_NUM_THREADS=1, as the
# anchors were taken), then parkit transform at 1 and 2 threads (and 2 MPI ranks; at 1 thread
# also with --math portable and fast, beside the default deterministic), the tutorial
# sizes, and the file mode (raw float64 in the page cache: --read copy and map, and with
# --output) against
# the in-memory rate. Every timed command runs under the anchors' shared timing lock, which
# waits for a quiet machine and reports the CPU other processes took meanwhile. Medians of REPS
# repetitions; every parkit run is appended to $OUT/records.jsonl. Ends with issue 17's table:
# parkit on 1 thread against numpy on a warm array (best of 3 after a warm-up, the output
# buffers allocated once and reused), and the file mode against the in-memory rate.
# usage: jobs/bench-transform.sh [PARKIT [ANCHORS_DIR]]
#   env: REPS (5) N (1e8) CHUNK (1e6) FILE_N (5e7) OUT (results/bench-transform) NUMPY (1: run it)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
results=$here/results; [[ -f $here/CMakeLists.txt ]] || results=$PWD/results  # installed: ./results
parkit=${1:-$here/build/release/drivers/parkit}
# installed as PREFIX/share/parkit/jobs: PREFIX/bin/parkit, else parkit on PATH
if [[ -z ${1:-} && ! -x $parkit ]]; then
    parkit=$here/../../bin/parkit; [[ -x $parkit ]] || parkit=$(command -v parkit || echo "$parkit")
fi
anchors=${2:-$here/../shared/anchors/numeric}
REPS=${REPS:-5} N=${N:-1e8} CHUNK=${CHUNK:-1e6} FILE_N=${FILE_N:-5e7} NUMPY=${NUMPY:-1}
OUT=${OUT:-$results/bench-transform}
mkdir -p "$OUT"
rec=$OUT/records.jsonl
py=/usr/bin/python3
[[ $(id -u) -eq 0 ]] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
locked() { if [[ -x $anchors/locked.sh ]]; then "$anchors/locked.sh" "$@"; else "$@"; fi; }

# parkit ARGS... -> "median_s Melem/s verified" from its JSON record
run() {
    locked "$@" --format json --record "$rec" |
        $py -c 'import json,sys; r=json.load(sys.stdin); m=r["timing"]["median_s"]; n=r["params"]["n"]
print("%.6f %.1f %s" % (m, n / m / 1e6, r["verified"]))'
}
row() { # label median rate verified [anchor-rate [per-core-divisor]]
    local ratio="-"
    [[ -n ${5:-} ]] && ratio=$(awk -v a="$3" -v b="$5" -v d="${6:-1}" 'BEGIN{printf "%.2fx", a/d/b}')
    printf '%-52s %10s %10s %9s  verified=%s\n' "$1" "$2" "$3" "$ratio" "$4"
}

echo "# $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
echo "# parkit: $("$parkit" --version | head -1)"
np_chunk="" np_heavy="" warm_chunk="" warm_heavy=""
# numpy at its best: the array made once, every output buffer reused, best of 3 after a warm-up
warm_numpy() { # OP N -> Melem/s
    OPENBLAS_NUM_THREADS=1 locked $py - "$1" "$2" <<'PY'
import sys, time
import numpy as np
op, n = sys.argv[1], int(float(sys.argv[2]))
v = np.arange(n, dtype=np.float64)
a, b, c = np.empty_like(v), np.empty_like(v), (np.empty_like(v) if op == "heavy" else None)
def chunk():  # v*v + sin(v)*100, and the tutorial's sum, mean, min, max
    np.multiply(v, v, out=a); np.sin(v, out=b); np.multiply(b, 100, out=b); np.add(a, b, out=a)
    return a.sum(), a.mean(), a.min(), a.max()
def heavy():  # (sin(i)*cos(i) + sqrt(i+1)) * log(i+1), summed
    np.sin(v, out=a); np.cos(v, out=b); np.multiply(a, b, out=a); np.add(v, 1, out=c)
    np.sqrt(c, out=b); np.add(a, b, out=a); np.log(c, out=c); np.multiply(a, c, out=a)
    return a.sum()
f = chunk if op == "chunk" else heavy
f()
best = 1e9
for _ in range(3):
    t0 = time.perf_counter(); f(); best = min(best, time.perf_counter() - t0)
print("%.1f" % (n / best / 1e6))
PY
}
if [[ $NUMPY == 1 ]]; then
    warm_chunk=$(warm_numpy chunk "$N")
    warm_heavy=$(warm_numpy heavy "$N")
    # the reference totals only feed the anchor's accuracy column; 0 keeps it cheap
    out=$(OPENBLAS_NUM_THREADS=1 locked $py "$anchors/transform.py" chunk-numpy "$N" "$REPS" 1)
    np_chunk=$(printf '%s\n' "$out" | awk '/one-shot/{for(i=1;i<=NF;i++) if($i=="Melem/s") print $(i-1)}')
    out=$(OPENBLAS_NUM_THREADS=1 locked $py "$anchors/transform.py" heavy-numpy "$N" "$REPS" 1)
    np_heavy=$(printf '%s\n' "$out" | awk '/one-shot/{for(i=1;i<=NF;i++) if($i=="Melem/s") print $(i-1)}')
fi
printf '%-52s %10s %10s %9s\n' "run" "median_s" "Melem/s" "per core vs numpy"
[[ -n $np_chunk ]] && row "numpy one-shot chunk n=$N (1 thread)" "-" "$np_chunk" "-"
[[ -n $np_heavy ]] && row "numpy one-shot heavy n=$N (1 thread)" "-" "$np_heavy" "-"
[[ -n $warm_chunk ]] && row "numpy warm chunk n=$N, best of 3 (1 thread)" "-" "$warm_chunk" "-"
[[ -n $warm_heavy ]] && row "numpy warm heavy n=$N, best of 3 (1 thread)" "-" "$warm_heavy" "-"
declare -A one   # parkit's 1-thread rate per op, for issue 17's table
for op in chunk heavy; do
    anchor=$np_chunk
    [[ $op == heavy ]] && anchor=$np_heavy
    for t in 1 2; do
        read -r s r v < <(run "$parkit" transform --op "$op" -n "$N" --chunk "$CHUNK" -t "$t" --reps "$REPS")
        row "parkit transform --op $op -n $N -t $t" "$s" "$r" "$v" "$anchor" "$t"
        [[ $t == 1 ]] && one[$op]=$r
    done
    # what the default family (deterministic: SLEEF's finz) costs against the others
    for m in portable fast; do
        read -r s r v < <(run "$parkit" transform --op "$op" -n "$N" --chunk "$CHUNK" -t 1 --math "$m" --reps "$REPS")
        row "parkit transform --op $op -n $N -t 1 --math $m" "$s" "$r" "$v" "$anchor" 1
    done
    if command -v mpirun >/dev/null; then
        read -r s r v < <(run mpirun -np 2 "$parkit" transform --op "$op" -n "$N" --chunk "$CHUNK" -t 1 --reps "$REPS")
        row "mpirun -np 2 parkit transform --op $op -t 1" "$s" "$r" "$v" "$anchor" 2
    fi
done
# the tutorials' sizes (their Python anchors: 9.3 and 5.5 Melem/s, anchors section 4)
read -r s r v < <(run "$parkit" transform --op chunk -t 2 --reps "$REPS")
row "parkit transform (tutorial: 5 x 1e5) -t 2" "$s" "$r" "$v"
read -r s r v < <(run "$parkit" transform --op heavy -t 2 --reps "$REPS")
row "parkit transform --op heavy (tutorial: 4 x 5e5) -t 2" "$s" "$r" "$v"

# file mode: a raw file of v = 0..FILE_N-1 (written by numpy), read once first so it is in the
# page cache; compared with the same values generated in memory
f=$OUT/iota.f64
if [[ ! -f $f ]] || [[ $(stat -c %s "$f") != $($py -c "print(int(float('$FILE_N'))*8)") ]]; then
    $py -c "import numpy as np,sys; np.arange(int(float(sys.argv[2])), dtype=np.float64).tofile(sys.argv[1])" "$f" "$FILE_N"
fi
cat "$f" >/dev/null
# The in-memory rows read no memory (the values are generated), so the file mode can be no
# faster than the two added: generating at the in-memory rate and reading 8 bytes a value at
# the read bandwidth the STREAM-like probe (anchors/numeric/stream.c, 2 threads, a sum over
# FILE_N values) measures in the same round.
if [[ -f $anchors/stream.c ]] && command -v gcc >/dev/null; then
    gcc -O3 -march=native -fopenmp -I"$anchors" "$anchors/stream.c" -o "$OUT/stream"
fi
declare -A filepct boundpct
for op in chunk heavy; do
    read -r s0 r0 v < <(run "$parkit" transform --op "$op" -n "$FILE_N" --chunk "$CHUNK" -t 2 --reps "$REPS")
    row "in memory --op $op -n $FILE_N -t 2" "$s0" "$r0" "$v"
    if [[ -x $OUT/stream ]]; then
        bw=$(OMP_NUM_THREADS=2 locked "$OUT/stream" "$(awk -v n="$FILE_N" 'BEGIN{printf "%d", n}')" "$REPS" sum |
            sed -n 's/.*median *\([0-9.]*\) GB\/s.*/\1/p')
        if [[ -n $bw ]]; then # no bound from a probe whose output could not be read
            boundpct[$op]=$(awk -v r="$r0" -v b="$bw" 'BEGIN{printf "%.1f", 100 * (1 / (1 + r * 8e-3 / b) - 1)}')
            printf '%-52s %10s GB/s: the file mode at best %s%%\n' "read bandwidth (stream sum, 2 threads)" "$bw" "${boundpct[$op]}"
        fi
    fi
    # read again right before: the page cache here loses pages between runs (measured: 268 of
    # 381 MiB left after a run), and the row is for a file that is in it
    cat "$f" >/dev/null
    command -v fincore >/dev/null && fincore -n -o RES "$f" | sed 's/^ */# resident: /' >&2
    read -r s r v < <(run "$parkit" transform --op "$op" --input "$f" --chunk "$CHUNK" -t 2 --reps "$REPS")
    filepct[$op]=$(awk -v a="$r" -v b="$r0" 'BEGIN{printf "%.1f", 100*(a/b-1)}')
    printf '%-52s %10s %10s %8.1f%%  verified=%s\n' "file --op $op (page cache, --read copy) -t 2" "$s" "$r" \
        "$(awk -v a="$r" -v b="$r0" 'BEGIN{print 100*(a/b-1)}')" "$v"
    cat "$f" >/dev/null # the other way to read: blocks mapped by a reader stage
    read -r s r v < <(run "$parkit" transform --op "$op" --input "$f" --read map --chunk "$CHUNK" -t 2 --reps "$REPS")
    printf '%-52s %10s %10s %8.1f%%  verified=%s\n' "file --op $op --read map -t 2" "$s" "$r" \
        "$(awk -v a="$r" -v b="$r0" 'BEGIN{print 100*(a/b-1)}')" "$v"
    cat "$f" >/dev/null
    read -r s r v < <(run "$parkit" transform --op "$op" --input "$f" --chunk "$CHUNK" -t 2 --reps "$REPS" --output "$OUT/out.f64")
    printf '%-52s %10s %10s %8.1f%%  verified=%s\n' "file --op $op --output -t 2" "$s" "$r" \
        "$(awk -v a="$r" -v b="$r0" 'BEGIN{print 100*(a/b-1)}')" "$v"
done
rm -f "$OUT/out.f64"

# ---- issue 17's table ------------------------------------------------------------------------
goal() { # label parkit anchor min-ratio
    awk -v l="$1" -v p="$2" -v a="$3" -v g="$4" 'BEGIN{ if (a == "" || a <= 0) { printf "%-52s %9s %9s %8s\n", l, p, "-", "-"; exit }
        r = p / a; if (g == "") { printf "%-52s %9.1f %9.1f %7.2fx  (no goal)\n", l, p, a, r; exit }
        printf "%-52s %9.1f %9.1f %7.2fx  >= %gx  %s\n", l, p, a, r, g, (r >= g ? "met" : "missed")}'
}
echo
echo "issue 17 (Melem/s; load: $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-52s %9s %9s %8s  %s\n' "run" "parkit" "numpy" "ratio" "goal"
goal "transform --op chunk -n $N -t 1 vs numpy warm" "${one[chunk]}" "$warm_chunk" 5
goal "transform --op chunk -n $N -t 1 vs numpy one-shot" "${one[chunk]}" "$np_chunk" ""
goal "transform --op heavy -n $N -t 1 vs numpy warm" "${one[heavy]}" "$warm_heavy" 5
goal "transform --op heavy -n $N -t 1 vs numpy one-shot" "${one[heavy]}" "$np_heavy" ""
awk -v p="${filepct[chunk]}" -v b="${boundpct[chunk]:-}" 'BEGIN{printf "%-52s %8.1f%% against in memory  goal within 10%%  %s",
    "file mode chunk -t 2 (page cache)", p, (p >= -10 ? "met" : "missed")
    if (b != "") printf "  (bound from the read bandwidth: %.1f%%)", b; printf "\n"}'
