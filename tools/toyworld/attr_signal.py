"""How far each attribute moves an image and its latent (the UNet's input): reads the pairs written by
finesignal (go run ./tools/toyworld/finesignal --out DIR) and prints, per attribute, the pixels that change,
the squared distance summed over pixels and over the latent (posterior means × scaling factor), and that
latent distance relative to a change of colour. A denoiser that knows the word gains at most about that
distance in loss over one that does not, so a fine word whose distance is near colour's is not ignored for
lack of signal.

Usage: python3 attr_signal.py MODEL_DIR PAIRS_DIR
"""
import glob, json, os, sys, collections
import numpy as np, torch
from PIL import Image
from diffusers import AutoencoderKL
torch.set_num_threads(1)
model = sys.argv[1]; d = sys.argv[2]
vae = AutoencoderKL.from_pretrained(os.path.join(model, "vae")).eval()
sf = vae.config.scaling_factor
def load(p): return torch.from_numpy(np.asarray(Image.open(p).convert("RGB"), dtype=np.float32) / 127.5 - 1).permute(2, 0, 1)
groups = collections.defaultdict(list)
for p in sorted(glob.glob(os.path.join(d, "*_a.png"))):
    groups[os.path.basename(p).rsplit("_", 2)[0]].append(p)
res = {}
with torch.no_grad():
    for name, ps in sorted(groups.items()):
        a = torch.stack([load(p) for p in ps]); b = torch.stack([load(p.replace("_a.png", "_b.png")) for p in ps])
        za = vae.encode(a).latent_dist.mean * sf; zb = vae.encode(b).latent_dist.mean * sf
        pix = ((a - b) ** 2).sum(dim=(1, 2, 3))          # per pair, summed over pixels
        lat = ((za - zb) ** 2).sum(dim=(1, 2, 3))        # per pair, summed over latent elements
        changed = ((a - b).abs().amax(dim=1) > 0.05).float().sum(dim=(1, 2))  # pixels that change
        res[name] = dict(pixel_sq=float(pix.mean()), latent_sq=float(lat.mean()), changed_pixels=float(changed.mean()))
ref = res["colour"]["latent_sq"]
print(f"scaling_factor {sf:.3f}; latent elements {tuple(za.shape[1:])}")
print(f"{'attribute':14s} {'changed px':>10s} {'pixel Σd²':>10s} {'latent Σd²':>11s} {'vs colour':>9s}")
for k, v in sorted(res.items(), key=lambda kv: -kv[1]["latent_sq"]):
    print(f"{k:14s} {v['changed_pixels']:10.1f} {v['pixel_sq']:10.1f} {v['latent_sq']:11.2f} {v['latent_sq']/ref:9.3f}")
json.dump(res, open(os.path.join(d, "signal.json"), "w"), indent=1)
