"""Samples each concept from a model trained with train_unet.py --identity_token, naming the concept by the
placeholder token whose input embedding is the identity encoder's image of the concept's scene: what the
model draws when a token carries the concept's exact identity (the best any learned token could do on it, if
the optimisation found that embedding). Images: OUT/<concept>/s<seed>.png (score with evalgo --score OUT).

Usage: python identity_oracle.py --model DIR --work RUN_DIR --concepts examples/concepts --out DIR
       [--prompt "a {id}"] [--seeds 8] [--sample_steps 20] [--guidance 7.5]"""

import argparse
import json
import os

import torch
from diffusers import DPMSolverMultistepScheduler, StableDiffusionPipeline
from safetensors.torch import save_file

import common
from train_unet import PLACEHOLDER, identity_vector, load_identity


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, help="the exported model (export.py)")
    ap.add_argument("--work", required=True, help="the training run's folder (ckpt.pt, unet_log.jsonl)")
    ap.add_argument("--concepts", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--names", default="")
    ap.add_argument("--prompt", default="a {id}")
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--sample_steps", type=int, default=20)
    ap.add_argument("--guidance", type=float, default=7.5)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    common.setup(0, a.threads)
    pipe = StableDiffusionPipeline.from_pretrained(a.model, torch_dtype=torch.float32, safety_checker=None)
    pipe.set_progress_bar_config(disable=True)
    pipe.scheduler = DPMSolverMultistepScheduler.from_config(pipe.scheduler.config, algorithm_type="dpmsolver++",
                                                             solver_order=2)
    enc, vec = load_identity(a.work, pipe.text_encoder, pipe.tokenizer)
    names = a.names.split(",") if a.names else sorted(
        d for d in os.listdir(a.concepts) if os.path.exists(os.path.join(a.concepts, d, "concept.json")))
    for name in names:
        scene = json.load(open(os.path.join(a.concepts, name, "concept.json")))["scene"]
        with torch.no_grad():
            emb = enc(torch.tensor([identity_vector(scene)], dtype=torch.float32))  # [1, D]
            vec["v"] = emb
            ids = pipe.tokenizer([a.prompt.format(id=PLACEHOLDER)], padding="max_length", max_length=77,
                                 return_tensors="pt").input_ids
            states = pipe.text_encoder(ids).last_hidden_state
            vec["v"] = None
            out = os.path.join(a.out, name)
            os.makedirs(out, exist_ok=True)
            save_file({"embedding": emb.contiguous()}, os.path.join(out, "embedding.safetensors"))
            for s in range(a.seeds):
                img = pipe(prompt_embeds=states, negative_prompt="", num_inference_steps=a.sample_steps,
                           guidance_scale=a.guidance, height=64, width=64,
                           generator=torch.Generator().manual_seed(s)).images[0]
                img.save(os.path.join(out, f"s{s}.png"))
        print(json.dumps(dict(concept=name, out=out)), flush=True)


if __name__ == "__main__":
    main()
