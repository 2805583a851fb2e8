#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""check_report_csv.py PARKIT DIR: `parkit report --format csv` is RFC 4180 CSV.

Writes records into DIR whose text fields need quoting (a factsum size list "1000,2000,3000", a
compiler holding a quote, a comma and a bare CR, flags holding a comma), runs the report with a
slower baseline (so compare rows with a provenance diff appear too) and reads the output with
Python's csv module, an independent reader: the header comes first, every row has as many
fields as the header, and each text field comes back exactly as recorded."""
import csv
import io
import json
import os
import subprocess
import sys

parkit, outdir = sys.argv[1], sys.argv[2]
os.makedirs(outdir, exist_ok=True)
COMPILER = 'gcc "x", 12\rbeta'  # a bare CR: must be quoted like LF
FLAGS = "-O2,-g"
MPI = "Open MPI\r4.1"  # a bare CR and nothing else that needs quoting


def record(command, params, times, compiler):
    return json.dumps({
        "schema": "parkit.record/1", "command": command, "params": params, "verified": True,
        "timing": {"reps_s": times},
        "provenance": {"git_commit": "abc1234", "compiler": compiler, "c_flags": FLAGS,
                       "mpi": MPI, "machine": {"host": "vm", "warnings": []}}})


def write(name, compiler, scale):
    with open(os.path.join(outdir, name), "w") as f:
        for p in (1, 2, 4):
            t = [scale * 8.0 / p * j for j in (1, 1.01, 0.99, 1.02, 0.98)]
            f.write(record("factsum", {"n": [1000, 2000, 3000], "threads": p}, t, compiler) + "\n")


write("now.jsonl", COMPILER, 1.5)
write("base.jsonl", "gcc 12", 1.0)
run = subprocess.run([parkit, "report", os.path.join(outdir, "now.jsonl"), "--baseline",
                      os.path.join(outdir, "base.jsonl"), "--format", "csv"],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
if run.returncode != 0:
    sys.exit("parkit report exited %d: %s" % (run.returncode, run.stderr.decode()))
text = run.stdout.decode()
try:
    rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
except csv.Error as e:
    sys.exit("not valid CSV: %s\n%s" % (e, text))
header = rows[0]
fails = []
if header[:3] != ["kind", "group", "kernel"]:
    fails.append("first row is not the header: %r" % header)
bad_width = [r for r in rows if len(r) != len(header)]
if bad_width:
    fails.append("%d rows do not have %d fields, e.g. %r" % (len(bad_width), len(header),
                                                          bad_width[0]))
recs = [dict(zip(header, r)) for r in rows[1:] if len(r) == len(header)]
kinds = sorted(set(r["kind"] for r in recs))
if kinds != ["compare", "measured", "model"]:
    fails.append("row kinds %r, expected compare, measured and model" % kinds)
for r in recs:
    if r["size"] != "1000,2000,3000":
        fails.append("size %r" % r["size"])
    if r["kind"] != "model" and r["point_size"] != "1000,2000,3000":
        fails.append("point_size %r in a %s row" % (r["point_size"], r["kind"]))
    if r["compiler"] != COMPILER or r["c_flags"] != FLAGS or r["mpi"] != MPI:
        fails.append("compiler %r, flags %r, mpi %r" % (r["compiler"], r["c_flags"], r["mpi"]))
    if r["kind"] == "compare" and r["verdict"] == "slower" and \
            "compiler: 'gcc 12' (baseline) -> 'gcc \"x\", 12\rbeta'" not in r["provenance_diff"]:
        fails.append("provenance_diff %r" % r["provenance_diff"])
if not any(r["kind"] == "compare" and r["verdict"] == "slower" for r in recs):
    fails.append("no compare row says slower")
if fails:
    sys.exit("\n".join(fails[:10]) + "\n---\n" + text)
print("ok: %d rows of %d fields" % (len(rows), len(header)))
