"""Draws the training curves (VAE L1 and UNet epsilon MSE against step) from WORK's logs into a PNG,
with PIL only (no plotting library needed)."""

import argparse
import json
import os

from PIL import Image, ImageDraw


def series(paths, stage, key):
    """(step, value) of every log line of the stage, the files' steps placed one after another. Within a file a
    step that goes back is a resume from an earlier checkpoint: the points it repeats are dropped."""
    out, base = [], 0
    for path in paths:
        if not os.path.exists(path):
            continue
        pts = []
        for l in open(path):
            r = json.loads(l)
            if r.get("stage") == stage and key in r:
                while pts and pts[-1][0] >= r["step"]:
                    pts.pop()
                pts.append((r["step"], r[key]))
        out += [(base + s, v) for s, v in pts]
        if pts:
            base += pts[-1][0]
    return out


def panel(draw, box, pts, title, color):
    x0, y0, x1, y1 = box
    draw.rectangle(box, outline=(0, 0, 0))
    draw.text((x0 + 6, y0 + 4), title, fill=(0, 0, 0))
    if len(pts) < 2:
        return
    # Smooth with a running mean of 10 points.
    ys = [sum(p[1] for p in pts[max(0, i - 9):i + 1]) / len(pts[max(0, i - 9):i + 1]) for i in range(len(pts))]
    xs = [p[0] for p in pts]
    lo, hi = min(ys), max(ys)
    hi = hi if hi > lo else lo + 1
    sx = lambda x: x0 + 40 + (x - xs[0]) / max(1, xs[-1] - xs[0]) * (x1 - x0 - 50)
    sy = lambda y: y1 - 20 - (y - lo) / (hi - lo) * (y1 - y0 - 40)
    draw.line([(sx(x), sy(y)) for x, y in zip(xs, ys)], fill=color, width=2)
    draw.text((x0 + 2, sy(hi) - 5), f"{hi:.3f}", fill=(0, 0, 0))
    draw.text((x0 + 2, sy(lo) - 5), f"{lo:.3f}", fill=(0, 0, 0))
    draw.text((x1 - 90, y1 - 16), f"step {xs[-1]}", fill=(0, 0, 0))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--unet_logs", nargs="*", default=None,
                    help="UNet logs of successive stages (default WORK/unet_log.jsonl)")
    a = ap.parse_args()
    img = Image.new("RGB", (640, 480), (255, 255, 255))
    d = ImageDraw.Draw(img)
    panel(d, (5, 5, 634, 235), series([os.path.join(a.work, "vae_log.jsonl")], "vae", "l1"),
          "VAE reconstruction L1 (pixels in [-1, 1]) vs step", (200, 60, 40))
    panel(d, (5, 245, 634, 475), series(a.unet_logs or [os.path.join(a.work, "unet_log.jsonl")], "unet", "loss"),
          "UNet + text encoder: training loss vs step (stages concatenated; includes the --attr_aux term)", (40, 80, 200))
    img.save(a.out)


if __name__ == "__main__":
    main()
