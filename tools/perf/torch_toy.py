#!/usr/bin/env python3
"""PyTorch CPU side of the side-by-side speed comparison with neti's Go implementation (issue 13, item 4),
on the built-in toy model (models/toymodel) and the shipped concept examples/concepts/tealstar.

What is timed, each the way neti computes it (see tools/perf/README.md for the mapping to the Go code):

  neti_step             one NeTI optimizer step of neti.ToyPreset (batch 2, no accumulation, AdamW lr 5e-3
                        unscaled, betas 0.9/0.999, eps 1e-8, weight decay 1e-2): draw the micro-batch (image,
                        flip, template, t ~ U{0..999}, a VAE-posterior sample from the cached posteriors,
                        noise, x_t), the mapper on 16·B (t, layer) rows with nested dropout, the text encoder
                        once over those 16·B rows (= once per layer) with the word injected at the placeholder,
                        the textual bypass (alpha 0.2) for the values, the UNet with each attn2 reading its own
                        layer's keys/values, MSE to eps, backward to the mapper, AdamW.
  neti_step_16passes    the same step with the mapper and the text encoder called once per layer (16 passes of B
                        rows), as the original NeTI's get_text_conditioning loop does; same work, more calls.
  ti_step               one Textual-Inversion step as diffusers' textual inversion does it: one 64-d vector at
                        the placeholder, the text encoder once over the B captions, the same states for every
                        layer (stock attention processors), same batch and optimizer.
  ti_step_perlayer      TI computed through the per-layer path, as neti's MethodTI does (its trainer runs the
                        same graph as NeTI: 16·B encoder rows, per-layer states, no bypass, no dropout).
  gen_plain_{1,4}img    20-step guided generation (CFG 7.5, DPM-Solver++(2M) from the model's scheduler config,
                        64x64 px = 16x16 latents, seeded noise), uncond and cond halves in one UNet call per step,
                        VAE decode and conversion to 8-bit pixels included, as neti's Pipeline.Generate.
  gen_neti_{1,4}img     the same with a NeTI concept: the mapper on 20 steps × 16 layers rows, the text encoder
                        once over those 320 rows (with bypass), then per step per-layer states (uncond half
                        plain CLIP of the negative prompt "") — conditioning included in every timed call.
  gen_neti_{1,4}img_cached  the same with the conditioning computed before the timer (neti keeps the last
                        prompt's conditioning, so a second image of a prompt costs no text-encoder work).
  neti_conditioning     that conditioning alone (mapper + 320-row text-encoder pass + bypass).

The mapper is a randomly initialised NeTI mapper (its cost does not depend on its weights) built from
tools/reference/neti_reference.py (Mapper, fourier, anchor_features), with nested dropout and the bypass
vectorised; the reference's row-loop versions are used as the oracle of a cheap correctness check.

Timing: each case first runs its warm-up calls, then the cases of a section (training; generation) take
turns, one timed call each per round, so that a neighbour's load on a shared machine hits them alike.
JSON goes to stdout (and to --out FILE); progress to stderr.
"""

import argparse
import glob
import json
import os
import platform
import random
import resource
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tools", "reference"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from PIL import Image  # noqa: E402

import neti_reference as ref  # noqa: E402  (Mapper, fourier, anchor_features, textual_bypass, CFG)

# neti.ToyPreset (trainoptions.go) and the Go trainer's fixed settings.
TOY = dict(batch_size=2, gradient_accumulation=1, learning_rate=5e-3, scale_lr=False, beta1=0.9, beta2=0.999,
           eps=1e-8, weight_decay=1e-2, flip_prob=0.5, nested_dropout_prob=0.5, alpha=0.2)
# neti.ToyTemplates (traintemplates.go).
TOY_TEMPLATES = ["a {}", "a photo of a {}", "a picture of a {}", "an image of a {}"]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def summary(times_s, warmup):
    ms = [t * 1000 for t in times_s]
    return {"mean_ms": round(statistics.fmean(ms), 3), "median_ms": round(statistics.median(ms), 3),
            "min_ms": round(min(ms), 3), "max_ms": round(max(ms), 3),
            "stdev_ms": round(statistics.stdev(ms), 3) if len(ms) > 1 else 0.0, "runs": len(ms), "warmup": warmup}


def timed_interleaved(cases, runs, warmup):
    """cases: (name, setup, fn). Each fn runs `warmup` untimed times, then the cases take turns, one timed run
    each per round, `runs` rounds, so that a neighbour's load hits every case alike; setup (processor
    switches) runs before each call, outside the timer. Returns {name: summary}; cpu_utilisation is the
    process's CPU time over the wall time of a case's timed runs: about the thread count when the cores were
    ours, much less when a neighbour took them."""
    for _, setup, fn in cases:
        setup()
        for _ in range(warmup):
            fn()
    wall = {name: [] for name, _, _ in cases}
    cpu = {name: 0.0 for name, _, _ in cases}
    for _ in range(runs):
        for name, setup, fn in cases:
            setup()
            c0, t0 = time.process_time(), time.perf_counter()
            fn()
            wall[name].append(time.perf_counter() - t0)
            cpu[name] += time.process_time() - c0
    out = {}
    for name, _, _ in cases:
        out[name] = summary(wall[name], warmup)
        out[name]["cpu_utilisation"] = round(cpu[name] / sum(wall[name]), 2)
    return out


# ---------------------------------------------------------------------------------------------------------
# Model, text encoder with NeTI hooks, per-layer attention


class Toy:
    """The toy model's components (float32, frozen) plus the placeholder token."""

    def __init__(self, model_dir, placeholder, super_category):
        from diffusers import AutoencoderKL, DDPMScheduler, DPMSolverMultistepScheduler, UNet2DConditionModel
        from transformers import CLIPTextModel, CLIPTokenizer

        self.tokenizer = CLIPTokenizer.from_pretrained(os.path.join(model_dir, "tokenizer"))
        self.text = CLIPTextModel.from_pretrained(os.path.join(model_dir, "text_encoder"), dtype=torch.float32).eval()
        self.unet = UNet2DConditionModel.from_pretrained(os.path.join(model_dir, "unet"), torch_dtype=torch.float32).eval()
        self.vae = AutoencoderKL.from_pretrained(os.path.join(model_dir, "vae"), torch_dtype=torch.float32).eval()
        for m in (self.text, self.unet, self.vae):
            m.requires_grad_(False)
        cfg = DDPMScheduler.load_config(os.path.join(model_dir, "scheduler"))
        self.ddpm = DDPMScheduler.from_config(cfg)
        # neti's "dpm++2m" sampler: DPM-Solver++ order 2 on the model's schedule (as tools/reference/ref_schedulers.py).
        self.dpm = DPMSolverMultistepScheduler.from_config(cfg, algorithm_type="dpmsolver++", solver_order=2)
        self.tm = self.text.text_model if hasattr(self.text, "text_model") else self.text
        self.vocab = self.text.config.vocab_size
        self.width = self.text.config.hidden_size
        self.scaling = self.vae.config.scaling_factor
        self.shift = self.vae.config.shift_factor or 0.0
        self.vae_scale = 2 ** (len(self.vae.config.block_out_channels) - 1)
        self.resolution = self.unet.config.sample_size * self.vae_scale

        self.tokenizer.add_tokens([placeholder])
        self.placeholder_id = self.tokenizer.convert_tokens_to_ids(placeholder)
        assert self.placeholder_id >= self.vocab, "the placeholder must be a new token"
        sc = self.tokenizer(super_category, add_special_tokens=False).input_ids
        assert len(sc) == 1, f"super-category {super_category!r} is {len(sc)} tokens"
        self.super_id = sc[0]
        self.super_embedding = self.tm.embeddings.token_embedding.weight[self.super_id].detach().clone()

        # Hooks as tools/reference/neti_reference.py's conditioning_fixture, vectorised over rows with one
        # placeholder position each: ids past the vocabulary are clamped, the placeholder's input embedding is
        # replaced by the row's word, the states H before final_layer_norm are captured for the bypass.
        self._words = None
        self._pos = None
        self._h = None
        vocab = self.vocab

        def clamp(_, args):
            return (args[0].clamp(max=vocab - 1),)

        def inject(_, __, output):
            if self._words is None:
                return output
            hit = (torch.arange(output.shape[1])[None, :] == self._pos[:, None]).unsqueeze(-1)  # [R, L, 1]
            return torch.where(hit, self._words[:, None, :].to(output.dtype), output)

        def capture(_, args):
            self._h = args[0]

        self.tm.embeddings.token_embedding.register_forward_pre_hook(clamp)
        self.tm.embeddings.token_embedding.register_forward_hook(inject)
        self.tm.final_layer_norm.register_forward_pre_hook(capture)

        self.layer_modules = cross_attention_layers(self.unet)
        assert len(self.layer_modules) == 16, f"{len(self.layer_modules)} cross-attention layers, expected 16"

    def ids(self, text):
        """[77] token ids, padded to max length as diffusers does."""
        return self.tokenizer(text, padding="max_length", max_length=self.tokenizer.model_max_length,
                              truncation=True, return_tensors="pt").input_ids[0]

    def encode_plain(self, ids):
        """CLIP states of plain prompts: ids [R, 77] -> [R, 77, D]."""
        self._words = None
        return self.text(ids).last_hidden_state

    def encode_concept(self, ids, pos, words, bypass, alpha):
        """NeTI conditioning (spec §5.1-5.2; neti's encodeConditioning, bypass.go): ids [R, 77], pos [R], words [R, D],
        bypass [R, D] or None -> keys = FinalNorm(H), values = FinalNorm(H with the bypass at pos)."""
        self._words, self._pos = words, pos
        try:
            keys = self.text(ids).last_hidden_state
        finally:
            self._words = None
        if bypass is None:
            return keys, keys
        h = self._h
        return keys, self.tm.final_layer_norm(textual_bypass_fast(h, pos, bypass, alpha))


def textual_bypass_fast(h, pos, b, alpha):
    """h [R, L, D], pos [R], b [R, D]: h[r, pos_r] += alpha * b_r/||b_r|| * ||h[r, pos_r]|| (neti's textualBypass, bypass.go)."""
    rows = torch.arange(h.shape[0])
    hp = h[rows, pos]  # [R, D]
    delta = alpha * F.normalize(b, dim=-1) * hp.norm(dim=-1, keepdim=True)
    hit = (torch.arange(h.shape[1])[None, :] == pos[:, None]).unsqueeze(-1).to(h.dtype)  # [R, L, 1]
    return h + hit * delta[:, None, :]


def cross_attention_layers(unet):
    """The attn2 processor names in neti's fixed order (unet.CrossAttentionLayers): down blocks' attentions,
    the mid block's, the up blocks'."""
    names = []
    for i, block in enumerate(unet.down_blocks):
        for j in range(len(getattr(block, "attentions", None) or [])):
            names.append(f"down_blocks.{i}.attentions.{j}.transformer_blocks.0.attn2")
    if getattr(unet.mid_block, "attentions", None):
        names.append("mid_block.attentions.0.transformer_blocks.0.attn2")
    for i, block in enumerate(unet.up_blocks):
        for j in range(len(getattr(block, "attentions", None) or [])):
            names.append(f"up_blocks.{i}.attentions.{j}.transformer_blocks.0.attn2")
    return names


class LayerStates:
    """The per-layer keys/values states the processors read: lists of 16 tensors [batch, 77, D]."""

    def __init__(self):
        self.keys = None
        self.values = None


class PerLayerAttnProcessor:
    """diffusers' AttnProcessor2_0 for one cross-attention layer whose keys and values come from its own
    states, found by the fixed layer index given at construction (never by counting calls): K = to_k(keys[l]),
    V = to_v(values[l]). encoder_hidden_states is ignored."""

    def __init__(self, layer, states, attn):
        assert attn.spatial_norm is None and attn.group_norm is None and attn.norm_cross is None
        assert not attn.residual_connection and attn.rescale_output_factor == 1.0
        assert attn.norm_q is None and attn.norm_k is None
        self.layer, self.states = layer, states

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, temb=None, *args, **kw):
        assert hidden_states.ndim == 3 and attention_mask is None
        kst, vst = self.states.keys[self.layer], self.states.values[self.layer]
        b = hidden_states.shape[0]
        assert kst.shape[0] == b, f"layer {self.layer}: states for batch {kst.shape[0]}, hidden states {b}"
        query = attn.to_q(hidden_states)
        key = attn.to_k(kst)
        value = attn.to_v(vst)
        head_dim = key.shape[-1] // attn.heads
        query = query.view(b, -1, attn.heads, head_dim).transpose(1, 2)
        key = key.view(b, -1, attn.heads, head_dim).transpose(1, 2)
        value = value.view(b, -1, attn.heads, head_dim).transpose(1, 2)
        out = F.scaled_dot_product_attention(query, key, value, dropout_p=0.0, is_causal=False)
        out = out.transpose(1, 2).reshape(b, -1, attn.heads * head_dim).to(query.dtype)
        out = attn.to_out[0](out)
        return attn.to_out[1](out)


def set_processors(unet, layer_modules, states):
    """states None: diffusers' stock AttnProcessor2_0 everywhere; else per-layer processors on the 16 attn2."""
    from diffusers.models.attention_processor import AttnProcessor2_0

    procs = {}
    modules = dict(unet.named_modules())
    index = {name + ".processor": i for i, name in enumerate(layer_modules)}
    for name in unet.attn_processors:
        if states is not None and name in index:
            procs[name] = PerLayerAttnProcessor(index[name], states, modules[name[: -len(".processor")]])
        else:
            procs[name] = AttnProcessor2_0()
    unet.set_attn_processor(procs)


# ---------------------------------------------------------------------------------------------------------
# The mapper


def build_mapper(width, target_norm, seed, layers=16):
    """A randomly initialised default NeTI mapper (spec §3; neti.DefaultMapperConfig) for text width `width`:
    1024 Fourier frequencies, 10 time anchors x 16 layers, hidden 128, word|bypass head, word-half
    normalisation. Built with neti_reference's Mapper after setting its CFG to these sizes."""
    ref.CFG.update(num_layers=layers, num_timesteps=1000, text_width=width, hidden=128, time_anchors=10,
                   num_fourier=1024, sigma_t=0.03, sigma_l=2.0, target_norm=float(target_norm))
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(ref.CFG["num_fourier"], 2, generator=g)
    w[:, 0] *= ref.CFG["sigma_t"]
    w[:, 1] *= ref.CFG["sigma_l"]
    torch.manual_seed(seed)
    m = FastMapper(w, 2 * width)
    with torch.no_grad():
        m.net[0].weight.copy_(ref.anchor_features(w))
    return m


class FastMapper(ref.Mapper):
    """neti_reference.Mapper with nested dropout as one mask (keep [N] int tensor) instead of a row loop;
    word-half normalisation (neti's default NormalizeWord)."""

    def forward(self, t, l, keep):  # noqa: D102
        hidden = self.net(ref.fourier(self.w, t, l))
        hidden = hidden * (torch.arange(hidden.shape[1])[None, :] < keep[:, None]).to(hidden.dtype)
        out = self.output_layer(hidden)
        d = ref.CFG["text_width"]
        return F.normalize(out[:, :d], dim=-1) * ref.CFG["target_norm"], out[:, d:]


def draw_keep(gen, calls, per_call, hidden, prob):
    """neti's nested-dropout sampler (trainbatch.go): per mapper call (one per layer) one coin; if it falls each sample keeps
    k ~ U{0..hidden-1} units, else all. Returns [calls*per_call] (call-major = layer-major rows)."""
    out = torch.full((calls, per_call), hidden, dtype=torch.long)
    coins = torch.rand(calls, generator=gen) < prob
    ks = torch.randint(0, hidden, (calls, per_call), generator=gen)
    out[coins] = ks[coins]
    return out.reshape(-1)


# ---------------------------------------------------------------------------------------------------------
# Training


class Trainer:
    """The data side of neti's trainer (train.go, trainbatch.go): VAE posteriors of every (image, flip)
    encoded once before training, captions of the toy templates, micro-batches drawn per step."""

    def __init__(self, toy, image_dir, placeholder, batch, seed):
        self.toy, self.batch = toy, batch
        files = sorted(f for f in glob.glob(os.path.join(image_dir, "*")) if f.lower().endswith((".png", ".jpg", ".jpeg")))
        assert files, f"no images in {image_dir}"
        self.files = files
        size = toy.resolution
        self.posteriors = []  # index 2*i + flip: (mean, std) [C, h, w]
        with torch.no_grad():
            for f in files:
                img = Image.open(f).convert("RGB")
                assert img.size == (size, size), f"{f}: {img.size}, expected {size}x{size} (no resize implemented)"
                x = torch.from_numpy(np.asarray(img, dtype=np.float32)).permute(2, 0, 1) / 127.5 - 1  # [3, H, W]
                for flip in (False, True):
                    xi = x.flip(-1) if flip else x
                    dist = toy.vae.encode(xi[None]).latent_dist
                    self.posteriors.append((dist.mean[0].clone(), dist.std[0].clone()))
        self.captions = []
        for tmpl in TOY_TEMPLATES:
            ids = toy.ids(tmpl.replace("{}", placeholder))
            pos = (ids == toy.placeholder_id).nonzero()
            assert len(pos) == 1, f"caption {tmpl!r}: placeholder found {len(pos)} times"
            self.captions.append((ids, int(pos[0, 0])))
        self.rng = random.Random(seed)
        self.gen = torch.Generator().manual_seed(seed)
        self.order, self.cursor = [], 0

    def next_image(self):
        if self.cursor >= len(self.order):
            self.order = list(range(len(self.files)))
            self.rng.shuffle(self.order)
            self.cursor = 0
        i = self.order[self.cursor]
        self.cursor += 1
        return i

    def draw(self):
        """B samples: image, flip, template, t, posterior sample, noise; x_t by the DDPM schedule."""
        x0, ids, pos, ts = [], [], [], []
        for _ in range(self.batch):
            img = self.next_image()
            flip = 1 if self.rng.random() < TOY["flip_prob"] else 0
            cid, cpos = self.captions[self.rng.randrange(len(self.captions))]
            ids.append(cid)
            pos.append(cpos)
            ts.append(self.rng.randrange(self.toy.ddpm.config.num_train_timesteps))
            mean, std = self.posteriors[2 * img + flip]
            z = mean + std * torch.randn(mean.shape, generator=self.gen)
            x0.append((z - self.toy.shift) * self.toy.scaling)
        x0 = torch.stack(x0)
        noise = torch.randn(x0.shape, generator=self.gen)
        t = torch.tensor(ts, dtype=torch.long)
        noisy = self.toy.ddpm.add_noise(x0, noise, t)
        return noisy, noise, t, torch.stack(ids), torch.tensor(pos, dtype=torch.long)


def make_neti_step(toy, data, mapper, states, opt, layers, passes=1):
    """passes 1: the mapper and the text encoder once over all 16·B rows (neti's batched graph); passes 16:
    once per layer over B rows each, as the original NeTI's get_text_conditioning loop."""
    b = data.batch
    hidden = ref.CFG["hidden"]
    layer_rows = torch.arange(layers, dtype=torch.float32).repeat_interleave(b)  # row l*B + i -> l

    def step():
        noisy, noise, t, ids, pos = data.draw()
        keep = draw_keep(data.gen, layers, b, hidden, TOY["nested_dropout_prob"])
        row_t = t.to(torch.float32).repeat(layers)  # row l*B + i -> t_i (layer-major; neti now lays rows out step-major, conditioning.go: the same rows in another order)
        if passes == 1:
            word, byp = mapper(row_t, layer_rows, keep)  # [16B, D] each
            keys, values = toy.encode_concept(ids.repeat(layers, 1), pos.repeat(layers), word, byp, TOY["alpha"])
            states.keys, states.values = list(keys.split(b)), list(values.split(b))  # 16 x [B, 77, D]
        else:
            states.keys, states.values = [], []
            for l in range(layers):
                rows = slice(l * b, (l + 1) * b)
                word, byp = mapper(row_t[rows], layer_rows[rows], keep[rows])
                k, v = toy.encode_concept(ids, pos, word, byp, TOY["alpha"])
                states.keys.append(k)
                states.values.append(v)
        pred = toy.unet(noisy, t, encoder_hidden_states=states.keys[0]).sample
        loss = F.mse_loss(pred, noise)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.detach()

    return step


def make_ti_step(toy, data, vec, opt, states=None, layers=16):
    """TI: vec [D] at the placeholder. states None: one encoder pass of B rows shared by every layer (diffusers'
    textual inversion); else neti's MethodTI path: 16·B rows, per-layer states, no bypass."""
    b = data.batch

    def step():
        noisy, noise, t, ids, pos = data.draw()
        if states is None:
            keys, _ = toy.encode_concept(ids, pos, vec.expand(b, -1), None, 0.0)
            ehs = keys
        else:
            keys, _ = toy.encode_concept(ids.repeat(layers, 1), pos.repeat(layers), vec.expand(layers * b, -1), None, 0.0)
            states.keys = states.values = list(keys.split(b))
            ehs = states.keys[0]
        pred = toy.unet(noisy, t, encoder_hidden_states=ehs).sample
        loss = F.mse_loss(pred, noise)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.detach()

    return step


def adamw(params):
    return torch.optim.AdamW(params, lr=TOY["learning_rate"], betas=(TOY["beta1"], TOY["beta2"]), eps=TOY["eps"],
                             weight_decay=TOY["weight_decay"])


# ---------------------------------------------------------------------------------------------------------
# Generation


def concept_conditioning(toy, mapper, prompt_ids, pos, timesteps, layers, alpha):
    """Per-step per-layer (keys, values) of a concept prompt: the mapper on len(timesteps)·16 rows (step-major,
    row s*16 + l; timesteps rounded to integers as neti's conditioning), one text-encoder pass over all rows."""
    s = len(timesteps)
    ts = torch.round(timesteps.to(torch.float32)).repeat_interleave(layers)
    ls = torch.arange(layers, dtype=torch.float32).repeat(s)
    keep = torch.full((s * layers,), ref.CFG["hidden"], dtype=torch.long)
    word, byp = mapper(ts, ls, keep)
    keys, values = toy.encode_concept(prompt_ids.expand(s * layers, -1), torch.full((s * layers,), pos), word, byp, alpha)
    return keys.view(s, layers, *keys.shape[1:]), values.view(s, layers, *values.shape[1:])


def generate(toy, n, steps, guidance, seed, cond_ids=None, uncond_ids=None, concept=None, states=None):
    """One guided generation of n images (neti's Pipeline.Generate): returns uint8 [n, H, W, 3].
    Plain: cond_ids [77]; encoder once over [uncond, cond]. Concept: concept = (keys, values) [S, 16, 77, D]
    precomputed, or a callable returning them (timed inside)."""
    sched = toy.dpm
    sched.set_timesteps(steps)
    timesteps = sched.timesteps
    g = torch.Generator().manual_seed(seed)
    c = toy.unet.config.in_channels
    h = w = toy.unet.config.sample_size
    latents = torch.randn(n, c, h, w, generator=g) * sched.init_noise_sigma
    if concept is None:
        st = toy.encode_plain(torch.stack([uncond_ids, cond_ids]))  # [2, 77, D]
        ehs = torch.cat([st[:1].expand(n, -1, -1), st[1:].expand(n, -1, -1)])  # uncond first
    else:
        if callable(concept):
            concept = concept(timesteps)
        ck, cv = concept
        uncond = toy.encode_plain(uncond_ids[None]).expand(n, -1, -1)
    for k, t in enumerate(timesteps):
        inp = sched.scale_model_input(torch.cat([latents, latents]), t)
        if concept is not None:
            states.keys = [torch.cat([uncond, ck[k, l][None].expand(n, -1, -1)]) for l in range(ck.shape[1])]
            states.values = [torch.cat([uncond, cv[k, l][None].expand(n, -1, -1)]) for l in range(cv.shape[1])]
            ehs = states.keys[0]
        out = toy.unet(inp, t, encoder_hidden_states=ehs).sample
        u, cnd = out.chunk(2)
        latents = sched.step(u + guidance * (cnd - u), t, latents).prev_sample
    pixels = toy.vae.decode(latents / toy.scaling + toy.shift).sample
    return ((pixels / 2 + 0.5).clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()


# ---------------------------------------------------------------------------------------------------------


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    ap.add_argument("--model", default=os.path.join(REPO, "models", "toymodel"))
    ap.add_argument("--images", default=os.path.join(REPO, "examples", "concepts", "tealstar"))
    ap.add_argument("--placeholder", default="<tealstar>")
    ap.add_argument("--super_category", default="star", help="tealstar's (examples/concepts/tealstar/concept.json)")
    ap.add_argument("--batch", type=int, default=TOY["batch_size"], help="training batch (neti.ToyPreset: 2)")
    ap.add_argument("--train_steps", type=int, default=50, help="timed optimizer steps per method (K)")
    ap.add_argument("--train_warmup", type=int, default=5, help="untimed optimizer steps before them")
    ap.add_argument("--gen_runs", type=int, default=10, help="timed generations per case")
    ap.add_argument("--gen_warmup", type=int, default=2, help="untimed generations before them")
    ap.add_argument("--inference_steps", type=int, default=20)
    ap.add_argument("--guidance", type=float, default=7.5)
    ap.add_argument("--prompt", default="a blue striped star", help="plain prompt")
    ap.add_argument("--concept_prompt", default="a {} on a green background", help="{} = the placeholder")
    ap.add_argument("--negative_prompt", default="")
    ap.add_argument("--images_per_prompt", default="1,4", help="batch sizes of the generation cases")
    ap.add_argument("--only", default="neti,ti,gen", help="comma list of sections: neti, ti, gen")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="", help="also write the JSON here")
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    sections = set(args.only.split(","))
    t_start = time.perf_counter()

    import diffusers
    import transformers

    toy = Toy(args.model, args.placeholder, args.super_category)
    layers = len(toy.layer_modules)
    target_norm = float(toy.super_embedding.norm())
    states = LayerStates()
    mapper = build_mapper(toy.width, target_norm, args.seed, layers)
    n_mapper = sum(p.numel() for p in mapper.parameters())
    log(f"loaded {args.model}: text width {toy.width}, {layers} cross-attention layers, "
        f"{toy.resolution}px, mapper {n_mapper} params, {args.threads} threads")

    result = {
        "tool": "tools/perf/torch_toy.py",
        "versions": {"python": platform.python_version(), "torch": torch.__version__, "diffusers": diffusers.__version__,
                     "transformers": transformers.__version__, "numpy": np.__version__},
        "threads": torch.get_num_threads(), "interop_threads": torch.get_num_interop_threads(),
        "cpu": cpu_model(), "cpu_count": os.cpu_count(), "mkldnn": torch.backends.mkldnn.is_available(),
        "load_average_at_start": list(os.getloadavg()),
        "settings": {
            "model": os.path.relpath(args.model, REPO), "images": os.path.relpath(args.images, REPO),
            "dtype": "float32", "resolution_px": toy.resolution, "seed": args.seed,
            "latent_shape": [toy.unet.config.in_channels, toy.unet.config.sample_size, toy.unet.config.sample_size],
            "placeholder": args.placeholder, "super_category": args.super_category,
            "target_norm": round(target_norm, 6),
            "train": dict(TOY, batch_size=args.batch, templates=TOY_TEMPLATES, optimizer="torch.optim.AdamW",
                          text_encoder_rows_per_step={"neti": layers * args.batch, "ti": args.batch,
                                                      "ti_perlayer": layers * args.batch},
                          text_encoder_passes_per_step={"neti": 1, "neti_16passes": layers, "ti": 1,
                                                        "ti_perlayer": 1},
                          cached="VAE posterior (mean, std) of each image and its flip, encoded before timing",
                          timed_steps=args.train_steps, warmup_steps=args.train_warmup),
            "mapper": {"num_fourier": 1024, "hidden": 128, "time_anchors": 10, "layers": layers, "bypass": True,
                       "normalize": "word", "params": n_mapper, "init": "random (seeded)"},
            "generate": {"steps": args.inference_steps, "guidance_scale": args.guidance,
                         "scheduler": "DPMSolverMultistepScheduler(algorithm_type=dpmsolver++, solver_order=2) "
                                      "from the model's scheduler config", "prompt": args.prompt,
                         "concept_prompt": args.concept_prompt.replace("{}", args.placeholder),
                         "negative_prompt": args.negative_prompt, "includes": "text encoding, denoising loop, "
                         "VAE decode, 8-bit conversion", "truncation": 128,
                         "timed_runs": args.gen_runs, "warmup_runs": args.gen_warmup},
            "attention": "F.scaled_dot_product_attention (diffusers AttnProcessor2_0; per-layer attn2 processors "
                         "keyed by fixed layer index for NeTI)",
        },
        "results": {},
        "checks": {},
    }
    res, checks = result["results"], result["checks"]

    need_data = bool(sections & {"neti", "ti"})
    if need_data:
        t0 = time.perf_counter()
        data = Trainer(toy, args.images, args.placeholder, args.batch, args.seed)
        result["settings"]["train"]["images_n"] = len(data.files)
        result["settings"]["train"]["vae_encode_ms_outside_timing"] = round((time.perf_counter() - t0) * 1000, 1)

    # ---- cheap correctness checks (outside the timings)
    with torch.no_grad():
        g = torch.Generator().manual_seed(1)
        tt = torch.randint(0, 1000, (8,)).float()
        ll = torch.randint(0, layers, (8,)).float()
        keep = torch.randint(0, 129, (8,), generator=g)
        w_fast, b_fast = mapper(tt, ll, keep)
        w_ref, b_ref = ref.Mapper.forward(mapper, tt, ll, keep.tolist(), "word")
        checks["mapper_vs_reference_max_abs"] = float(max((w_fast - w_ref).abs().max(), (b_fast - b_ref).abs().max()))
        h = torch.randn(4, 77, toy.width, generator=g)
        pos = torch.tensor([2, 5, 9, 5])
        b = torch.randn(4, toy.width, generator=g)
        fast = textual_bypass_fast(h, pos, b, 0.2)
        slow = ref.textual_bypass(h, pos[:, None], b[:, None], [0.2])
        checks["bypass_vs_reference_max_abs"] = float((fast - slow).abs().max())
        # per-layer processors fed one state for every layer = the stock UNet
        x = torch.randn(2, 4, toy.unet.config.sample_size, toy.unet.config.sample_size, generator=g)
        st = toy.encode_plain(torch.stack([toy.ids(""), toy.ids(args.prompt)]))
        set_processors(toy.unet, toy.layer_modules, None)
        plain = toy.unet(x, torch.tensor([500, 500]), encoder_hidden_states=st).sample
        set_processors(toy.unet, toy.layer_modules, states)
        states.keys = states.values = [st] * layers
        per = toy.unet(x, torch.tensor([500, 500]), encoder_hidden_states=st).sample
        checks["perlayer_equals_stock_max_abs"] = float((plain - per).abs().max())
        # layer l's states reach layer l only: perturb layer 6's values, the output must change
        states.values = [st] * layers
        states.values[6] = st + 1.0
        per6 = toy.unet(x, torch.tensor([500, 500]), encoder_hidden_states=st).sample
        checks["perlayer_layer6_changes_output"] = bool((per6 - per).abs().max() > 1e-4)
    assert checks["mapper_vs_reference_max_abs"] < 1e-5, checks
    assert checks["bypass_vs_reference_max_abs"] < 1e-5, checks
    assert checks["perlayer_equals_stock_max_abs"] < 1e-4, checks
    assert checks["perlayer_layer6_changes_output"], checks

    # ---- 1. + 2. Training steps: NeTI, NeTI with 16 encoder passes, TI, TI through the per-layer path
    if need_data:
        train_cases = []
        if "neti" in sections:
            set_processors(toy.unet, toy.layer_modules, states)
            opt = adamw(list(mapper.parameters()))
            step = make_neti_step(toy, data, mapper, states, opt, layers)
            before = [p.detach().clone() for p in mapper.parameters()]
            loss = step()
            changed = sum(int(not torch.equal(a, p.detach())) for a, p in zip(before, mapper.parameters()))
            checks["neti_first_loss"] = float(loss)
            checks["neti_loss_finite"] = bool(torch.isfinite(loss))
            checks["neti_mapper_tensors_changed"] = f"{changed}/{len(before)}"
            assert checks["neti_loss_finite"], "NeTI loss is not finite"
            assert changed == len(before), f"only {changed}/{len(before)} mapper tensors changed after a step"
            losses = []
            per_layer = lambda: set_processors(toy.unet, toy.layer_modules, states)  # noqa: E731
            train_cases.append(("neti_step", per_layer, lambda: losses.append(float(step()))))
            train_cases.append(("neti_step_16passes", per_layer,
                                make_neti_step(toy, data, mapper, states, opt, layers, passes=layers)))
        if "ti" in sections:
            set_processors(toy.unet, toy.layer_modules, None)
            vec = torch.nn.Parameter(toy.super_embedding.clone())
            ti = make_ti_step(toy, data, vec, adamw([vec]))
            before = vec.detach().clone()
            loss = ti()
            checks["ti_loss_finite"] = bool(torch.isfinite(loss))
            checks["ti_vector_changed"] = bool(not torch.equal(before, vec.detach()))
            assert checks["ti_loss_finite"] and checks["ti_vector_changed"], checks
            vec2 = torch.nn.Parameter(toy.super_embedding.clone())
            train_cases.append(("ti_step", lambda: set_processors(toy.unet, toy.layer_modules, None), ti))
            train_cases.append(("ti_step_perlayer", lambda: set_processors(toy.unet, toy.layer_modules, states),
                                make_ti_step(toy, data, vec2, adamw([vec2]), states=states, layers=layers)))
        log(f"timing {', '.join(c[0] for c in train_cases)} (interleaved, {args.train_steps} steps each) ...")
        res.update(timed_interleaved(train_cases, args.train_steps, args.train_warmup))
        if "neti" in sections:
            checks["neti_mean_loss_timed_steps"] = round(statistics.fmean(losses[-args.train_steps:]), 5)
        for name, _, _ in train_cases:
            log(f"  {name} {res[name]['median_ms']} ms median")

    # ---- 3. Generation
    if "gen" in sections:
        uncond_ids = toy.ids(args.negative_prompt)
        plain_ids = toy.ids(args.prompt)
        cprompt = args.concept_prompt.replace("{}", args.placeholder)
        cids = toy.ids(cprompt)
        cpos = (cids == toy.placeholder_id).nonzero()
        assert len(cpos) == 1, f"concept prompt {cprompt!r} must hold the placeholder once"
        cpos = int(cpos[0, 0])
        steps, gs = args.inference_steps, args.guidance
        sizes = [int(x) for x in args.images_per_prompt.split(",")]

        def cond_fn(timesteps):
            return concept_conditioning(toy, mapper, cids[None], cpos, timesteps, layers, TOY["alpha"])

        with torch.inference_mode():
            toy.dpm.set_timesteps(steps)
            timesteps = toy.dpm.timesteps.clone()
            result["settings"]["generate"]["timesteps"] = [int(t) for t in timesteps]
            cached = cond_fn(timesteps)
            plain = lambda: set_processors(toy.unet, toy.layer_modules, None)  # noqa: E731
            per_layer = lambda: set_processors(toy.unet, toy.layer_modules, states)  # noqa: E731
            gen_cases = [("neti_conditioning", per_layer, lambda: cond_fn(timesteps))]
            for n in sizes:
                gen_cases += [
                    (f"gen_plain_{n}img", plain,
                     lambda n=n: generate(toy, n, steps, gs, args.seed, plain_ids, uncond_ids)),
                    (f"gen_neti_{n}img", per_layer,
                     lambda n=n: generate(toy, n, steps, gs, args.seed, None, uncond_ids, cond_fn, states)),
                    (f"gen_neti_{n}img_cached", per_layer,
                     lambda n=n: generate(toy, n, steps, gs, args.seed, None, uncond_ids, cached, states)),
                ]
            log(f"timing {', '.join(c[0] for c in gen_cases)} (interleaved, {args.gen_runs} runs each) ...")
            res.update(timed_interleaved(gen_cases, args.gen_runs, args.gen_warmup))
            for n in sizes:
                for kind in ("neti", "neti_cached"):
                    name = f"gen_neti_{n}img" + ("_cached" if kind == "neti_cached" else "")
                    res[f"gen_{n}img_ratio_{kind}_over_plain"] = round(
                        res[name]["median_ms"] / res[f"gen_plain_{n}img"]["median_ms"], 3)
                log(f"  {n} image(s): plain {res[f'gen_plain_{n}img']['median_ms']} ms, "
                    f"neti {res[f'gen_neti_{n}img']['median_ms']} ms, "
                    f"neti cached {res[f'gen_neti_{n}img_cached']['median_ms']} ms")
            per_layer()
            imgs = generate(toy, 1, steps, gs, args.seed, None, uncond_ids, cached, states)
            checks["gen_neti_image_shape"] = list(imgs.shape)
            checks["gen_neti_image_std"] = round(float(imgs.astype(np.float32).std()), 2)

    result["load_average_at_end"] = list(os.getloadavg())
    result["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    result["wall_s"] = round(time.perf_counter() - t_start, 1)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
