#!/usr/bin/python3
"""Two directories of lossless (PNG) thumbnails compared image by image.

usage: resize_compare.py DIR_A DIR_B [--json OUT.json]

Files are paired by base name (name without extension; .png files only). A pair must have the
same size, else it is listed as a size mismatch and not compared. Both images are converted to
RGBA if either has alpha (alpha channel or tRNS), else to RGB (grey and palette included); with
alpha the colour is premultiplied by alpha/255, as ../shared/anchors/resize/quality.py does, so
colour under alpha=0 does not count. Per pair: PSNR (peak 255, MSE over all channels, 99 dB
when identical, as quality.py) and the max absolute error. Printed as a markdown table (mean,
median and min PSNR, worst max error), and written to --json with every pair.
"""
import argparse
import json
import os
import sys

import numpy as np
from PIL import Image


def pngs(d):
    return {os.path.splitext(n)[0]: os.path.join(d, n)
            for n in os.listdir(d) if n.lower().endswith(".png")}


def has_alpha(im):
    return im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info


def to_float(im, mode):
    a = np.asarray(im.convert(mode), dtype=np.float64)
    if mode == "RGBA":
        a = a.copy()
        a[:, :, :3] *= a[:, :, 3:] / 255.0
    return a


def compare(pa, pb):
    a, b = Image.open(pa), Image.open(pb)
    if a.size != b.size:
        return {"size_a": list(a.size), "size_b": list(b.size)}
    mode = "RGBA" if has_alpha(a) or has_alpha(b) else "RGB"
    d = to_float(a, mode) - to_float(b, mode)
    mse = float(np.mean(d * d))
    return {"psnr": 99.0 if mse == 0 else 10 * np.log10(255.0 ** 2 / mse),
            "maxabs": float(np.max(np.abs(d))), "size": list(a.size), "mode": mode}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--json")
    args = ap.parse_args()
    fa, fb = pngs(args.a), pngs(args.b)
    common = sorted(fa.keys() & fb.keys())
    pairs = {k: compare(fa[k], fb[k]) for k in common}
    ok = {k: r for k, r in pairs.items() if "psnr" in r}
    bad = {k: r for k, r in pairs.items() if "psnr" not in r}
    na, nb = os.path.basename(args.a.rstrip("/")), os.path.basename(args.b.rstrip("/"))
    summary = {"a": args.a, "b": args.b, "pairs": len(ok), "size_mismatch": len(bad),
               "only_a": len(fa.keys() - fb.keys()), "only_b": len(fb.keys() - fa.keys())}
    cells = [""] * 5
    if ok:
        p = np.array([r["psnr"] for r in ok.values()])
        worst = min(ok, key=lambda k: ok[k]["psnr"])
        summary.update(identical=int((p == 99.0).sum()), mean_psnr=float(p.mean()),
                       median_psnr=float(np.median(p)), min_psnr=float(p.min()), min_image=worst,
                       max_maxabs=max(r["maxabs"] for r in ok.values()))
        s = summary
        cells = [s["identical"], f"{s['mean_psnr']:.2f}", f"{s['median_psnr']:.2f}",
                 f"{s['min_psnr']:.2f} ({worst})", f"{s['max_maxabs']:.0f}"]
    print("| A | B | pairs | identical | mean PSNR dB | median | min (image) | worst max-abs "
          "| size mismatch | only A / only B |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    print("| " + " | ".join(str(c) for c in [na, nb, len(ok), *cells, len(bad),
                                              f"{summary['only_a']} / {summary['only_b']}"]) + " |")
    for k, r in bad.items():
        print(f"size mismatch: {k}: {r['size_a'][0]}x{r['size_a'][1]} in A, "
              f"{r['size_b'][0]}x{r['size_b'][1]} in B")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"summary": summary, "per_image": pairs}, f, indent=1)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
