#!/usr/bin/env bash
# fetch.sh PARKIT HTTPD SCENARIO: starts the loopback test server (tests/io/httpd.c), runs one
# scenario of `parkit fetch` against it, checks the exit code, the messages and the files, and
# stops the server. curl (an independent client) fetches the same bodies as the oracle.
# ENGINE=loop runs the scenario on the event-loop engine (default: threads).
set -euo pipefail
parkit=$1 httpd=$2 scenario=$3
work=$(mktemp -d "${TMPDIR:-/tmp}/parkit-fetch.XXXXXX")
server=""
cleanup() {
    [[ -n $server ]] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL ($scenario): $*" >&2; exit 1; }

mkdir "$work/root" "$work/out"
head -c 100000 /dev/urandom > "$work/root/random.bin"
printf 'hello\n' > "$work/root/hello.txt"
"$httpd" --port-file "$work/port" --root "$work/root" --idle-exit 60 &
server=$!
for _ in $(seq 100); do [[ -s $work/port ]] && break; sleep 0.05; done
[[ -s $work/port ]] || fail "server did not start"
base="http://127.0.0.1:$(cat "$work/port")"

# run EXPECTED_RC ARGS...: runs parkit fetch, keeping stdout and stderr in $work.
run() {
    local want=$1 rc=0
    shift
    "$parkit" fetch --engine "${ENGINE:-threads}" "$@" > "$work/stdout" 2> "$work/stderr" || rc=$?
    cat "$work/stdout" "$work/stderr"
    [[ $rc == "$want" ]] || fail "exit $rc, expected $want"
}
expect() { grep -Eq -- "$1" "$work/$2" || fail "no /$1/ in $2"; }
no_temp_files() {
    local left
    left=$(find "$work/out" -name '.*parkit-*' | head -1)
    [[ -z $left ]] || fail "temporary file left behind: $left"
}

case $scenario in
basic) # bodies saved under their names, byte for byte what curl gets
    run 0 "$base/bytes/0" "$base/bytes/1" "$base/bytes/70000" "$base/files/random.bin" \
        "$base/files/hello.txt" "$base/bytes/70000?again" "$base/" --out "$work/out" --workers 3
    expect "verified +yes" stdout
    expect "^200 +70000 .*/bytes/70000$" stdout
    for f in 0 1 70000 random.bin hello.txt; do
        path=bytes/$f
        [[ $f == *.* ]] && path=files/$f
        curl -sf -o "$work/want" "$base/$path"
        cmp "$work/want" "$work/out/$f" || fail "$f differs from curl's copy"
    done
    cmp "$work/out/70000" "$work/out/70000.1" || fail "second copy differs"
    [[ -f $work/out/index.html ]] || fail "no index.html for '/'"
    no_temp_files
    ;;
many) # the pool and the sequential run agree on 600 URLs
    for i in $(seq 600); do echo "$base/bytes/$((i * 37 % 5000))"; done > "$work/urls"
    { echo "# comment"; echo; } >> "$work/urls"
    run 0 --url-file "$work/urls" --workers 16 --compare --quiet
    expect "^Sequential +[0-9.]+ s$" stdout
    expect "^Concurrent +[0-9.]+ s +Speedup [0-9.]+x$" stdout
    expect "failed +0 of 600 URLs" stdout
    expect "verified +yes" stdout
    ;;
errors) # each failure named; the good URL still fetched; exit 1
    run 1 "$base/status/404" "$base/files/hello.txt" "$base/truncated/4000" \
        "http://127.0.0.1:1/refused" --retries 1 --backoff 0 --out "$work/out"
    expect "^404 .*/status/404  HTTP 404" stdout
    expect "^200 +6 .*hello.txt$" stdout
    expect "/truncated/4000  .*(transfer closed|partial)" stdout
    expect "^- .* 2  http://127.0.0.1:1/refused  .*(connect|Connection refused)" stdout
    expect "3 of 4 URLs failed" stderr
    [[ -f $work/out/hello.txt && ! -e $work/out/404 && ! -e $work/out/4000 ]] ||
        fail "only the good body may be saved"
    no_temp_files
    ;;
retry) # transient 503s retried with backoff until they succeed or attempts run out
    run 1 "$base/flaky/a/2" "$base/flaky/b/5" --retries 2 --backoff 0.01
    expect "^200 .* 3  .*/flaky/a/2$" stdout
    expect "^503 .* 3  .*/flaky/b/5  HTTP 503" stdout
    expect "failed +1 of 2 URLs; 4 retries" stdout
    ;;
backoff) # without Retry-After the waits are --backoff, then twice that (they were skipped)
    start=$(date +%s%N)
    run 1 "http://127.0.0.1:1/refused" --retries 2 --backoff 0.2
    took=$((($(date +%s%N) - start) / 1000000))
    expect "^- .* 3  http://127.0.0.1:1/refused  " stdout
    ((took >= 600)) || fail "retried after $took ms, not 0.2 + 0.4 s"
    ;;
redirect) # redirects followed up to the limit
    run 1 "$base/redirect/3" "$base/redirect/9" --max-redirects 5
    expect "^200 +5 .*/redirect/3$" stdout
    expect "/redirect/9  .*Maximum \(5\) redirects" stdout
    ;;
timeout) # a slow server is abandoned after --timeout, not waited for
    start=$(date +%s%N)
    run 1 "$base/slow/5000" "$base/slow/10" --timeout 0.3 --retries 0
    took=$((($(date +%s%N) - start) / 1000000))
    expect "/slow/5000  .*(timed out|Timeout)" stdout
    expect "^200 .*/slow/10$" stdout
    ((took < 3000)) || fail "took $took ms"
    ;;
silent) # a server that accepts and never answers: every one of 40 connections ends at --timeout
    for i in $(seq 40); do echo "$base/slow/30000?$i"; done > "$work/urls"
    start=$(date +%s%N)
    run 1 --url-file "$work/urls" --timeout 0.4 --retries 0 --workers 40
    took=$((($(date +%s%N) - start) / 1000000))
    [[ $(grep -Ec '/slow/30000\?[0-9]+ .*(timed out|Timeout)' "$work/stdout") == 40 ]] ||
        fail "not every request timed out"
    ((took < 5000)) || fail "took $took ms"
    ;;
noreplace) # an existing file stays unless --force
    echo old > "$work/out/hello.txt"
    run 1 "$base/files/hello.txt" --out "$work/out"
    expect "not replacing existing '.*/out/hello.txt'" stdout
    [[ $(cat "$work/out/hello.txt") == old ]] || fail "existing file replaced"
    run 0 "$base/files/hello.txt" --out "$work/out" --force
    [[ $(cat "$work/out/hello.txt") == hello ]] || fail "not replaced with --force"
    no_temp_files
    ;;
canary) # a corrupted saved file must fail verification
    run 3 "$base/bytes/1000" "$base/bytes/2000" --out "$work/out" --canary
    expect "verified +NO" stdout
    expect "verification failed for 1 URL; first: .*/bytes/1000: saved file does not read back" stderr
    run 3 "$base/bytes/1000" --canary
    expect "body length differs from Content-Length" stderr
    ;;
newdir) # --out and its missing parents are created (0777 less umask), as resize and files --make
    # create theirs; saved files get 0666 less umask like every other output, replaced ones too
    umask 022
    run 0 "$base/files/hello.txt" "$base/bytes/10" --out "$work/out/new/deeper"
    cmp "$work/root/hello.txt" "$work/out/new/deeper/hello.txt" || fail "hello.txt differs"
    modes=$(stat -c %a "$work/out/new" "$work/out/new/deeper" "$work/out/new/deeper/hello.txt" \
        "$work/out/new/deeper/10" | tr '\n' ' ')
    [[ $modes == "755 755 644 644 " ]] || fail "modes under umask 022: $modes"
    run 0 "$base/files/hello.txt" --out "$work/out/new/deeper" --force
    [[ $(stat -c %a "$work/out/new/deeper/hello.txt") == 644 ]] || fail "replaced file mode"
    umask 027
    run 0 "$base/bytes/10" --out "$work/out/other"
    modes=$(stat -c %a "$work/out/other" "$work/out/other/10" | tr '\n' ' ')
    [[ $modes == "750 640 " ]] || fail "modes under umask 027: $modes"
    no_temp_files
    ;;
singular) # counts of one read in the singular
    run 0 "$base/bytes/5" --workers 1
    expect "^# parkit fetch: 1 URL on 1 worker " stdout
    expect "^failed +0 of 1 URL; 0 retries$" stdout
    run 1 "$base/status/503" --workers 1 --retries 1 --backoff 0
    expect "failed +1 of 1 URL; 1 retry$" stdout
    expect "1 of 1 URL failed$" stderr
    ;;
csv) # --format csv: a header and one row per URL in the order given, read back by Python's csv
    # module (a comma in a URL and in an error are quoted); --quiet does not drop the rows
    run 1 "$base/bytes/7?a,b" "$base/status/404" "http://127.0.0.1:1/refused" "$base/files/hello.txt" \
        --retries 0 --format csv --quiet
    curl -s -o "$work/404" "$base/status/404" || true
    python3 - "$work/stdout" "$base" "$(stat -c %s "$work/404")" <<'EOF' || fail "CSV rows"
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
base, body404 = sys.argv[2], sys.argv[3]
assert rows[0] == ["url", "status", "bytes", "time_s", "attempts", "ok", "error"], rows[0]
got = [(r[0], r[1], r[2], r[4], r[5]) for r in rows[1:]]
want = [(base + "/bytes/7?a,b", "200", "7", "1", "yes"), (base + "/status/404", "404", body404, "1", "no"),
        ("http://127.0.0.1:1/refused", "0", "0", "1", "no"), (base + "/files/hello.txt", "200", "6", "1", "yes")]
assert got == want, got
assert rows[1][6] == "" and rows[2][6] == "HTTP 404" and rows[3][6], rows
assert all(float(r[3]) >= 0 for r in rows[1:])
EOF
    expect "2 of 4 URLs failed" stderr
    ;;
noverify) # --no-verify reads nothing back: a canary-free run says skipped, the record holds null
    run 0 "$base/bytes/10" --out "$work/out" --no-verify --record "$work/rec.jsonl"
    expect "^verified +skipped \(--no-verify\)$" stdout
    python3 -c 'import json, sys; r = json.loads(open(sys.argv[1]).readline()); assert r["verified"] is None and r["params"]["verify"] is False and len(r["result"]["urls"]) == 1, r' \
        "$work/rec.jsonl" || fail "record"
    run 0 "$base/bytes/10" --out "$work/out" --force --format json
    python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); assert r["verified"] is True and r["verification"]["urls_bad"] == 0 and r["result"]["urls"][0]["bytes"] == 10, r' \
        "$work/stdout" || fail "json"
    ;;
changing) # --compare on pages that change between requests: each run verified on its own, the
    # URLs that differ counted with a warning, exit 0; a failure only with --expect-identical
    run 0 "$base/uuid" "$base/bytes/100" "$base/uuid?b" "$base/uuid?c" --compare --out "$work/out" \
        --format json
    python3 - "$work/stdout" "$work/out" <<'PY' || fail "json or saved files"
import json, os, re, sys
r = json.load(open(sys.argv[1]))
assert r["verified"] is True and r["result"]["urls_differing"] == 3, r   # a new uuid per request
for name in ("uuid", "uuid.1", "uuid.2"):
    body = open(os.path.join(sys.argv[2], name), "rb").read()
    assert re.fullmatch(rb'\{"uuid": "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}"\}\n', body), body
assert len({open(os.path.join(sys.argv[2], n), "rb").read() for n in ("uuid", "uuid.1", "uuid.2")}) == 3
PY
    curl -sf -o "$work/want" "$base/bytes/100"
    cmp "$work/want" "$work/out/100" || fail "100 differs from curl's copy"
    expect "warning: 3 URLs got different bytes in the sequential and pooled runs \(first: $base/uuid\)" stderr
    run 0 "$base/uuid" "$base/bytes/100" --compare
    expect "^compare +1 of 2 URLs got different bytes in the two runs" stdout
    expect "^verified +yes \(lengths, saved files; each run on its own\)" stdout
    run 0 "$base/bytes/100" "$base/bytes/7" --compare
    expect "^compare +0 of 2 URLs got different bytes in the two runs$" stdout
    expect "^verified +yes \(lengths, saved files, runs agree\)" stdout
    run 3 "$base/uuid" "$base/bytes/100" --compare --expect-identical
    expect "verification failed for 1 URL; first: $base/uuid: sequential and pooled runs got different bytes" stderr
    run 2 "$base/bytes/100" --expect-identical
    expect "--expect-identical compares two runs: add --compare" stderr
    ;;
scale) # parkit scale sweeps fetch's worker count
    for i in $(seq 40); do echo "$base/slow/20?$i"; done > "$work/urls"
    "$parkit" scale fetch --workers 1,8 --reps 1 -- --url-file "$work/urls" --quiet \
        > "$work/stdout" 2> "$work/stderr" || fail "scale fetch failed"
    cat "$work/stdout"
    expect "^ +1 +1 +1 +40 .* yes  [0-9.]+/s$" stdout
    expect "^ +8 +8 +1 +40 .* yes  [0-9.]+/s$" stdout
    ;;
sigint) # Ctrl-C: transfers aborted within about a second, partial files removed, exit 1
    for i in $(seq 200); do echo "$base/slow/400?$i"; done > "$work/urls"
    "$parkit" fetch --url-file "$work/urls" --workers 4 --out "$work/out" --quiet \
        > "$work/stdout" 2> "$work/stderr" &
    p=$!
    sleep 1
    kill -INT $p
    start=$(date +%s%N)
    rc=0
    wait $p || rc=$?
    took=$((($(date +%s%N) - start) / 1000000))
    cat "$work/stdout" "$work/stderr"
    [[ $rc == 1 ]] || fail "exit $rc, expected 1"
    expect "interrupted after [0-9]+ of 200 URLs" stderr
    expect "verified +no \(interrupted\)" stdout
    ((took < 3000)) || fail "took $took ms to stop"
    no_temp_files
    ;;
*)
    fail "unknown scenario"
    ;;
esac
echo "ok ($scenario)"
