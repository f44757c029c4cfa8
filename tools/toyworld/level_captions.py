"""Rewrites a gendata dataset's captions so that they also name each fine value on an 8-level scale: a probe of
issue 14's question whether conditioning that carries exact appearance makes the text path carry it.

Every caption (the metadata caption and each caption variant) gets, for each fine value the scene has, with
probability --p, a phrase "<name> <level>" appended after a comma: hue, saturation and lightness of the
object colour within its named colour, tilt, outline (its width), tone (of the pattern) and period (of the
pattern), each level a digit 0-7: the value's position in the range toyworld.RandomScene draws it from
(toyworld.Scene.FineLevels with k = 8). E.g. "a small red star with no mark, hue 5, lightness 2, tilt 6".

Writes OUT/metadata.jsonl, OUT/captions.jsonl and OUT/vocabulary.txt (the input's words, the names and the
digits) and links OUT's images and the other files to the input's.

Usage: python level_captions.py --data DATA --out OUT [--p 0.7] [--seed 0]"""

import argparse
import json
import os
import random

LEVELS = 8
# The named colours' jitter ranges (toyworld/attributes.go colorTable): hue ±dh degrees, saturation
# [ds0, ds1], lightness ±dl.
JITTER = dict(red=(7, -0.12, 0.05, 0.05), orange=(6, -0.12, 0.05, 0.04), yellow=(6, -0.12, 0.05, 0.05),
              green=(14, -0.12, 0.05, 0.06), blue=(12, -0.12, 0.05, 0.06), purple=(8, -0.12, 0.05, 0.05),
              pink=(8, -0.12, 0.05, 0.04), white=(30, 0, 0.05, 0.03), black=(30, 0, 0.05, 0.03))
NAMES = ["hue", "saturation", "lightness", "tilt", "outline", "tone", "period"]


def level(v, lo, hi):
    """v's level 0..LEVELS-1 in [lo, hi] (toyworld.Scene.FineLevels)."""
    return min(LEVELS - 1, max(0, int((v - lo) / (hi - lo) * LEVELS)))


def levels(scene):
    """The scene's (name, level) pairs, in NAMES order, for the values it has."""
    f, out = scene["fine"], []
    dh, ds0, ds1, dl = JITTER[scene["color"]]
    j = f["color_jitter"]
    if scene["color"] not in ("white", "black"):
        out.append(("hue", level(j["dh"], -dh, dh)))
    out.append(("saturation", level(j["ds"], ds0, ds1)))
    out.append(("lightness", level(j["dl"], -dl, dl)))
    if scene["shape"] != "circle":
        out.append(("tilt", level(f["rotation"], -20, 20)))
    if f["outline"] != "none":
        out.append(("outline", level(f["outline_width"], 1, 3)))
    if scene["pattern"] != "plain":
        out.append(("tone", level(f["pattern_tone"], -0.5, 0.5)))
        out.append(("period", level(f["pattern_period"], 4.5, 7.5)))
    return out


def rewrite(caption, pairs, p, rng):
    """caption with each of pairs appended (", name level") with probability p."""
    kept = [f"{n} {v}" for n, v in pairs if rng.random() < p]
    return caption + "".join(", " + k for k in kept)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--p", type=float, default=0.7)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    rng = random.Random(a.seed)
    rows = [json.loads(l) for l in open(os.path.join(a.data, "metadata.jsonl"))]
    variants = [json.loads(l) for l in open(os.path.join(a.data, "captions.jsonl"))]
    with open(os.path.join(a.out, "metadata.jsonl"), "w") as m, open(os.path.join(a.out, "captions.jsonl"), "w") as c:
        for row, vs in zip(rows, variants):
            pairs = levels(row["scene"])
            row = dict(row, caption=rewrite(row["caption"], pairs, a.p, rng))
            m.write(json.dumps(row) + "\n")
            c.write(json.dumps([rewrite(v, pairs, a.p, rng) for v in vs]) + "\n")
    words = [w.strip() for w in open(os.path.join(a.data, "vocabulary.txt")) if w.strip()]
    words += [w for w in NAMES + [str(d) for d in range(LEVELS)] if w not in words]
    with open(os.path.join(a.out, "vocabulary.txt"), "w") as v:
        v.write("\n".join(words) + "\n")
    for name in os.listdir(a.data):
        dst = os.path.join(a.out, name)
        if name not in ("metadata.jsonl", "captions.jsonl", "vocabulary.txt") and not os.path.exists(dst):
            os.symlink(os.path.abspath(os.path.join(a.data, name)), dst)


if __name__ == "__main__":
    main()
