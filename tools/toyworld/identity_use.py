"""Measures how much a model trained with train_unet.py --identity_token reads its identity token: the epsilon
MSE on the object's latent pixels of the last --n training examples at several timesteps, with the example's
own caption, with the identity caption ("a <size> * on a <bg> background, <position>", the placeholder's
embedding the identity encoder's image of the example's scene), with the same caption but another example's
identity, and with the empty prompt. A token the model reads exactly lowers the error under its caption's;
one it ignores leaves it at the shuffled identity's.

Usage: python identity_use.py --work RUN_DIR --data D --tokenizer T [--n 256]"""

import argparse
import json
import os

import numpy as np
import torch
from diffusers import DDPMScheduler, UNet2DConditionModel
from transformers import CLIPTextModel, CLIPTokenizer

import common
from train_unet import IDENTITY_FORMS, PLACEHOLDER, POSITION_WORDS, identity_vector, load_identity


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--n", type=int, default=256)
    a = ap.parse_args()
    common.setup(0, 1)
    tok = CLIPTokenizer.from_pretrained(a.tokenizer)
    text = CLIPTextModel.from_pretrained(os.path.join(a.work, "text_encoder")).eval()
    unet = UNet2DConditionModel.from_pretrained(os.path.join(a.work, "unet")).eval()
    enc, vec = load_identity(a.work, text, tok)

    rows = [json.loads(l) for l in open(os.path.join(a.data, "metadata.jsonl"))][-a.n:]
    lat = np.load(os.path.join(a.work, "latents.npz"))
    scale = json.load(open(os.path.join(a.work, "vae_stats.json")))["scaling_factor"]
    z = torch.from_numpy(lat["mean"][-a.n:].astype(np.float32)) * scale
    imgs, _ = common.load_images(a.data)
    mask = common.latent_object_masks(imgs[-a.n:]).float()  # [n, 1, 16, 16]
    del imgs
    acp = DDPMScheduler(**{k: v for k, v in common.SCHEDULER_CONFIG.items()
                           if k not in ("skip_prk_steps", "set_alpha_to_one")}).alphas_cumprod
    ids = lambda caps: tok(caps, padding="max_length", max_length=77, truncation=True, return_tensors="pt").input_ids
    form = IDENTITY_FORMS[3]
    ident_caps = [form.format(id=PLACEHOLDER, size=r["scene"]["size"], bg=r["scene"]["background"],
                              pos=POSITION_WORDS[r["scene"]["position"]]) for r in rows]
    vecs = torch.tensor([identity_vector(r["scene"]) for r in rows], dtype=torch.float32)
    perm = torch.roll(torch.arange(a.n), 1)
    with torch.no_grad():
        e = enc(vecs)
        conds = {"caption": (ids([r["caption"] for r in rows]), None), "identity": (ids(ident_caps), e),
                 "other identity": (ids(ident_caps), e[perm]), "empty": (ids([""] * a.n), None)}
        states = {}
        for k, (t_ids, v) in conds.items():
            vec["v"] = v
            states[k] = text(t_ids).last_hidden_state
            vec["v"] = None
        g = torch.Generator().manual_seed(0)
        out = {}
        for t in (200, 400, 600, 800):
            eps = torch.randn(z.shape, generator=g)
            ab = acp[t]
            zt = ab.sqrt() * z + (1 - ab).sqrt() * eps
            tt = torch.full((a.n,), t)
            out[t] = {}
            for k, s in states.items():
                err = sum(((unet(zt[i:i + 32], tt[i:i + 32], encoder_hidden_states=s[i:i + 32]).sample
                            - eps[i:i + 32]) ** 2 * mask[i:i + 32]).sum() for i in range(0, a.n, 32))
                out[t][k] = round(float(err / (mask.sum() * z.shape[1])), 5)
            print(json.dumps(dict(t=t, **out[t])), flush=True)


if __name__ == "__main__":
    main()
