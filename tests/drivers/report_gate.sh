#!/usr/bin/env bash
# report_gate.sh PARKIT SCENARIO [RECORDS]: `parkit report`'s CI verdict, JUnit and HTML on
# records the tests make themselves (mkrecords.sh, into RECORDS by the ctest fixture, read only
# here; else into the work directory): fixed times, so every p-value is exact and known.
#   gate      exit 4 on a 30% slowdown, 0 on noise, on a speedup and below the threshold;
#             provenance named key by key; usage errors; what outranks 4
#   junit     the XML read back: counts, messages, escaping, written atomically
#   html      the page read back: well formed, no script, nothing fetched, escaped; tidy
#   chromium  the page rendered by headless Chromium to a PNG, without a console error
set -euo pipefail
parkit=$1 scenario=$2 in=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh" "report-$scenario" report
if [[ -z $in ]]; then
    in=$work/in
    sh "$here/mkrecords.sh" "$in"
fi
base=$in/gate_base.jsonl
# a file name no markup may take as markup, with a byte that is not UTF-8
odd=$(printf '%s/x <b>&amp;"\x27\xff.jsonl' "$work")
cp "$base" "$odd"
# grep_in FILE PATTERN: FILE holds the (fixed) text
grep_in() { grep -qF -- "$2" "$1" || fail "$(basename "$1") lacks: $2"; }
no_temp() { [[ $(ls -A "$work/out") == "$1" ]] || fail "left in out/: $(ls -A "$work/out")"; }
mkdir "$work/out"

case $scenario in
gate)
    run 4 "$in/gate_slow.jsonl" --baseline "$base" --fail-on-regression 10
    grep_in "$work/stderr" "sumsq:range strong size 1000000 2x1 (group 1): regression: median 5.2 s against 4 s in the baseline (+30.0%), Mann-Whitney p = 0.007937 (exact, 5 and 5 repetitions) < alpha 0.05"
    grep_in "$work/stderr" "provenance that differs: machine.cpu_model 'CPU A' -> 'CPU B <&> \"q\"'; machine.governor '(absent)' -> 'powersave'"
    grep_in "$work/stderr" "regression: 3 of 3 points slower by at least 10% with p < 0.05 (exit 4)"
    grep_in "$work/stdout" "machine.governor: '(absent)' (baseline) -> 'powersave'"
    run 4 "$in/gate_slow.jsonl" --baseline "$base" --fail-on-regression 29.9
    run 0 "$in/gate_slow.jsonl" --baseline "$base" --fail-on-regression 30.1 # below PCT
    run 0 "$in/gate_slow.jsonl" --baseline "$base" --fail-on-regression 10 --alpha 0.005
    grep_in "$work/stdout" "two-sided, alpha = 0.005)"
    [[ $(grep -c 'no significant change' "$work/stdout") == 3 ]] || fail "alpha not applied"
    run 0 "$in/gate_slow.jsonl" --baseline "$base" # no gate: the report alone
    [[ ! -s $work/stderr ]] || fail "no gate, yet stderr"
    run 0 "$in/gate_noise.jsonl" --baseline "$base" --fail-on-regression 10
    [[ $(grep -c 'no significant change' "$work/stdout") == 3 ]] || fail "noise judged significant"
    run 0 "$in/gate_fast.jsonl" --baseline "$base" --fail-on-regression 10
    [[ $(grep -c -- '-30.0% .*faster' "$work/stdout") == 3 ]] || fail "speedup not faster"
    # a faster point's provenance is named too, every key (the 8-worker point has no match)
    run 0 "$base" --baseline "$in/gate_slow.jsonl" --fail-on-regression 10
    grep_in "$work/stdout" "# group 1 against baseline group B1 (not slower); provenance that differs:"
    grep_in "$work/stdout" "#   machine.governor: 'powersave' (baseline) -> '(absent)'"
    run 0 "$in/gate_small.jsonl" --baseline "$base" --fail-on-regression 10 # significant, 5%
    run 4 "$in/gate_small.jsonl" --baseline "$base" --fail-on-regression 4.5
    # the same gate with the JSON view says which points regressed
    run 4 "$in/gate_slow.jsonl" --baseline "$base" --fail-on-regression 10 --format json
    grep_in "$work/stdout" '"regressed": true'
    # a bad record (exit 1) outranks a regression: the gate judged incomplete data
    cat "$in/gate_slow.jsonl" "$in/bad.jsonl" > "$work/slow_bad.jsonl"
    run 1 "$work/slow_bad.jsonl" --baseline "$base" --fail-on-regression 10
    # nothing in common: no verdict to give
    run 1 "$in/weak.jsonl" --baseline "$base" --fail-on-regression 10
    grep_in "$work/stderr" "no point is in both the records and the baseline"
    # usage errors name the option and the value
    for bad in 0 -5 abc nan 1e7; do
        run 2 "$in/gate_slow.jsonl" --baseline "$base" --fail-on-regression "$bad"
        grep_in "$work/stderr" "--fail-on-regression expects"
        grep_in "$work/stderr" "got '$bad'"
    done
    for bad in 0 1 1.5 -0.1 x; do
        run 2 "$in/gate_slow.jsonl" --baseline "$base" --alpha "$bad"
        grep_in "$work/stderr" "--alpha expects"
        grep_in "$work/stderr" "got '$bad'"
    done
    run 2 "$in/gate_slow.jsonl" --fail-on-regression 10
    grep_in "$work/stderr" "--fail-on-regression 10 needs --baseline FILE"
    run 2 "$in/gate_slow.jsonl" --alpha 0.01
    grep_in "$work/stderr" "--alpha 0.01 needs --baseline FILE"
    run 2 "$in/gate_slow.jsonl" --junit "$work/out/j.xml"
    grep_in "$work/stderr" "--junit $work/out/j.xml needs --baseline FILE"
    run 2 "$in/gate_slow.jsonl" --baseline "$base" --html "$base"
    grep_in "$work/stderr" "--html '$base' would overwrite --baseline"
    run 2 "$in/gate_slow.jsonl" --baseline "$base" --html "$work/out/x" --junit "$work/out/x"
    grep_in "$work/stderr" "would overwrite"
    no_temp ""
    ;;
junit)
    run 4 "$in/gate_slow.jsonl" --baseline "$odd" --fail-on-regression 10 --junit "$work/out/ci.xml"
    run 0 "$in/gate_noise.jsonl" --baseline "$base" --fail-on-regression 10 --junit "$work/out/noise.xml"
    # without the gate, any significant slowdown fails its case, and the status stays 0
    run 0 "$in/gate_small.jsonl" --baseline "$base" --junit "$work/out/small.xml"
    # two baseline groups of one experiment (two hosts), and two groups in the records: every
    # case keeps a name of its own
    run 0 "$in/ideal.jsonl" --baseline "$in/mixed.jsonl" --junit "$work/out/hosts.xml"
    run 0 "$in/mixed.jsonl" --baseline "$in/ideal.jsonl" --junit "$work/out/groups.xml"
    no_temp "$(printf 'ci.xml\ngroups.xml\nhosts.xml\nnoise.xml\nsmall.xml')"
    python3 - "$work/out" "$odd" <<'PY'
import os, sys, xml.etree.ElementTree as ET
out, odd = sys.argv[1], os.fsdecode(sys.argv[2].encode("utf-8", "surrogateescape"))
def suite(name):
    s = ET.parse(os.path.join(out, name)).getroot()
    assert s.tag == "testsuite", s.tag
    cases = s.findall("testcase")
    assert int(s.get("tests")) == len(cases), (s.attrib, len(cases))
    assert int(s.get("failures")) == len(s.findall("testcase/failure")), s.attrib
    assert int(s.get("skipped")) == len(s.findall("testcase/skipped")), s.attrib
    return s, cases
s, cases = suite("ci.xml")
assert (s.get("tests"), s.get("failures"), s.get("skipped")) == ("4", "3", "1"), s.attrib
names = [c.get("name") for c in cases]
assert names == ["sumsq:range strong size 1000000 %dx1" % p for p in (1, 2, 4, 8)], names
f = cases[1].find("failure")
msg = f.get("message")
for want in ["+30.0%", "p = 0.007937", "machine.cpu_model 'CPU A' -> 'CPU B <&> \"q\"'",
             "machine.governor '(absent)' -> 'powersave'", "threshold 10%"]:
    assert want in msg, (want, msg)
assert f.text == msg, f.text
assert cases[3].find("skipped") is not None and cases[3].find("failure") is None
# the baseline's odd name: escaped, its byte that is not UTF-8 replaced
prop = {p.get("name"): p.get("value") for p in s.iter("property")}
assert prop["baseline"] == odd.replace("\udcff", "\ufffd"), (prop, odd)
assert prop["alpha"] == "0.05" and prop["fail_on_regression_pct"] == "10", prop
s, cases = suite("noise.xml")
assert (s.get("tests"), s.get("failures"), s.get("skipped")) == ("3", "0", "0"), s.attrib
assert all("no significant change" in c.find("system-out").text for c in cases)
s, cases = suite("small.xml")
assert (s.get("tests"), s.get("failures")) == ("3", "3"), s.attrib
assert "+5.0%" in cases[0].find("failure").get("message")
for name, want in (("hosts.xml", "1x1 vs baseline group B2"), ("groups.xml", "1x1 (group 2)")):
    s, cases = suite(name)
    names = [c.get("name") for c in cases]
    assert len(names) == 8 and len(set(names)) == 8, names
    assert "sumsq:range strong size 1000000 " + want in names, names
print("junit ok")
PY
    # a directory is refused before anything is read; an unwritable place leaves nothing
    run 2 "$in/gate_slow.jsonl" --baseline "$base" --junit "$work/out"
    run 1 "$in/gate_slow.jsonl" --baseline "$base" --junit "$work/no/such/dir/ci.xml"
    grep_in "$work/stderr" "--junit"
    ;;
html)
    # a sweep's own words (experiment id, a command line) are text, never markup
    sed 's|"experiment":"synthetic"|"experiment":"<i>exp</i> \&amp; co","command":["python3","-c","print(\\"<script>\\")"]|' \
        "$in/weak.jsonl" > "$work/weak.jsonl"
    run 4 "$in/gate_slow.jsonl" "$work/weak.jsonl" --baseline "$odd" --fail-on-regression 10 \
        --html "$work/out/r.html"
    run 0 "$in/ideal.jsonl" --html "$work/out/plain.html"
    no_temp "$(printf 'plain.html\nr.html')"
    python3 - "$work/out/r.html" "$work/out/plain.html" <<'PY'
import sys
from html.parser import HTMLParser
VOID = {"meta", "br", "hr", "img", "input", "link", "wbr", "source", "col", "area", "base",
        "embed", "param", "track"}
SVG_EMPTY = {"line", "circle", "rect", "polyline", "path"}
class Check(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.tags, self.text = [], [], []
    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)
    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        assert tag in VOID or tag in SVG_EMPTY or tag == "rect", tag
    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-5:], self.getpos())
        self.stack.pop()
    def handle_data(self, data):
        self.text.append(data)
def check(path):
    p = Check()
    p.feed(open(path, encoding="utf-8").read())
    p.close()
    assert not p.stack, p.stack
    names = [t for t, _ in p.tags]
    assert "script" not in names and "iframe" not in names and "object" not in names, names
    for t, a in p.tags:
        for k in ("src", "href", "xlink:href", "action"):
            v = a.get(k) or ""
            assert not v.lower().startswith(("http:", "https:", "//")), (t, a)
        assert not any(k.startswith("on") for k in a), (t, a)
    metas = [a for t, a in p.tags if t == "meta"]
    assert any(a.get("name") == "viewport" and "width=device-width" in a.get("content", "")
               for a in metas), metas
    return p, names, "".join(p.text)
raw = open(sys.argv[1], encoding="utf-8").read().lower()
assert "url(" not in raw and "@import" not in raw and "<link" not in raw, "something fetched"
p, names, text = check(sys.argv[1])
assert names.count("svg") == 6, names.count("svg")  # three plots per group, two groups
assert "b" not in names and "i" not in names, "user text became markup"
assert "experiment <i>exp</i> &amp; co" in text, "the experiment id is not shown as text"
assert 'command ["python3","-c","print(\\"<script>\\")"]' in text, "the command line is not text"
assert 'x <b>&amp;"\'\ufffd.jsonl' in text, "the odd file name is not shown as text"
for want in ["FAIL (exit 4): 3 of 3 points slower by at least 10%", "CPU B <&> \"q\"",
             "powersave", "Predictions of the model, not measurements", "(model)",
             "Amdahl model (prediction)", "Gustafson model (prediction)", "Full provenance"]:
    assert want in text, want
assert "predicted" in {a.get("class") for t, a in p.tags if t == "rect"}
p, names, text = check(sys.argv[2])
assert names.count("svg") == 3 and "Verdict" not in text
print("html ok")
PY
    # a write that fails (a full device) is exit 1, named
    run 1 "$in/ideal.jsonl" --html /dev/full
    grep_in "$work/stderr" "--html"
    if command -v tidy >/dev/null; then
        for f in r plain; do
            tidy -errors -q "$work/out/$f.html" || fail "tidy: $f.html has errors or warnings"
        done
    else
        echo "tidy not installed: HTML validation skipped"
    fi
    ;;
chromium)
    browser=$(command -v chromium || command -v chromium-browser || true)
    [[ -n $browser ]] || { echo "SKIP: chromium is not installed"; exit 77; }
    run 4 "$in/gate_slow.jsonl" "$in/weak.jsonl" --baseline "$base" --fail-on-regression 10 \
        --html "$work/out/r.html"
    # one start (the slow part), a profile of its own, the phone's width; console messages
    # come through the log at --v=0 as "CONSOLE(...)" or "Console" lines
    rc=0
    timeout 60 "$browser" --headless --no-sandbox --disable-gpu --no-first-run \
        --user-data-dir="$work/profile" --enable-logging=stderr --v=0 \
        --screenshot="$work/r.png" --window-size=412,900 "file://$work/out/r.html" \
        > "$work/chromium.log" 2>&1 || rc=$?
    [[ $rc == 0 ]] || { cat "$work/chromium.log"; fail "chromium exit $rc"; }
    if grep -iE 'CONSOLE|Uncaught|Refused to|net::ERR' "$work/chromium.log"; then
        fail "chromium logged a console error or a blocked load"
    fi
    [[ $(head -c 8 "$work/r.png" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]] ||
        fail "r.png is not a PNG"
    size=$(stat -c %s "$work/r.png")
    (( size > 10000 && size < 5000000 )) || fail "r.png has an implausible size: $size bytes"
    python3 - "$work/r.png" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read(32)
w, h = struct.unpack(">II", b[16:24])
assert (w, h) == (412, 900), (w, h)
PY
    echo "chromium ok: $size bytes"
    ;;
*) fail "unknown scenario" ;;
esac
