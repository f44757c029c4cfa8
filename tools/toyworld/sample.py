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
    rows = []
    for s in range(a.seeds):
        g = torch.Generator().manual_seed(s)
        with torch.no_grad():
            ims = pipe(prompts, height=64, width=64, num_inference_steps=a.steps, guidance_scale=a.guidance,
                       generator=g, output_type="np").images
        rows.append(np.concatenate(list(ims), axis=1))
    grid = (np.concatenate(rows, axis=0) * 255).round().astype(np.uint8)
    Image.fromarray(grid).save(a.out)
    print("\n".join(f"{i}: {p}" for i, p in enumerate(prompts)))


if __name__ == "__main__":
    main()
