#!/usr/bin/env python3
"""Checks `parkit report --format json` on the sleep calibration runs of `parkit scale`: the
serial set (the same sleep at every point) must come out with efficiency 1/p and an Amdahl
serial fraction near 1, the parallel set (the sleep divided by the workers) with efficiency 1
and a serial fraction near 0. Sleeps do not depend on the machine's load, so the tolerances can
be tight (10%, for a loaded machine's late wake-ups); what is left is the harness's overhead."""
import json
import sys

report = json.load(open(sys.argv[1]))
groups = {g["serial"]: g for g in report["groups"] if g["kernel"] == "sleep"}
assert set(groups) == {True, False}, f"want a serial and a parallel sleep group, got {list(groups)}"
for serial, g in groups.items():
    f = g["fit"]["serial_fraction"]
    print(f"serial={serial}: f = {f:.4f}, efficiencies",
          [round(p["efficiency"], 4) for p in g["points"]])
    assert [p["workers"] for p in g["points"]] == [1, 2, 4], g["points"]
    for p in g["points"]:
        want = 1 / p["workers"] if serial else 1.0
        assert abs(p["efficiency"] - want) < 0.10 * want, (p["workers"], p["efficiency"], want)
    assert (abs(f - 1) if serial else abs(f)) < 0.10, f
print("ok")
