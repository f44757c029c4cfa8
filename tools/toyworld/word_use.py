"""Measures whether a trained UNet uses each attribute word of its captions: the epsilon MSE on the object's
latent pixels with the true caption, and with the shape word, the object's colour word or the whole caption
replaced (another shape, another colour, the empty prompt), at several timesteps, on the last --n training
examples. A word the model ignores leaves the error unchanged when swapped (session 4 found the shape word
ignored by every UNet trained without train_unet.py --attr_aux).

Usage: python word_use.py --work W --data D --tokenizer T [--n 128]
(W holds unet/, text_encoder/, latents.npz and vae_stats.json, as train_unet.py's work folders do.)"""

import argparse
import json
import os

import numpy as np
import torch
from diffusers import DDPMScheduler, UNet2DConditionModel
from transformers import CLIPTextModel, CLIPTokenizer

import common
from train_unet import COLORS, SHAPES


def swapped(caption, word, pool, rng):
    """caption with its first " word " replaced by another word of pool."""
    other = [w for w in pool if w != word]
    return (" " + caption + " ").replace(" " + word + " ", " " + other[rng.integers(len(other))] + " ", 1).strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--n", type=int, default=128)
    a = ap.parse_args()
    common.setup(0, 1)
    scale = json.load(open(os.path.join(a.work, "vae_stats.json")))["scaling_factor"]
    text = CLIPTextModel.from_pretrained(os.path.join(a.work, "text_encoder")).eval()
    unet = UNet2DConditionModel.from_pretrained(os.path.join(a.work, "unet")).eval()
    tok = CLIPTokenizer.from_pretrained(a.tokenizer)
    rows = [json.loads(l) for l in open(os.path.join(a.data, "metadata.jsonl"))]
    idx = np.arange(len(rows) - a.n, len(rows))
    lat = np.load(os.path.join(a.work, "latents.npz"))
    z = torch.from_numpy(lat["mean"][idx].astype(np.float32)) * scale  # [n, 4, 16, 16]
    imgs, _ = common.load_images(a.data)
    mask = common.latent_object_masks(imgs[idx]).float()  # [n, 1, 16, 16]
    rng = np.random.default_rng(0)
    true = [rows[i]["caption"] for i in idx]
    scenes = [rows[i]["scene"] for i in idx]
    captions = {
        "true caption": true,
        "shape swapped": [swapped(c, s["shape"], SHAPES, rng) for c, s in zip(true, scenes)],
        "colour swapped": [swapped(c, s["color"], COLORS, rng) for c, s in zip(true, scenes)],
        "empty prompt": [""] * a.n,
    }
    acp = DDPMScheduler(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012,
                        beta_schedule="scaled_linear").alphas_cumprod
    print("object-pixel epsilon MSE by timestep; columns:", " | ".join(captions))
    with torch.no_grad():
        enc = {k: text(tok(v, padding="max_length", max_length=77, return_tensors="pt").input_ids).last_hidden_state
               for k, v in captions.items()}
        for t in (200, 500, 700, 850, 950):
            eps = torch.randn(z.shape, generator=torch.Generator().manual_seed(t))
            zt = acp[t].sqrt() * z + (1 - acp[t]).sqrt() * eps
            row = []
            for k in captions:
                err = (unet(zt, torch.full((a.n,), t), encoder_hidden_states=enc[k]).sample - eps).pow(2)
                row.append(float((err * mask).sum() / (mask.sum() * err.shape[1])))
            print(f"t={t:3d} " + "  ".join(f"{v:.4f}" for v in row), flush=True)


if __name__ == "__main__":
    main()
