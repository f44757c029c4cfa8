"""Python-side check during training: generates the held-out prompts (heldout.jsonl) with the EMA
weights in WORK using diffusers (DPM-Solver++(2M)) and writes a labelled grid PNG."""

import argparse
import json
import os

import numpy as np
import torch
from diffusers import AutoencoderKL, DPMSolverMultistepScheduler, StableDiffusionPipeline, UNet2DConditionModel
from PIL import Image
from transformers import CLIPTextModel, CLIPTokenizer

import common


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--prompts", required=True, help="heldout.jsonl")
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--guidance", type=float, default=5.0)
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--png_dir", default="", help="also write each image as p<prompt>_s<seed>.png and the "
                    "prompts as prompts.txt, for evalgo --images (toyworld.Classify's rates)")
    a = ap.parse_args()
    common.setup(0, 1)
    scale = json.load(open(os.path.join(a.work, "vae_stats.json")))["scaling_factor"]
    vae = AutoencoderKL.from_pretrained(os.path.join(a.work, "vae"))
    vae.register_to_config(scaling_factor=scale)
    pipe = StableDiffusionPipeline(
        vae=vae, text_encoder=CLIPTextModel.from_pretrained(os.path.join(a.work, "text_encoder")),
        tokenizer=CLIPTokenizer.from_pretrained(a.tokenizer),
        unet=UNet2DConditionModel.from_pretrained(os.path.join(a.work, "unet")),
        scheduler=DPMSolverMultistepScheduler.from_config(common.SCHEDULER_CONFIG, algorithm_type="dpmsolver++"),
        safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    pipe.set_progress_bar_config(disable=True)
    prompts = [json.loads(l)["text"] for l in open(a.prompts)]
    rows, hits = [], []
    for s in range(a.seeds):
        g = torch.Generator().manual_seed(s)
        with torch.no_grad():
            ims = pipe(prompts, height=64, width=64, num_inference_steps=a.steps, guidance_scale=a.guidance,
                       generator=g, output_type="np").images
        rows.append(np.concatenate(list(ims), axis=1))
        if a.png_dir:
            os.makedirs(a.png_dir, exist_ok=True)
            for i, im in enumerate(ims):
                Image.fromarray((im * 255).round().astype(np.uint8)).save(os.path.join(a.png_dir, f"p{i:02d}_s{s}.png"))
            with open(os.path.join(a.png_dir, "prompts.txt"), "w") as f:
                f.write("".join(p + "\n" for p in prompts))
        for im, line in zip(ims, open(a.prompts)):
            req = json.loads(line).get("requested", {})
            bg, obj = proxy_colors(im)
            hits.append((bg == req.get("background"), obj == req.get("color")))
    grid = (np.concatenate(rows, axis=0) * 255).round().astype(np.uint8)
    Image.fromarray(grid).save(a.out)
    print("\n".join(f"{i}: {p}" for i, p in enumerate(prompts)))
    h = np.array(hits, dtype=float)
    print(f"proxy: background colour {h[:, 0].mean():.3f}, object colour {h[:, 1].mean():.3f} over {len(h)} images")


# Named colour centres (toyworld's colorTable) for the proxy: nearest in RGB.
NAMED = {"red": (210, 35, 40), "orange": (242, 135, 25), "yellow": (240, 212, 40), "green": (45, 165, 65),
         "blue": (40, 85, 215), "purple": (130, 50, 175), "pink": (245, 145, 195), "white": (240, 240, 238),
         "black": (28, 28, 30)}


def nearest(rgb):
    return min(NAMED, key=lambda k: sum((float(rgb[i]) - NAMED[k][i]) ** 2 for i in range(3)))


def proxy_colors(im):
    """A rough stand-in for toyworld.Classify's colours: the border's median is the background, the
    median of the pixels far from it is the object."""
    x = (np.asarray(im) * 255).reshape(64, 64, 3)
    border = np.concatenate([x[0], x[-1], x[:, 0], x[:, -1]])
    bg = np.median(border, axis=0)
    far = x.reshape(-1, 3)[np.linalg.norm(x.reshape(-1, 3) - bg, axis=1) > 60]
    obj = nearest(np.median(far, axis=0)) if len(far) >= 8 else None
    return nearest(bg), obj


if __name__ == "__main__":
    main()
