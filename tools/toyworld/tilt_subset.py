"""Issue 14 probe (docs/probes/2026-12-04-tilt-subset.json): a subset of a toy-world training set (shapes square,
triangle, star, heart) whose every caption names the tilt: each example keeps only its captions (metadata and
caption variants) that name it, repeated to fill the variants, or is left out. Usage: tilt_subset.py
WORK/data OUT/data, where WORK holds latents.npz and data/images.npy (train_vae.py, common.load_images):
writes OUT/data (metadata.jsonl, captions.jsonl, images.npy) and OUT/latents.npz for train_unet.py."""
import json, os, re, sys
import numpy as np

src, dst = sys.argv[1], sys.argv[2]
shapes = {"square", "triangle", "star", "heart"}
tilt = re.compile(r"\b(upright|clockwise|anticlockwise)\b")
os.makedirs(dst, exist_ok=True)
rows = [json.loads(l) for l in open(os.path.join(src, "metadata.jsonl"))]
variants = [json.loads(l) for l in open(os.path.join(src, "captions.jsonl"))]
imgs = np.load(os.path.join(src, "images.npy"))
lat = np.load(os.path.join(os.path.dirname(src.rstrip("/")), "latents.npz"))
keep, meta, caps = [], [], []
for i, (r, vs) in enumerate(zip(rows, variants)):
    if r["scene"]["shape"] not in shapes:
        continue
    named = [c for c in [r["caption"]] + vs if tilt.search(c)]
    if not named:
        continue
    keep.append(i)
    cs = [named[k % len(named)] for k in range(len(vs) + 1)]
    meta.append(dict(r, caption=cs[0]))
    caps.append(cs[1:])
with open(os.path.join(dst, "metadata.jsonl"), "w") as f:
    f.writelines(json.dumps(m) + "\n" for m in meta)
with open(os.path.join(dst, "captions.jsonl"), "w") as f:
    f.writelines(json.dumps(c) + "\n" for c in caps)
np.save(os.path.join(dst, "images.npy"), imgs[keep])
work = os.path.dirname(dst.rstrip("/"))
np.savez(os.path.join(work, "latents.npz"), mean=lat["mean"][keep], std=lat["std"][keep])
print(f"{len(keep)} of {len(rows)} examples kept")
