#!/usr/bin/env python3
"""The front door, checked from its declarations: for every command (and `scale grain`),
every declared option is in --help, every shared option it does not declare is refused with
exit 2, and `--format csv` either gives a header and rows that a CSV parser reads back (run on a
small invocation below) or is refused with exit 2.

Usage: check_options.py PARKIT [COMMAND...]   (default: every command of `parkit --help`)
"""
import csv
import io
import json
import os
import re
import subprocess
import sys

# A small run of each command that honours --format csv (seconds at most).
CSV_RUNS = {
    "sumsq": ["--range", "1000", "--reps", "2", "--warmup", "0"],
    "factsum": ["100", "200", "--reps", "1", "--warmup", "0"],
    "fib": ["100", "200", "--reps", "1", "--warmup", "0"],
    "transform": ["-n", "1000", "--chunk", "100", "--reps", "1", "--warmup", "0"],
    "api": ["--tasks", "3", "--workers", "2", "--latency", "0"],
    "pipeline": ["--items", "5", "--stages", "a:0:1,b:0:1"],
    "race": ["-t", "2", "--increments", "1000"],
    "scale": ["sumsq", "--range", "1000", "-t", "1", "--reps", "1", "--warmup", "0"],
    "scale grain": ["--chunk", "1,8", "--total", "1000", "--reps", "1"],
    "advise": ["true"],
    "info": [],
    # no server without a network: a refused connection fails fast, its row still printed
    "fetch": ["http://127.0.0.1:1/", "--retries", "0"],
    "report": ["check_options_report.jsonl"],
    "files": ["check_options_files", "-w", "2"],
}
# What a CSV run needs made first, in the working directory: report reads records (a fresh file,
# since --record appends), here from two real sumsq runs.
CSV_SETUP = {
    "report": ("check_options_report.jsonl",
               [["sumsq", "--range", "1000", "-t", str(t), "--reps", "2", "--warmup", "0",
                 "--format", "json", "--record", "check_options_report.jsonl"] for t in (1, 2)]),
    # files reads a set made by files --make; the manifest is what is removed (the next --make
    # then needs --force to write over the reports it left)
    "files": ("check_options_files/parkit-manifest.json",
              [["files", "--make", "check_options_files", "--count", "2", "--rows", "3",
                "--force"]]),
}
# The exit status of a CSV run where it is not 0 (fetch: the URL failed).
CSV_RC = {"fetch": 1}
SHARED_VALUE = {"threads": "1", "reps": "1", "warmup": "0", "record": "x.jsonl",
                "format": "json", "no-verify": None}
SHARED = list(SHARED_VALUE)


def run(parkit, args, **kw):
    return subprocess.run([parkit] + args, capture_output=True, text=True, timeout=120, **kw)


def commands(parkit):
    out = run(parkit, ["--help"]).stdout
    block = out.split("Commands:", 1)[1].split("\n\n", 1)[0]
    names = [m.group(1) for m in re.finditer(r"^  (\w+) ", block, re.M)]
    return names + ["scale grain"]


def check(parkit, name, errors):
    words = name.split()
    r = run(parkit, words + ["--options-json"])
    if r.returncode != 0:
        errors.append(f"{name}: --options-json exit {r.returncode}: {r.stderr.strip()}")
        return
    spec = json.loads(r.stdout)
    helptext = run(parkit, words + ["--help"]).stdout
    own = {o["name"] for o in spec["options"]}
    for o in spec["options"] + spec["shared"]:
        if o["hidden"]:
            continue
        flag = ("-%s, " % o["short"] if "short" in o else "") + "--" + o["name"]
        if not re.search(re.escape(flag) + r"\b", helptext):
            errors.append(f"{name}: '{flag}' is declared but not in --help")
    taken = own | {o["name"] for o in spec["shared"]}
    for s in SHARED:
        if s in taken:
            continue
        args = words + ["--" + s] + ([SHARED_VALUE[s]] if SHARED_VALUE[s] else [])
        r = run(parkit, args)
        if r.returncode != 2 or ("--" + s) not in r.stderr:
            errors.append(f"{name}: undeclared shared option --{s} gave exit {r.returncode}, "
                          f"stderr {r.stderr.strip()!r}")
    if "format" not in taken:
        return
    if "csv" not in spec["formats"]:
        r = run(parkit, words + ["--format", "csv"])
        if r.returncode != 2 or "csv" not in r.stderr:
            errors.append(f"{name}: --format csv not honoured, yet exit {r.returncode}")
        return
    if name not in CSV_RUNS:
        errors.append(f"{name}: honours --format csv but has no small run in check_options.py")
        return
    if name in CSV_SETUP:
        made, setup = CSV_SETUP[name]
        if os.path.exists(made):
            os.remove(made)
        for args in setup:
            r = run(parkit, args)
            if r.returncode != 0:
                errors.append(f"{name}: setup {' '.join(args)} exit {r.returncode}")
                return
    r = run(parkit, words + ["--format", "csv"] + CSV_RUNS[name])
    if name in CSV_SETUP:
        os.remove(CSV_SETUP[name][0])
    rows = list(csv.reader(io.StringIO(r.stdout)))
    if r.returncode != CSV_RC.get(name, 0) or len(rows) < 2:
        errors.append(f"{name}: --format csv exit {r.returncode}, {len(rows)} rows: "
                      f"{r.stderr.strip()!r}")
        return
    widths = {len(row) for row in rows}
    if len(widths) != 1 or not all(rows[0]):
        errors.append(f"{name}: CSV rows of widths {sorted(widths)} or an empty header name")


def main():
    parkit = sys.argv[1]
    names = sys.argv[2:] or commands(parkit)
    errors = []
    for name in names:
        check(parkit, name, errors)
        print(f"checked {name}")
    for e in errors:
        print("FAIL", e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
