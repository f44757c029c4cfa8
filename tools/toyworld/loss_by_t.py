"""How much the conditioning lowers a model's diffusion loss on a concept's training images, by timestep: the
loss (its training target: ε or v) with the text states of the empty prompt, "a <super-category>" and "a <colour>
<pattern> <shape>", in buckets of 100 timesteps (issue 14, session 21: on v3 all conditioning together is worth
≤ 10 % of the ε-loss at any t and nothing from t ≈ 800 on).

Usage: python loss_by_t.py --model models/toymodel [--concepts examples/concepts] [--names tealstar,rubyheart]
       [--draws 30]"""

import argparse
import json
import os

import numpy as np
import torch
from diffusers import DDPMScheduler, StableDiffusionPipeline
from PIL import Image

import common


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--concepts", default="examples/concepts")
    ap.add_argument("--names", default="tealstar,rubyheart")
    ap.add_argument("--draws", type=int, default=30, help="noise draws per bucket")
    a = ap.parse_args()
    common.setup(0, 1)
    pipe = StableDiffusionPipeline.from_pretrained(a.model, torch_dtype=torch.float32, safety_checker=None)
    acp = DDPMScheduler.from_config(pipe.scheduler.config).alphas_cumprod
    v_pred = pipe.scheduler.config.prediction_type == "v_prediction"
    encode = lambda text: pipe.text_encoder(pipe.tokenizer([text], padding="max_length", max_length=77,
                                                             return_tensors="pt").input_ids).last_hidden_state
    for name in a.names.split(","):
        meta = json.load(open(os.path.join(a.concepts, name, "concept.json")))
        imgs = np.stack([np.asarray(Image.open(os.path.join(a.concepts, name, im["file"])).convert("RGB"))
                         for im in meta["images"]]).transpose(0, 3, 1, 2).copy()
        sc = meta["scene"]
        prompts = {"empty": "", "word": "a " + meta["super_category"],
                   "words": f"a {sc['color']} {sc['pattern']} {sc['shape']}"}
        with torch.no_grad():
            z = pipe.vae.encode(common.to_unit(imgs)).latent_dist.mean * pipe.vae.config.scaling_factor
            states = {k: encode(p) for k, p in prompts.items()}
            g = torch.Generator().manual_seed(0)
            for lo in range(0, 1000, 100):
                loss = {k: 0.0 for k in states}
                for _ in range(a.draws):
                    t = torch.randint(lo, lo + 100, (len(z),), generator=g)
                    eps = torch.randn(z.shape, generator=g)
                    ab = acp[t].view(-1, 1, 1, 1)
                    zt = ab.sqrt() * z + (1 - ab).sqrt() * eps
                    target = ab.sqrt() * eps - (1 - ab).sqrt() * z if v_pred else eps
                    for k, s in states.items():
                        pred = pipe.unet(zt, t, encoder_hidden_states=s.expand(len(z), -1, -1)).sample
                        loss[k] += ((pred - target) ** 2).mean().item() / a.draws
                print(json.dumps(dict(concept=name, t=lo, **{k: round(v, 4) for k, v in loss.items()})), flush=True)


if __name__ == "__main__":
    main()
