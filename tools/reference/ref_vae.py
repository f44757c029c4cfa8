"""VAE reference outputs: testdata/reference/<model>/vae.safetensors.

Tensors:
  image [1,3,64,64] uniform in [-1,1]
  latent_mean, latent_logvar [1,4,16,16]: encoder posterior (after quant_conv; logvar clamped
    to [-30,20] as diffusers does), latent_std = exp(0.5·logvar)
  posterior_noise [1,4,16,16], latent_sample = latent_mean + latent_std·posterior_noise
  latents [1,4,16,16] (standard normal) -> decoded [1,3,64,64] = vae.decode(latents)
    (decode applies post_quant_conv; no scaling_factor is applied here)
"""

import sys

import torch
from diffusers import AutoencoderKL

from common import model_dir, randn, reference_dir, save_tensors, setup_torch, uniform


def run(model, seed):
    setup_torch()
    vae = AutoencoderKL.from_pretrained(model_dir(model) + "/vae").eval()
    image = uniform((1, 3, 64, 64), seed)
    latents = randn((1, 4, 16, 16), seed + 1)
    noise = randn((1, 4, 16, 16), seed + 2)
    with torch.no_grad():
        post = vae.encode(image).latent_dist
        decoded = vae.decode(latents).sample
    t = {
        "image": image,
        "latent_mean": post.mean,
        "latent_logvar": post.logvar,
        "latent_std": post.std,
        "posterior_noise": noise,
        "latent_sample": post.mean + post.std * noise,
        "latents": latents,
        "decoded": decoded,
    }
    meta = {
        "model": model,
        "seeds": {"image": seed, "latents": seed + 1, "posterior_noise": seed + 2},
        "scaling_factor": vae.config.scaling_factor,
        "note": "no scaling_factor applied in this file; the pipeline divides latents by it before decode",
    }
    save_tensors(reference_dir(model) + "/vae.safetensors", t, meta)


def main(models):
    for m in models:
        run(m, 30 if m == "tiny-sd1" else 40)


if __name__ == "__main__":
    main(sys.argv[1:] or ["tiny-sd1", "tiny-sd2"])
