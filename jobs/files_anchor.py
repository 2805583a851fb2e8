#!/usr/bin/env python3
"""Python anchor for `parkit files`: the tutorials' way to summarise a folder of CSV reports, the
csv module in a ThreadPoolExecutor, doing the same work as parkit: every *.csv file parsed
strictly (header, equal row lengths, UTF-8), a column is numeric when its first data row is a
decimal number (then every row must be), and per numeric column count, sum, mean, min and max.
math.fsum gives the correctly rounded exact sum, the same double parkit's exact accumulator
rounds to, so --check can compare parkit's --summary file bit for bit.

usage: files_anchor.py DIR [--workers W] [--reps R] [--check SUMMARY.csv]
Prints one JSON object: {"files", "rows", "workers", "sequential_s": [...], "pooled_s": [...],
"sequential_median_s", "pooled_median_s", "failed", "checked", "mismatches"}.
"""
import argparse
import csv
import glob
import json
import math
import os
import re
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor

DECIMAL = re.compile(r"[0-9+\-.eE]+\Z")  # what parkit accepts: no spaces, inf, nan, hex, "_"


def number(text):
    if not DECIMAL.match(text):
        return None
    try:
        v = float(text)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def summarise(path):
    """(rows, {column: (count, sum, min, max) or (count,)}) or raises ValueError."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f, strict=True)
        header = next(reader)
        n = len(header)
        kinds = [None] * n
        values = [[] for _ in range(n)]
        counts = [0] * n
        rows = 0
        for row in reader:
            if len(row) != n:
                raise ValueError(f"{path}:{reader.line_num}: {len(row)} fields, header {n}")
            for j, text in enumerate(row):
                if kinds[j] is None:
                    kinds[j] = "number" if number(text) is not None else "text"
                if kinds[j] == "number":
                    v = number(text)
                    if v is None:
                        raise ValueError(f"{path}:{reader.line_num}:{j + 1}: bad number {text!r}")
                    values[j].append(v)
                counts[j] += 1
            rows += 1
    stats = {}
    for j, name in enumerate(header):
        if kinds[j] == "number":
            stats[name] = (counts[j], math.fsum(values[j]), min(values[j]), max(values[j]))
        else:
            stats[name] = (counts[j],)
    return rows, stats


def safe(path):
    try:
        return summarise(path)
    except (OSError, ValueError, UnicodeDecodeError, csv.Error, StopIteration) as e:
        return e


def check(summary_path, paths, results):
    """Compares parkit's --summary (per file and number column: count, sum_hex, min, max)."""
    mine = {os.path.basename(p): r for p, r in zip(paths, results)}
    checked = mismatches = 0
    with open(summary_path, newline="", encoding="utf-8") as f:
        for line in csv.DictReader(f):
            if line["file"] == "*" or line["status"] != "ok" or line["type"] != "number":
                continue
            r = mine.get(line["file"])
            got = None if r is None or isinstance(r, Exception) else r[1].get(line["column"])
            want = (int(line["count"]), float.fromhex(line["sum_hex"]), float(line["min"]),
                    float(line["max"]))
            checked += 1
            if got != want:
                mismatches += 1
                print(f"mismatch {line['file']} {line['column']}: python {got}, parkit {want}",
                      file=sys.stderr)
    return checked, mismatches


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--check")
    a = ap.parse_args()
    paths = sorted(glob.glob(os.path.join(a.dir, "*.csv")))
    for p in paths:  # page cache warm-up, as parkit's --warmup
        with open(p, "rb") as f:
            while f.read(1 << 20):
                pass
    seq, pooled, results = [], [], None
    for _ in range(a.reps):
        t0 = time.perf_counter()
        results = [safe(p) for p in paths]
        seq.append(time.perf_counter() - t0)
    for _ in range(a.reps):
        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=a.workers) as ex:
            pooled_results = list(ex.map(safe, paths))
        pooled.append(time.perf_counter() - t0)
    same = [repr(x) for x in pooled_results] == [repr(x) for x in results]
    out = {
        "files": len(paths),
        "rows": sum(r[0] for r in results if not isinstance(r, Exception)),
        "failed": sum(isinstance(r, Exception) for r in results),
        "workers": a.workers,
        "sequential_s": seq,
        "pooled_s": pooled,
        "sequential_median_s": statistics.median(seq),
        "pooled_median_s": statistics.median(pooled),
        "pooled_equals_sequential": same,
    }
    if a.check:
        out["checked"], out["mismatches"] = check(a.check, paths, results)
    print(json.dumps(out))
    return 1 if out.get("mismatches") or not same else 0


if __name__ == "__main__":
    sys.exit(main())
