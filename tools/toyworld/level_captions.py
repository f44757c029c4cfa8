"""Rewrites a gendata dataset's captions so that they also name each fine value on a k-level scale: a probe of
issue 14's question whether conditioning that carries exact appearance makes the text path carry it.

Every caption (the metadata caption and each caption variant) gets, for each fine value the scene has, with
probability --p, a phrase "<name> <level>" appended after a comma: hue, saturation and lightness of the
object colour within its named colour, tilt, outline (its width), tone (of the pattern) and period (of the
pattern), each level the value's position in the range toyworld.RandomScene draws it from, as gendata's
--fine_levels K writes it (toyworld.Scene.FineLevels: 0 … K−1; the tone 0 … 2K−1, lighter tones from K).
E.g. "a small red star with no mark, hue 5, lightness 2, tilt 6".

(Session 21's run, docs/probes/2026-12-05-conditioning-paths.json, computed the levels here from a copy of the
colour table and scaled the signed tone over [-0.5, 0.5] in 8 levels; the levels now come from Go.)

Writes OUT/metadata.jsonl, OUT/captions.jsonl and OUT/vocabulary.txt (the input's words, the names and the
level numbers) and links OUT's images and the other files to the input's.

Usage: gendata --caption_variants 8 --fine_levels 8 --out DATA …
       python level_captions.py --data DATA --out OUT [--p 0.7] [--seed 0]"""

import argparse
import json
import os
import random

# The caption names of toyworld.FineLevels' fields, in the order they are appended.
NAMES = dict(hue="hue", saturation="saturation", lightness="lightness", rotation="tilt", outline_width="outline",
             pattern_tone="tone", pattern_period="period")


def levels(fine_levels):
    """The (name, level) pairs of one fine_levels.jsonl row, in NAMES order, for the values the scene has
    (toyworld.Scene.FineLevels marks the others -1)."""
    return [(name, fine_levels[field]) for field, name in NAMES.items() if fine_levels[field] >= 0]


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
    fine = [json.loads(l) for l in open(os.path.join(a.data, "fine_levels.jsonl"))]
    if not len(rows) == len(variants) == len(fine):
        raise SystemExit(f"level_captions: {len(rows)} examples, {len(variants)} caption lists and {len(fine)} "
                         "fine_levels rows: expected one each (run gendata with --caption_variants and --fine_levels)")
    top = max(v for f in fine for v in f.values() if isinstance(v, int))
    with open(os.path.join(a.out, "metadata.jsonl"), "w") as m, open(os.path.join(a.out, "captions.jsonl"), "w") as c:
        for row, vs, fl in zip(rows, variants, fine):
            pairs = levels(fl)
            row = dict(row, caption=rewrite(row["caption"], pairs, a.p, rng))
            m.write(json.dumps(row) + "\n")
            c.write(json.dumps([rewrite(v, pairs, a.p, rng) for v in vs]) + "\n")
    words = [w.strip() for w in open(os.path.join(a.data, "vocabulary.txt")) if w.strip()]
    words += [w for w in list(NAMES.values()) + [str(d) for d in range(top + 1)] if w not in words]
    with open(os.path.join(a.out, "vocabulary.txt"), "w") as v:
        v.write("\n".join(words) + "\n")
    for name in os.listdir(a.data):
        dst = os.path.join(a.out, name)
        if name not in ("metadata.jsonl", "captions.jsonl", "vocabulary.txt") and not os.path.exists(dst):
            os.symlink(os.path.abspath(os.path.join(a.data, name)), dst)


if __name__ == "__main__":
    main()
