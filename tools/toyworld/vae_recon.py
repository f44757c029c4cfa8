"""Reconstructs the rendered scenes of a gendata folder through a VAE (posterior mean, decoded) and writes
them as PNGs with the same names, for evalgo --recon --recon_images (which compares what the classifiers
read from the renders and from the reconstructions).

Usage: python vae_recon.py --vae WORK/vae --data DATA --n 600 --out DIR"""

import argparse
import os

import numpy as np
import torch
from diffusers import AutoencoderKL
from PIL import Image

import common


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vae", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--n", type=int, default=600)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    common.setup(0, 2)
    vae = AutoencoderKL.from_pretrained(a.vae, torch_dtype=torch.float32).eval()
    imgs = common.load_pngs(a.data, a.n)
    os.makedirs(a.out, exist_ok=True)
    with torch.no_grad():
        for i in range(0, a.n, 100):
            x = common.to_unit(imgs[i:i + 100])
            y = vae.decode(vae.encode(x).latent_dist.mean).sample
            y = ((y.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()
            for k, im in enumerate(y):
                Image.fromarray(np.ascontiguousarray(im)).save(os.path.join(a.out, f"{i + k:06d}.png"))


if __name__ == "__main__":
    main()
