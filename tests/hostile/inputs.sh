#!/usr/bin/env bash
# inputs.sh PARKIT SCENARIO [SANITIZE]: hostile inputs that parkit once accepted with a wrong result or
# exit 0 (issue 18, "Wrong results that are accepted" and what follows). Each scenario failed
# before its fix; each works in a directory of its own.
set -euo pipefail
parkit=$1 scenario=$2 sanitize=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/parkit-inputs.XXXXXX")
server=
trap '[[ -z $server ]] || kill "$server" 2> /dev/null; rm -rf "$work"' EXIT
cd "$work"
fail() { echo "FAIL ($scenario): $*" >&2; exit 1; }
run() { # run EXPECTED_RC ARGS...: parkit ARGS, stdout and stderr kept in out and err
    local want=$1 rc=0
    shift
    "$parkit" "$@" > out 2> err || rc=$?
    cat out err
    [[ $rc == "$want" ]] || fail "exit $rc, expected $want: parkit $*"
}
expect() { grep -Eq -- "$1" "$2" || fail "no /$1/ in $2"; }
# a scenario that needs a command of an optional part skips (77) in a build without it
. "$here/needs.sh"
case $scenario in
jpeg_corrupt) needs resize ;;
special_zero_size | values) needs transform ;;
fifo) needs resize transform ;;
messages) needs fetch ;;
long_lines) needs fetch transform ;;
esac

case $scenario in
jpeg_corrupt) # scan data cut short or flipped, markers intact: refused unless --lenient
    python3 - <<'PY'
w, h = 160, 120
px = bytearray()
for y in range(h):
    for x in range(w):
        px += bytes(((x * 255 // w) ^ (y & 7) * 8, y * 255 // h, ((x * y) >> 6) & 255))
open("src.ppm", "wb").write(b"P6\n%d %d\n255\n" % (w, h) + px)
PY
    run 0 resize src.ppm --out jpg --format jpeg --size 160x120 --quality 90
    python3 - jpg/src.jpg <<'PY'
import os, sys
d = open(sys.argv[1], "rb").read()
sos = d.index(b"\xff\xda")
start = sos + 2 + (d[sos + 2] << 8 | d[sos + 3])  # the entropy-coded data
end = len(d) - 2                                  # before EOI
os.mkdir("bad")
# cut in the middle of the scan, then EOI: every marker parses
open("bad/cut.jpg", "wb").write(d[:(start + end) // 2] + b"\xff\xd9")
# 24 bytes of the scan overwritten (a few flipped bits often decode silently to other pixels,
# which no decoder can see; a damaged run gives libjpeg's "bad Huffman code")
b = bytearray(d)
mid = (start + end) // 2 + 42
b[mid:mid + 24] = b"\x60" * 24
open("bad/flip.jpg", "wb").write(bytes(b))
PY
    run 1 resize bad/cut.jpg bad/flip.jpg --out t --size 32x32
    expect "'bad/cut.jpg' is corrupt \(JPEG: Corrupt JPEG data" err
    expect "'bad/flip.jpg' is corrupt \(JPEG: Corrupt JPEG data" err
    expect "2 of 2 images failed" err
    [[ ! -e t/cut.jpg && ! -e t/flip.jpg ]] || fail "a thumbnail of a corrupt file was written"
    run 0 resize bad/cut.jpg bad/flip.jpg --out l --size 32x32 --lenient --record r.jsonl
    python3 -c 'import json, sys; assert json.loads(open(sys.argv[1]).readline())["params"]["lenient"] is True' r.jsonl
    expect "warning: 'bad/cut.jpg': corrupt JPEG data accepted \(--lenient\): [0-9]+ warnings?" err
    expect "warning: 'bad/flip.jpg': corrupt JPEG data accepted" err
    [[ -s l/cut.jpg && -s l/flip.jpg ]] || fail "--lenient wrote no thumbnails"
    run 0 resize jpg/src.jpg --out g --size 32x32 # the intact file gives no warning
    ! grep -q warning err || fail "a warning for an intact JPEG"
    ;;
record_bytes) # non-UTF-8 bytes in a stage name, an experiment id, a path, argv: no field lost
    bad=$'\xff\xfe'
    python3 -c 'import struct, sys; open(sys.argv[1], "wb").write(struct.pack("<3d", 1, 2, 3))' \
        "x$bad.f64"
    run 0 pipeline --items 10 --stages "a$bad:0:1" --record r.jsonl
    run 0 sumsq --file "x$bad.f64" --reps 1 --record r.jsonl
    run 0 scale sumsq --gauss 1000 -t 1 --reps 1 --experiment "e$bad" --record r.jsonl
    run 0 advise --format json --record r.jsonl true "arg$bad"
    python3 - r.jsonl <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert len(recs) == 4, len(recs)
p, s, sc, a = recs
assert p["params"]["stages"] == "a\\xff\\xfe:0:1", p["params"]
assert s["params"]["file"] == "x\\xff\\xfe.f64", s["params"]
assert sc["scale"]["experiment"] == "e\\xff\\xfe", sc.get("scale")
assert a["params"]["command"] == ["true", "arg\\xff\\xfe"], a["params"]
PY
    # report reads them back: no record skipped, the escaped id shown
    grep -v '"pipeline"' r.jsonl | grep -v '"advise"' > rs.jsonl
    run 0 report rs.jsonl --format json
    ! grep -q skipped err || fail "report skipped a record"
    ;;
seed_u64) # seeds >= 2^63 are recorded as what was given, never as negative numbers
    run 0 sumsq --gauss 1000 --seed 18446744073709551615 --reps 1 --record r.jsonl
    run 0 sumsq --gauss 1000 --seed 9223372036854775807 --reps 1 --record r.jsonl
    run 0 api --tasks 2 --workers 2 --latency 0 --seed 9223372036854775808 --record r.jsonl
    python3 - r.jsonl <<'PY'
import json, sys
seeds = [json.loads(l)["params"]["seed"] for l in open(sys.argv[1])]
assert [int(s) for s in seeds] == [2**64 - 1, 2**63 - 1, 2**63], seeds
PY
    run 0 report r.jsonl
    ! grep -q skipped err || fail "report skipped a record"
    ;;
special_zero_size) # /proc's files say 0 bytes and then give data: refused, not read as empty
    run 2 sumsq --file /proc/self/status
    expect "'/proc/self/status' reports a size of 0 but has data" err
    run 2 transform --input /proc/self/status
    expect "'/proc/self/status' reports a size of 0 but has data" err
    : > empty.f64 # a really empty file is still read as empty
    run 0 sumsq --file empty.f64 --reps 1
    ;;
fifo) # a FIFO where a file is expected: skipped in a directory walk, refused when named, never waited on
    mkdir d
    printf 'id,v\n1,2.5\n2,3.5\n' > d/a.csv
    mkfifo d/b.csv d/c.jpg
    rc=0; timeout 30 "$parkit" files d --reps 1 > out 2> err || rc=$?
    cat out err; [[ $rc == 0 ]] || fail "files d: exit $rc"
    expect "warning: skipped 'd/b.csv': not a regular file" err
    expect "1 file in 'd'" out
    rc=0; timeout 30 "$parkit" transform --input d/b.csv --column v > out 2> err || rc=$?
    cat err; [[ $rc == 2 ]] || fail "transform --input FIFO: exit $rc"
    expect "d/b.csv: not a regular file" err
    rc=0; timeout 30 "$parkit" resize d/c.jpg --out r > out 2> err || rc=$?
    cat err; [[ $rc == 1 ]] || fail "resize FIFO: exit $rc"
    expect "cannot open 'd/c.jpg': not a regular file" err
    ;;
values) # non-finite or overflowing input values: exit 2 naming file and place, not 3 (or 0 for a NaN)
    python3 - <<'PY'
import struct
for name, v in (("nan", float("nan")), ("inf", float("-inf")), ("big", 1e300)):
    open(name + ".f64", "wb").write(struct.pack("<4d", 1, 2, v, 4))
open("big.csv", "w").write("id,v\n1,1\n2,1e300\n3,3\n")
open("neg.csv", "w").write("id,v\n1,1\n2,-1\n3,3\n")
PY
    for f in nan inf big; do
        run 2 sumsq --file $f.f64 --reps 1
        expect "'$f.f64': value 2 \(byte offset 16\) is -?(nan|inf|1e\+300): sumsq takes finite values" err
        run 2 transform --input $f.f64 --reps 1
        expect "'$f.f64': value 2 \(byte offset 16\) is .*: --op chunk takes finite values" err
    done
    run 2 transform --input big.csv --column v --reps 1
    expect "big.csv:3:2: the value in column 'v' is 1e\+300: --op chunk takes" err
    run 2 transform --input neg.csv --column v --op heavy --reps 1
    expect "neg.csv:3:2: the value in column 'v' is -1: --op heavy" err
    run 0 transform --input neg.csv --column v --reps 1 # -1 is fine for chunk
    # the same past the first group of values checked at once, and past the first piece read
    python3 - <<'PY'
import struct
for name, at, v in (("far_nan", 40003, float("nan")), ("far_inf", 300, float("inf")),
                    ("far_big", 1000, 1e300)):
    x = [1.0] * 50000
    x[at] = v
    open(name + ".f64", "wb").write(struct.pack("<50000d", *x))
PY
    for f in far_nan:40003 far_inf:300 far_big:1000; do
        at=${f#*:} f=${f%:*}
        run 2 sumsq --file $f.f64 --reps 1
        expect "'$f.f64': value $at \\(byte offset $((at * 8))\\) is .*: sumsq takes finite values" err
        run 2 transform --input $f.f64 --reps 1
        expect "'$f.f64': value $at \\(byte offset $((at * 8))\\) is .*: --op chunk takes finite values" err
    done
    ;;
messages) # messages that said something false or nothing at all
    run 0 api --tasks 3 --workers 3 --latency 0
    expect "no Little's law bound: the mean latency is 0" out
    ! grep -q "of Little's law bound W / mean = 0.00" out || fail "a 0% bound at zero latency"
    run 0 api --tasks 3 --workers 3 --latency 0 --format csv
    python3 -c 'import csv, sys; r = list(csv.DictReader(open(sys.argv[1]))); assert r[0]["littles_bound"] == "", r' out
    # two worker counts whose fitted one-worker time is negative: not "needs two counts"
    rec() { printf '{"schema":"parkit.record/1","command":"sumsq","time_utc":"2026-01-01T00:00:00Z","params":{"variant":"range","n":1000,"threads":%s,"ranks":1},"result":{"value":"0"},"verified":true,"timing":{"warmup":0,"reps_s":[%s]},"provenance":{"version":"0.1.0","git_commit":"abc","compiler":"gcc","c_flags":"-O2","build_type":"Release","native":false,"openmp":201511,"mpi":"none","gsl":"2.7","gmp":"6.2","jansson":"2.14","machine":{"host":"h","cores":8,"nranks":1,"nthreads":%s,"ranks":[],"warnings":[]}}}\n' "$1" "$2" "$1"; }
    { rec 2 1,1.01,0.99; rec 4 3,3.03,2.97; } > fit.jsonl
    run 0 report fit.jsonl
    expect "no Amdahl fit: the times at 2 worker counts give no model" out
    ! grep -q "needs at least two worker counts" out || fail "report says it needs two counts"
    # a last path segment over 200 bytes is cut, and said so (it became index.html.N silently)
    long=$(printf 'n%.0s' $(seq 300))
    run 1 fetch "http://127.0.0.1:9/a/$long" "http://127.0.0.1:9/b/$long" --out f --retries 0
    expect "warning: 2 URLs have a last path segment longer than 200 bytes, cut to 200" err
    # a reply header over libcurl's limit was "Out of memory"; running out of descriptors was
    # "Couldn't connect"
    python3 - > port.txt 2> server.err <<'PY' &
import socket, sys, threading
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(64)
s.settimeout(60)
print(s.getsockname()[1], flush=True)
def serve(c):
    try:
        req = c.recv(65536)
        big = b"X-Big: " + b"a" * (1 << 20) + b"\r\n" if b"/big" in req else b""
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n" + big + b"\r\nok")
    except OSError:
        pass
    c.close()
while True:
    try:
        c, _ = s.accept()
    except OSError:
        break
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
    server=$!
    for _ in $(seq 50); do [[ -s port.txt ]] && break; sleep 0.1; done
    port=$(cat port.txt)
    run 1 fetch "http://127.0.0.1:$port/big" --retries 0
    expect "a reply header line over libcurl's limit of 100 KiB, or out of memory" out
    if [[ -z $sanitize ]]; then
        for i in $(seq 40); do echo "http://127.0.0.1:$port/ok"; done > urls.txt
        rc=0; (ulimit -n 16; "$parkit" fetch --url-file urls.txt --workers 32 --retries 0 > out 2> err) || rc=$?
        cat out err; [[ $rc == 1 ]] || fail "fetch at ulimit -n 16: exit $rc"
        n=$(grep -c "Couldn't connect" out || true)
        (( n > 0 )) || fail "no URL ran out of descriptors"
        [[ $(grep -c "Too many open files (the open-file limit is reached" out) == "$n" ]] ||
            fail "a descriptor failure not named"
    fi
    kill "$server"
    server=
    ;;
factsum_oom) # GMP out of memory without --max-memory ended in "bytes requested0)"
    [[ -z $sanitize ]] || exit 77
    for v in 50000 60000 70000 80000; do
        rc=0; (ulimit -v $v; "$parkit" factsum 1e6 --reps 1 --warmup 0 --force > out 2> err) || rc=$?
        cat err
        if grep -q "out of memory in GMP" err; then
            [[ $rc == 1 ]] || fail "exit $rc"
            expect "out of memory in GMP \([0-9]+ more bytes requested\)$" err
            exit 0
        fi
    done
    echo "GMP never ran out of memory here: skipped"
    exit 77
    ;;
long_lines) # a line is capped at 16 MiB, as files' records are: a message, exit 2, no growth
    head -c $((17 << 20)) /dev/zero | tr '\0' 'x' > long.txt
    run 2 report long.txt
    expect "report: error: long.txt:1: line longer than 16 MiB" err
    run 2 fetch --url-file long.txt --out f
    expect "--url-file 'long.txt' line 1: longer than 16 MiB" err
    printf '{}\n' | cat - long.txt > long2.txt # line 2
    run 2 report long2.txt
    expect "long2.txt:2: line longer than 16 MiB" err
    if [[ -z $sanitize ]]; then # endless input: bounded here should the cap ever go
        (ulimit -v 4000000; "$parkit" report /dev/zero > out 2> err) || rc=$?
        cat err; [[ ${rc:-0} == 2 ]] || fail "report /dev/zero: exit ${rc:-0}"
        rc=0; (ulimit -v 4000000; "$parkit" fetch --url-file - < /dev/zero > out 2> err) || rc=$?
        cat err; [[ $rc == 2 ]] || fail "fetch --url-file - < /dev/zero: exit $rc"
        expect "line 1: longer than 16 MiB" err
        rc=0; (ulimit -v 4000000; head -c 100000000 /dev/zero | "$parkit" transform --input /dev/stdin > out 2> err) || rc=$?
        cat err; [[ $rc == 2 ]] || fail "transform --input /dev/stdin: exit $rc"
    fi
    ;;
*)
    fail "unknown scenario"
    ;;
esac
