"""Assembles the diffusers folder (StableDiffusionPipeline layout, no safety checker) from the trained
components in WORK (or random weights with --random), storing weights as float16 safetensors."""

import argparse
import json
import os
import shutil

import torch
from safetensors.torch import load_file, save_file
from diffusers import AutoencoderKL, PNDMScheduler, StableDiffusionPipeline, UNet2DConditionModel
from transformers import CLIPTextModel, CLIPTokenizer

import common
import train_unet


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--vocabulary", default="", help="vocabulary.txt (gendata's) to ship as tokenizer/vocabulary.txt, "
                    "neti's closed-vocabulary check")
    ap.add_argument("--out", required=True)
    ap.add_argument("--random", action="store_true", help="random weights (for timing candidates)")
    ap.add_argument("--fp32", action="store_true")
    ap.add_argument("--prediction_type", choices=["epsilon", "v_prediction"], default="epsilon",
                    help="the scheduler's prediction_type: the one the UNet was trained with (train_unet.py's)")
    a = ap.parse_args()
    sched_config = dict(common.SCHEDULER_CONFIG, prediction_type=a.prediction_type)
    torch.manual_seed(0)
    tok = CLIPTokenizer.from_pretrained(a.tokenizer)
    if a.random:
        text, unet = train_unet.build(tok)
        vae = AutoencoderKL(**common.VAE_CONFIG)
        scale = 1.0
    else:
        text = CLIPTextModel.from_pretrained(os.path.join(a.work, "text_encoder"))
        unet = UNet2DConditionModel.from_pretrained(os.path.join(a.work, "unet"))
        vae = AutoencoderKL.from_pretrained(os.path.join(a.work, "vae"))
        scale = json.load(open(os.path.join(a.work, "vae_stats.json")))["scaling_factor"]
    vae.register_to_config(scaling_factor=round(scale, 5))
    sched = PNDMScheduler.from_config(sched_config)
    pipe = StableDiffusionPipeline(vae=vae, text_encoder=text, tokenizer=tok, unet=unet, scheduler=sched,
                                   safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    if not a.fp32:
        pipe = pipe.to(torch.float16)
    tmp = a.out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    pipe.save_pretrained(tmp, safe_serialization=True)
    # SD 1.5's scheduler_config.json also carries clip_sample (read by DDIM), which PNDM's init rejects.
    scp = os.path.join(tmp, "scheduler", "scheduler_config.json")
    sc = json.load(open(scp))
    sc.update(sched_config)
    json.dump(dict(sorted(sc.items())), open(scp, "w"), indent=2)
    # SD checkpoints name the text encoder's tensors "text_model.…" (transformers 5 drops the prefix when
    # saving; it loads both); keep SD's names, which neti's loader expects.
    tep = os.path.join(tmp, "text_encoder", "model.safetensors")
    tensors = load_file(tep)
    save_file({(k if k.startswith("text_model.") else "text_model." + k): v for k, v in tensors.items()}, tep,
              metadata={"format": "pt"})
    # The tokenizer files are our own (save_pretrained may rewrite them); copy them verbatim.
    for f in ("vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(os.path.join(a.tokenizer, f), os.path.join(tmp, "tokenizer", f))
    keep = ["vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json"]
    if a.vocabulary:
        shutil.copy(a.vocabulary, os.path.join(tmp, "tokenizer", "vocabulary.txt"))
        keep.append("vocabulary.txt")
    for f in os.listdir(os.path.join(tmp, "tokenizer")):
        if f not in keep:
            os.remove(os.path.join(tmp, "tokenizer", f))
    for d in ("text_encoder", "unet", "vae", "tokenizer", "scheduler", "model_index.json"):
        dst = os.path.join(a.out, d)
        if os.path.isdir(dst):
            shutil.rmtree(dst)
        elif os.path.exists(dst):
            os.remove(dst)
        shutil.move(os.path.join(tmp, d), dst)
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
