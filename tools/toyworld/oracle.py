"""The "direct states" oracle: the ceiling of text conditioning on a toy-world model. For each concept it
optimises the text encoder's output states themselves (all 77 positions × hidden size, shared by every
cross-attention layer and timestep, initialised from the encoding of "a <super-category>") with the
diffusion loss on the concept's training images, then samples images from them (DPM-Solver++(2M),
classifier-free guidance against the empty prompt). No token method has more freedom than this, but it
is the ceiling of the *diffusion loss*, not of fidelity: on the v2 model it scores below the learned
methods and the typed description (tealstar 0.359, rubyheart 0.331 vs NeTI ≈ 0.40 and the description
0.45/0.55; issue 14, session 11): the states that best denoise five images on five backgrounds are not the
ones that draw the object best under guidance 7.5.

With --tune kv only the cross-attention key and value projections are tuned (Custom Diffusion's choice:
what a concept method that also adapts the UNet could reach; issue 14, session 20: 0.35 on tealstar/rubyheart
at guidance 7.5, under the states' 0.42). --tune temb adds to the states one vector added to the time
embedding of the conditional branch, --tune resbias a shift per channel of every resnet (after its
time_emb_proj): what a timestep-independent text path into the resnets (diffusers' addition_embed_type
"text") could reach (issue 14, session 21, 400 steps, --offset_lr 5e-2: at guidance 3 0.496 / 0.485 against
the states' 0.483; at 7.5 0.391 / 0.456 against 0.366). With --tune unet it fine-tunes every UNet weight instead, the prompt
"a <super-category>" fixed (DreamBooth without prior preservation): the ceiling of the whole model, which shows how much of the gap to the VAE
round trip is the text path's (issue 14, session 18: with --fg_weight 4 it draws tealstar/rubyheart at
0.73 at guidance 2, the states 0.53). --fg_weight weights the object's latent pixels as the base model's
training did; --guidance takes a list (OUT/g<scale>/<concept>/).

Writes OUT/<concept>/s<seed>.png (score them with evalgo --references --oracle OUT) and OUT/<concept>/
states.safetensors.

Usage: python oracle.py --model models/toymodel --concepts examples/concepts --out DIR
       [--names tealstar,rubyheart] [--steps 600] [--lr 5e-3] [--seeds 8] [--sample_steps 20] [--guidance 7.5]
       [--tune states|unet|kv|temb|resbias] [--offset_lr 5e-2] [--fg_weight 4]"""

import argparse
import json
import os

import numpy as np
import torch
from diffusers import DDPMScheduler, DPMSolverMultistepScheduler, StableDiffusionPipeline
from PIL import Image
from safetensors.torch import save_file

import common


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--concepts", required=True, help="folder of concept folders (NN.png + concept.json)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--names", default="", help="comma-separated concept names (default: every folder)")
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--lr", type=float, default=5e-3)
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--sample_steps", type=int, default=20)
    ap.add_argument("--guidance", default="7.5",
                    help="classifier-free guidance scale; a comma-separated list samples each (into OUT/g<scale>/)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tune", choices=["states", "unet", "kv", "temb", "resbias"], default="states",
                    help="what is optimised: the text states (the ceiling of text conditioning), every UNet weight "
                         "with the prompt \"a <super-category>\" fixed (DreamBooth without prior preservation: the "
                         "ceiling of the whole model) or only the cross-attention key and value projections (attn2.to_k, "
                         "attn2.to_v: Custom Diffusion's choice) with that prompt fixed, or the text states together with one "
                         "vector added to the time embedding of the conditional branch (what a text path into every "
                         "resnet, diffusers' addition_embed_type=\"text\", could reach; --offset_lr), or the text states together "
                         "with a per-channel shift of every resnet's time_emb_proj output (what any timestep-independent "
                         "conditioning through the time embedding could reach)")
    ap.add_argument("--t_range", default="0,1000",
                    help="the training timesteps are drawn uniformly from [lo, hi) (kohya's --min_timestep/--max_timestep)")
    ap.add_argument("--offset_lr", type=float, default=0.0,
                    help="--tune temb or resbias: the offset's (shifts') learning rate (default --lr)")
    ap.add_argument("--fg_weight", type=float, default=0.0,
                    help="weight the object's latent pixels (1 + fg_weight):1 in the loss, as the base model's training did")
    a = ap.parse_args()
    common.setup(0, a.threads)
    t_lo, t_hi = (int(v) for v in a.t_range.split(","))
    pipe = StableDiffusionPipeline.from_pretrained(a.model, torch_dtype=torch.float32, safety_checker=None)
    pipe.set_progress_bar_config(disable=True)
    for m in (pipe.text_encoder, pipe.unet, pipe.vae):
        m.requires_grad_(False)
    train_sched = DDPMScheduler.from_config(pipe.scheduler.config)
    acp = train_sched.alphas_cumprod
    pipe.scheduler = DPMSolverMultistepScheduler.from_config(pipe.scheduler.config, algorithm_type="dpmsolver++",
                                                             solver_order=2)
    names = a.names.split(",") if a.names else sorted(
        d for d in os.listdir(a.concepts) if os.path.exists(os.path.join(a.concepts, d, "concept.json")))
    encode = lambda text: pipe.text_encoder(pipe.tokenizer([text], padding="max_length", max_length=77,
                                                             return_tensors="pt").input_ids).last_hidden_state
    for name in names:
        meta = json.load(open(os.path.join(a.concepts, name, "concept.json")))
        imgs = np.stack([np.asarray(Image.open(os.path.join(a.concepts, name, im["file"])).convert("RGB"))
                         for im in meta["images"]]).transpose(0, 3, 1, 2).copy()
        x = common.to_unit(imgs)
        with torch.no_grad():
            post = pipe.vae.encode(x).latent_dist
            empty = encode("")
            states = encode("a " + meta["super_category"]).clone()
        unet = pipe.unet
        if a.tune in ("unet", "kv"):
            base = {k: v.clone() for k, v in unet.state_dict().items()}
            tuned = [p for n, p in unet.named_parameters()
                     if a.tune == "unet" or ".attn2.to_k." in n or ".attn2.to_v." in n]
            for p in tuned:
                p.requires_grad_(True)
            opt = torch.optim.Adam(tuned, lr=a.lr)
        elif a.tune in ("temb", "resbias"):
            # One offset of the time embedding, or a shift per channel of every resnet (after its
            # time_emb_proj), learned with the states and given to the conditional examples only.
            states.requires_grad_(True)
            if a.tune == "temb":
                modules = [(unet.time_embedding, unet.time_embedding.linear_2.out_features)]
            else:
                modules = [(m, m.out_features) for n, m in unet.named_modules() if n.endswith("time_emb_proj")]
            sampling = [False]
            deltas = [torch.zeros(size, requires_grad=True) for _, size in modules]
            hooks = [add_to_conditional(m, d, sampling) for (m, _), d in zip(modules, deltas)]
            opt = torch.optim.Adam([{"params": [states]}, {"params": deltas, "lr": a.offset_lr or a.lr}], lr=a.lr)
        else:
            states.requires_grad_(True)
            opt = torch.optim.Adam([states], lr=a.lr)
        weight = 1.0
        if a.fg_weight:
            # The object's latent pixels: where the image differs from its background (the corner colour).
            fg = (np.abs(imgs.astype(np.float32) - imgs[:, :, :1, :1].astype(np.float32)).sum(1) > 30).astype(np.float32)
            fg = torch.nn.functional.adaptive_max_pool2d(torch.from_numpy(fg)[:, None], post.mean.shape[-2:])
            weight = 1 + a.fg_weight * fg
        g = torch.Generator().manual_seed(0)
        scale = pipe.vae.config.scaling_factor
        for step in range(a.steps):
            z = (post.mean + post.std * torch.randn(post.mean.shape, generator=g)) * scale
            t = torch.randint(t_lo, t_hi, (len(z),), generator=g)
            eps = torch.randn(z.shape, generator=g)
            ab = acp[t].view(-1, 1, 1, 1)
            zt = ab.sqrt() * z + (1 - ab).sqrt() * eps
            pred = pipe.unet(zt, t, encoder_hidden_states=states.expand(len(z), -1, -1)).sample
            if pipe.scheduler.config.prediction_type == "v_prediction":
                eps = ab.sqrt() * eps - (1 - ab).sqrt() * z  # the target: v
            loss = ((pred - eps).pow(2) * weight).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            if (step + 1) % 100 == 0:
                print(json.dumps(dict(concept=name, step=step + 1, loss=round(loss.item(), 4))), flush=True)
        scales = [float(g) for g in a.guidance.split(",")]
        if a.tune in ("temb", "resbias"):
            sampling[0] = True
            size = torch.cat(deltas).norm().item()
            print(json.dumps(dict(concept=name, offset_norm=round(size, 3))), flush=True)
        for gs in scales:
            out = os.path.join(a.out, f"g{gs:g}", name) if len(scales) > 1 else os.path.join(a.out, name)
            os.makedirs(out, exist_ok=True)
            save_file({"states": states.detach().contiguous()}, os.path.join(out, "states.safetensors"))
            with torch.no_grad():
                for s in range(a.seeds):
                    img = pipe(prompt_embeds=states.detach(), negative_prompt_embeds=empty,
                               num_inference_steps=a.sample_steps, guidance_scale=gs, height=64, width=64,
                               generator=torch.Generator().manual_seed(s)).images[0]
                    img.save(os.path.join(out, f"s{s}.png"))
        if a.tune in ("unet", "kv"):
            unet.load_state_dict(base)
            unet.requires_grad_(False)
        if a.tune in ("temb", "resbias"):
            for h in hooks:
                h.remove()


def add_to_conditional(module, delta, sampling):
    """Registers a forward hook that adds delta to module's output: to every example while training, to the
    conditional half only while sampling (sampling[0]; a guided batch is [unconditional, conditional])."""
    def hook(_, __, out):
        if not sampling[0]:
            return out + delta
        half = len(out) // 2
        return torch.cat([out[:half], out[half:] + delta])
    return module.register_forward_hook(hook)


if __name__ == "__main__":
    main()
