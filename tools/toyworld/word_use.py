"""Measures whether a trained UNet uses each attribute word of its captions: the epsilon MSE on the object's
latent pixels with the true caption, and with the shape word, the object's colour word or the whole caption
replaced (another shape, another colour, the empty prompt), at several timesteps, on the last --n training
examples. A word the model ignores leaves the error unchanged when swapped (session 4 found the shape word
ignored by every UNet trained without train_unet.py --attr_aux).

With --fine (models trained on captions with fine words, toyworld.FineWords) it measures each fine
attribute instead: on the last examples whose caption names it, the error with the true caption and with
that attribute's word swapped for another of its words (e.g. "black outline" → "white outline").

Usage: python word_use.py --work W --data D --tokenizer T [--n 128] [--fine]
(W holds unet/, text_encoder/, latents.npz and vae_stats.json, as train_unet.py's work folders do.)"""

import argparse
import json
import os

import numpy as np
import torch
from diffusers import DDPMScheduler, UNet2DConditionModel
from transformers import CLIPTextModel, CLIPTokenizer

import common
from train_unet import ATTRIBUTES, COLORS, SHAPES

# The fine attributes --fine swaps, with the key of toyworld.FineWords in the metadata's parsed words.
FINE = ["hue", "shade", "outline", "outline_width", "mark", "mark_color", "tilt", "tilt_amount", "pattern_tone",
        "pattern_scale"]


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
    ap.add_argument("--fine", action="store_true", help="swap each fine attribute's word instead")
    a = ap.parse_args()
    if a.fine:
        return fine(a)
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


def swapped_fine(caption, attribute):
    """caption with its word of attribute (found by ATTRIBUTES' rule on the next word) replaced by another
    word of the attribute, or None when the caption does not name it."""
    words, rule = ATTRIBUTES[attribute]
    toks = caption.replace(",", " ,").split()
    for i, w in enumerate(toks):
        nxt = toks[i + 1] if i + 1 < len(toks) else ""
        if w not in words or (rule and (nxt in rule[1]) != (rule[0] == "in")):
            continue
        # Swaps stay within the phrase's grammar: "no outline", "no mark" and "upright" are left alone.
        if w in ("no", "mark", "upright"):
            return None
        other = [o for o in words if o != w and o not in ("no", "mark", "upright")]
        toks[i] = other[0]
        return " ".join(toks).replace(" ,", ",")
    return None


def fine(a):
    """Per fine attribute: object-pixel epsilon MSE with the true caption and with its word swapped."""
    common.setup(0, 1)
    scale = json.load(open(os.path.join(a.work, "vae_stats.json")))["scaling_factor"]
    text = CLIPTextModel.from_pretrained(os.path.join(a.work, "text_encoder")).eval()
    unet = UNet2DConditionModel.from_pretrained(os.path.join(a.work, "unet")).eval()
    tok = CLIPTokenizer.from_pretrained(a.tokenizer)
    rows = [json.loads(l) for l in open(os.path.join(a.data, "metadata.jsonl"))]
    lat = np.load(os.path.join(a.work, "latents.npz"))
    imgs, _ = common.load_images(a.data)
    acp = DDPMScheduler(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012,
                        beta_schedule="scaled_linear").alphas_cumprod
    encode = lambda caps: text(tok(caps, padding="max_length", max_length=77,
                                   return_tensors="pt").input_ids).last_hidden_state
    print("object-pixel epsilon MSE, true caption vs the attribute's word swapped (ratio), at t = 200 / 500 / 800")
    with torch.no_grad():
        for attr in FINE:
            idx, true, swap = [], [], []
            for i in range(len(rows) - 1, -1, -1):
                s = swapped_fine(rows[i]["caption"], attr)
                if s is not None:
                    idx.append(i); true.append(rows[i]["caption"]); swap.append(s)
                if len(idx) == a.n:
                    break
            idx = np.array(idx)
            z = torch.from_numpy(lat["mean"][idx].astype(np.float32)) * scale
            mask = common.latent_object_masks(imgs[idx]).float()
            et, es = encode(true), encode(swap)
            out = []
            for t in (200, 500, 800):
                eps = torch.randn(z.shape, generator=torch.Generator().manual_seed(t))
                zt = acp[t].sqrt() * z + (1 - acp[t]).sqrt() * eps
                errs = []
                for enc in (et, es):
                    err = (unet(zt, torch.full((len(idx),), t), encoder_hidden_states=enc).sample - eps).pow(2)
                    errs.append(float((err * mask).sum() / (mask.sum() * err.shape[1])))
                out.append(f"{errs[0]:.4f}/{errs[1]:.4f} ({errs[1] / errs[0]:.3f})")
            print(f"{attr:14s} n={len(idx):3d}  " + "  ".join(out), flush=True)


if __name__ == "__main__":
    main()
