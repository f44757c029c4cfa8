"""Trains the toy-world CLIP text encoder and UNet jointly on VAE latents (epsilon prediction, DDPM
scaled_linear 1000 steps, 10% caption dropout for classifier-free guidance, AdamW, EMA), checkpointing
every few minutes and resuming from the last checkpoint."""

import argparse
import copy
import json
import os
import time

import numpy as np
import torch
from diffusers import DDPMScheduler, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

import common
import ddp

# The attribute words of toyworld/attributes.go and toyworld/finewords.go. Some words serve several
# attributes and the next word tells which (as toyworld.ParseCaption reads them): a colour word names the
# background before "background", the outline before "outline", the mark before "dot" or "ring", else the
# object; "light" and "dark" name the pattern's tone before "stripes", "dots" or "checker", the outline
# before "outline", else the object's shade.
COLORS = ["red", "orange", "yellow", "green", "blue", "purple", "pink", "white", "black"]
SHAPES = ["circle", "square", "triangle", "star", "heart", "cross", "diamond", "moon"]
SIZES = ["small", "medium", "large"]
POSITIONS = ["center", "left", "right", "top", "bottom"]
PATTERN_NOUNS = ["stripes", "dots", "checker"]

# attribute → (its words, the rule on the next word: None, ("in", words) or ("not_in", words)).
ATTRIBUTES = dict(
    shape=(SHAPES, None), size=(SIZES, None), position=(POSITIONS, None),
    color=(COLORS, ("not_in", ["background", "outline", "dot", "ring"])),
    background=(COLORS, ("in", ["background"])),
    hue=(["warm", "cool"], None),
    shade=(["light", "dark"], ("not_in", PATTERN_NOUNS + ["outline"])),
    outline=(["no", "black", "white", "dark"], ("in", ["outline"])),
    outline_width=(["thin", "thick"], None),
    mark=(["mark", "dot", "ring"], None),  # "mark" occurs only in "no mark"
    mark_color=(["white", "black"], ("in", ["dot", "ring"])),
    tilt=(["upright", "clockwise", "anticlockwise"], None),
    tilt_amount=(["slightly", "strongly"], None),
    pattern_tone=(["light", "dark"], ("in", PATTERN_NOUNS)),
    pattern_scale=(["fine", "coarse"], None),
)


def build(tok, channels="", norm_groups=0, latent_channels=4):
    """The text encoder and UNet of common's configurations; channels ("32,64,64,64") and norm_groups
    override the UNet's block_out_channels and norm_num_groups, latent_channels its in and out channels."""
    cfg = dict(common.TEXT_CONFIG)
    cfg.update(vocab_size=len(tok), bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
               pad_token_id=tok.pad_token_id)
    text = CLIPTextModel(CLIPTextConfig(**cfg))
    ucfg = dict(common.UNET_CONFIG)
    if channels:
        ucfg["block_out_channels"] = [int(c) for c in channels.split(",")]
    if norm_groups:
        ucfg["norm_num_groups"] = norm_groups
    ucfg["in_channels"] = ucfg["out_channels"] = latent_channels
    unet = UNet2DConditionModel(**ucfg)
    return text, unet


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--ema", type=float, default=0.995)
    ap.add_argument("--drop", type=float, default=0.1)
    ap.add_argument("--max_steps", type=int, default=0,
                    help="stop after this many steps, the learning-rate schedule following them (0: time only)")
    ap.add_argument("--ckpt_minutes", type=float, default=4)
    ap.add_argument("--offset_noise", type=float, default=0.0,
                    help="std of a per-sample, per-channel constant added to the noise (see the model card)")
    ap.add_argument("--min_snr", type=float, default=0.0,
                    help="Min-SNR-γ loss weighting (Hang et al. 2023): weight min(SNR, γ)/SNR per sample "
                         "(min(SNR, γ)/(SNR + 1) with v-prediction); 0: off")
    ap.add_argument("--prediction_type", choices=["epsilon", "v_prediction"], default="epsilon",
                    help="what the UNet predicts (diffusers' scheduler prediction_type; export.py needs the same): "
                         "v_prediction weights an error in the clean latent by SNR + 1 where epsilon weights it by SNR, "
                         "so the high-noise steps that decide colour and shape, where conditioning matters, count")
    ap.add_argument("--fg_weight", type=float, default=0.0,
                    help="extra loss weight on the latent pixels of the object (common.latent_object_masks): "
                         "the object is a few percent of the latent; 0: plain mean")
    ap.add_argument("--caption_variants", default="",
                    help="captions.jsonl of gendata --caption_variants: each step draws an example's caption "
                         "uniformly among its metadata caption and these")
    ap.add_argument("--unet_channels", default="", help="UNet block_out_channels, e.g. 32,64,64,64 (default: common)")
    ap.add_argument("--norm_groups", type=int, default=0, help="UNet norm_num_groups (default: common)")
    ap.add_argument("--init_text_from", default="",
                    help="start the text encoder (weights and EMA) from another run's ckpt.pt; the UNet starts fresh")
    ap.add_argument("--init_from", default="", help="start from the weights (and EMA) of another run's ckpt.pt")
    ap.add_argument("--init_model", default="",
                    help="start the text encoder and UNet from an exported model (export.py's folder, e.g. "
                         "models/toymodel): a fine-tune; token embeddings follow the token strings, so words new to "
                         "--tokenizer (names) start fresh and every old word keeps its row; the heads start fresh")
    ap.add_argument("--attr_aux", type=float, default=0.0,
                    help="weight of an auxiliary loss that makes every text state after an attribute word (the shape, "
                         "size, position, colour, background and, with --aux_attributes, fine words) predict that word "
                         "(linear heads, trained with the text encoder, not exported)")
    ap.add_argument("--aux_attributes", default="shape,size,position,color,background",
                    help="the attributes of --attr_aux, names of ATTRIBUTES, or 'all' (a run of session 4 used "
                         "shape,size,position; the v2 model all)")
    ap.add_argument("--individuals", default="",
                    help="gendata's individuals.jsonl: with --name_aux, the appearance each name stands for")
    ap.add_argument("--name_aux", type=float, default=0.0,
                    help="weight of an auxiliary loss that makes every text state at or after an individual's name "
                         "tell its appearance: shape, colour, pattern, outline, mark and mark colour (cross-entropy) "
                         "and its exact hue and lightness shift, rotation, outline width, pattern tone and period "
                         "(squared error, scaled to about unit range); heads trained with the text encoder, not exported")
    ap.add_argument("--identity_token", type=float, default=0.0,
                    help="a probe (issue 14): in this fraction of examples the caption names the object only by one "
                         "placeholder token whose input embedding is a small encoder's image of the scene's identity "
                         "(shape, colour, pattern and every fine value: IDENTITY_CLASSES, IDENTITY_VALUES), so that "
                         "the text path learns to carry exact appearance; the encoder is trained with the model, "
                         "kept in ckpt.pt and not exported (identity_oracle.py samples from it)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--procs", type=int, default=1,
                    help="data-parallel processes of --threads threads each (ddp.py); --batch is the total")
    ap.add_argument("--device", default="cpu",
                    help="torch device: cpu (default) or cuda (one process; bf16 autocast; the data stay on the CPU "
                         "and each batch moves)")
    a = ap.parse_args()
    if a.init_model and (a.init_from or a.init_text_from):
        raise SystemExit("--init_model starts from an exported model: leave out --init_from and --init_text_from")
    if bool(a.name_aux) != bool(a.individuals):
        raise SystemExit("--name_aux and --individuals go together")
    if a.device != "cpu" and a.procs != 1:
        raise SystemExit(f"--device {a.device} trains in one process: expected --procs 1, got {a.procs}")
    ddp.launch(train, a, a.procs)


def train(a, grp):
    """Trains text encoder and UNet as process grp.rank of grp.world (see ddp.py)."""
    common.setup(a.seed, a.threads)
    batch = grp.share(a.batch)
    log = grp.log(os.path.join(a.work, "unet_log.jsonl"))
    tok = CLIPTokenizer.from_pretrained(a.tokenizer)
    rows = [json.loads(l) for l in open(os.path.join(a.data, "metadata.jsonl"))]
    lat = np.load(os.path.join(a.work, "latents.npz"))
    lmean = torch.from_numpy(lat["mean"].astype(np.float32))
    lstd = torch.from_numpy(lat["std"].astype(np.float32))
    scale = json.load(open(os.path.join(a.work, "vae_stats.json")))["scaling_factor"]
    captions = [r["caption"] for r in rows]
    ids = tok(captions, padding="max_length", max_length=77, truncation=True, return_tensors="pt").input_ids
    ids = ids.unsqueeze(1)  # [N, 1, 77]: one caption per example
    if a.caption_variants:
        extra = [json.loads(l) for l in open(a.caption_variants)]
        assert len(extra) == len(rows), f"{a.caption_variants}: {len(extra)} lines for {len(rows)} examples"
        k = len(extra[0])
        flat = [c for cs in extra for c in cs]
        more = tok(flat, padding="max_length", max_length=77, truncation=True, return_tensors="pt").input_ids
        ids = torch.cat([ids, more.view(len(rows), k, 77)], dim=1)  # [N, 1+k, 77]
    empty = tok([""], padding="max_length", max_length=77, return_tensors="pt").input_ids[0]
    # Examples whose PNG may show another scene than the metadata (see gendata's redrawn.jsonl) are left out.
    rp = os.path.join(a.data, "redrawn.jsonl")
    redrawn = {int(l) for l in open(rp)} if os.path.exists(rp) else set()
    keep = torch.tensor([i for i in range(len(rows)) if i not in redrawn])
    n = len(keep)

    masks = None
    if a.fg_weight:
        imgs, _ = common.load_images(a.data)
        masks = common.latent_object_masks(imgs)  # [N, 1, 16, 16]
        del imgs
        log(stage="object_masks", mean_fraction=float(masks.float().mean()))

    dev = torch.device(a.device)
    text, unet = build(tok, a.unet_channels, a.norm_groups, latent_channels=lmean.shape[1])
    if a.init_model and not os.path.exists(os.path.join(a.work, "ckpt.pt")):
        kept, fresh = init_from_model(a.init_model, tok, text, unet)
        log(stage="init_model", path=a.init_model, tokens_kept=kept, tokens_fresh=fresh)
    heads, attr_ids = torch.nn.ModuleList(), []
    token = lambda w: tok.convert_tokens_to_ids(w + "</w>")  # a caption word's (or name's) one token
    if a.attr_aux:
        names = ATTRIBUTES if a.aux_attributes == "all" else a.aux_attributes.split(",")
        for name in names:
            words, rule = ATTRIBUTES[name]
            if rule is not None:
                rule = (rule[0], torch.tensor([token(w) for w in rule[1]], device=dev))
            attr_ids.append((torch.tensor([token(w) for w in words], device=dev), rule))
            heads.append(torch.nn.Linear(text.config.hidden_size, len(words)))
    names = None
    if a.name_aux:  # identity heads after the attribute heads, in the same ModuleList (saved and resumed with it)
        names = individual_targets(a.individuals, token, dev)
        for classes in IDENTITY_CLASSES.values():
            heads.append(torch.nn.Linear(text.config.hidden_size, len(classes)))
        heads.append(torch.nn.Linear(text.config.hidden_size, len(IDENTITY_VALUES)))
    ident = None
    if a.identity_token:  # the identity encoder after every head, in the same ModuleList
        ident = identity_captions(rows, tok)
        emb = text.get_input_embeddings().weight.detach()  # [V, D]
        words = sorted({token(w) for ws, _ in ATTRIBUTES.values() for w in ws})
        heads.append(IdentityEncoder(ident[0].shape[1], text.config.hidden_size,
                                     float(emb[words].norm(dim=1).mean())))
        hook = placeholder_hook(text, ident[2])  # the placeholder's input embedding: the encoder's output
        log(stage="identity_token", fraction=a.identity_token, target_norm=heads[-1].norm)
    text, unet, heads = text.to(dev), unet.to(dev), heads.to(dev)
    params = list(text.parameters()) + list(unet.parameters()) + list(heads.parameters())
    grp.sync_params(params)
    opt = torch.optim.AdamW(params, lr=a.lr, weight_decay=0.01)
    sched = DDPMScheduler(**{k: v for k, v in common.SCHEDULER_CONFIG.items()
                             if k not in ("skip_prk_steps", "set_alpha_to_one")})
    acp = sched.alphas_cumprod.to(dev)
    ema_text, ema_unet = copy.deepcopy(text).eval(), copy.deepcopy(unet).eval()
    for p in list(ema_text.parameters()) + list(ema_unet.parameters()):
        p.requires_grad_(False)
    g = torch.Generator().manual_seed(a.seed + 7919 * grp.rank)  # each process draws its own examples
    step, spent = 0, 0.0
    ck = os.path.join(a.work, "ckpt.pt")
    if a.init_from and not os.path.exists(ck):
        s = torch.load(os.path.join(a.init_from, "ckpt.pt"), weights_only=False, map_location=dev)
        text.load_state_dict(s["text"]); unet.load_state_dict(s["unet"])
        ema_text.load_state_dict(s["ema_text"]); ema_unet.load_state_dict(s["ema_unet"])
        if a.attr_aux and len(s.get("heads", {})) == len(heads.state_dict()):
            heads.load_state_dict(s["heads"])  # same attributes: keep the trained heads
        log(stage="init_from", path=a.init_from, step=s["step"])
    if a.init_text_from and not os.path.exists(ck):
        s = torch.load(os.path.join(a.init_text_from, "ckpt.pt"), weights_only=False, map_location=dev)
        text.load_state_dict(s["text"]); ema_text.load_state_dict(s["ema_text"])
        log(stage="init_text_from", path=a.init_text_from, step=s["step"])
    if os.path.exists(ck):
        s = torch.load(ck, weights_only=False, map_location=dev)
        text.load_state_dict(s["text"]); unet.load_state_dict(s["unet"])
        ema_text.load_state_dict(s["ema_text"]); ema_unet.load_state_dict(s["ema_unet"])
        if a.attr_aux or a.name_aux or a.identity_token:
            heads.load_state_dict(s["heads"])
        opt.load_state_dict(s["opt"])
        gens = s.get("gens", [s["gen"]])
        if len(gens) != grp.world:
            raise SystemExit(f"{ck} was written by {len(gens)} process(es): resume it with --procs {len(gens)}")
        g.set_state(gens[grp.rank].cpu())
        step, spent = s["step"], s["spent"]
        log(stage="resume", step=step, spent_s=spent)
    t_start = time.time() - spent
    budget = a.minutes * 60
    last_ck = time.time()
    text.train(); unet.train()
    run_loss, run_aux, run_name = [], [], []
    while True:
        go_on, frac, save_now = grp.control(
            float(time.time() - t_start < budget and (a.max_steps == 0 or step < a.max_steps)),
            (time.time() - t_start) / budget, float(time.time() - last_ck > a.ckpt_minutes * 60))
        if not go_on:
            break
        if save_now:
            save(a, grp, ck, text, unet, ema_text, ema_unet, heads, opt, g, step, time.time() - t_start)
            last_ck = time.time()
        if a.max_steps:  # a step budget: the schedule follows the steps, so a run's result does not depend on load
            frac = step / a.max_steps
        lr = a.lr * min(1.0, (step + 1) / a.warmup) * (0.5 * (1 + np.cos(np.pi * frac)) * 0.9 + 0.1)
        for pg in opt.param_groups:
            pg["lr"] = lr
        idx = keep[torch.randint(0, n, (batch,), generator=g)]
        z = (lmean[idx] + lstd[idx] * torch.randn(lmean[idx].shape, generator=g)) * scale
        pick = torch.randint(0, ids.shape[1], (batch,), generator=g) if ids.shape[1] > 1 else 0
        tid = ids[idx, pick].clone()
        drop = torch.rand(batch, generator=g) < a.drop
        tid[drop] = empty
        if ident is not None:
            use = (torch.rand(batch, generator=g) < a.identity_token) & ~drop
            form = torch.randint(0, ident[1].shape[1], (batch,), generator=g)
            tid[use] = ident[1][idx[use], form[use]]
        t = torch.randint(0, 1000, (batch,), generator=g)
        eps = torch.randn(z.shape, generator=g)
        if a.offset_noise:
            # A random constant per channel: the latent's mean (the background colour) survives SD's
            # schedule at 16×16 even at t=999, so without it the initial noise, not the prompt, chose it.
            eps = eps + a.offset_noise * torch.randn(z.shape[:2] + (1, 1), generator=g)
        z, eps, t, tid = z.to(dev), eps.to(dev), t.to(dev), tid.to(dev)
        ab = acp[t].view(-1, 1, 1, 1)
        zt = ab.sqrt() * z + (1 - ab).sqrt() * eps
        if ident is not None:  # every example's vector, used or not, so that each process has the gradient
            hook["v"] = heads[-1](ident[0][idx].to(dev))  # [B, D]
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=dev.type == "cuda"):
            enc = text(tid).last_hidden_state
            pred = unet(zt, t, encoder_hidden_states=enc).sample
        enc, pred = enc.float(), pred.float()
        target = eps if a.prediction_type == "epsilon" else ab.sqrt() * eps - (1 - ab).sqrt() * z
        err = (pred - target).pow(2)  # [B, C, 16, 16]
        if masks is not None:
            # The object is a few percent of the latent pixels; weight them (1 + fg_weight), per sample
            # normalised so that the loss keeps its scale.
            pw = 1 + a.fg_weight * masks[idx].float().to(dev)  # [B, 1, 16, 16]
            per = (pw * err).mean(dim=(1, 2, 3)) / pw.mean(dim=(1, 2, 3))
        else:
            per = err.mean(dim=(1, 2, 3))
        if a.min_snr:
            # Down-weights the low-noise timesteps (fine detail) so that the high-noise ones, where shape,
            # colour and background are decided, get most of the gradient.
            snr = ab.view(-1) / (1 - ab.view(-1))
            per = torch.clamp(snr, max=a.min_snr) / (snr if a.prediction_type == "epsilon" else snr + 1) * per
        loss = per.mean()
        if ident is not None:
            loss = loss + 0 * hook["v"].sum()
            hook["v"] = None
        if a.attr_aux:
            aux = attribute_loss(enc, tid, heads, attr_ids)
            run_aux.append(aux.item())
            loss = loss + a.attr_aux * aux
        if names is not None:
            nl = identity_loss(enc, tid, heads[len(attr_ids):], names)
            run_name.append(nl.item())
            loss = loss + a.name_aux * nl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        mean_loss = grp.average(params, loss)  # every process now holds the whole batch's gradient
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        if grp.leader:  # only the leader keeps (and saves) the EMA weights
            d = min(a.ema, (1 + step) / (10 + step))
            with torch.no_grad():
                for m, e in ((text, ema_text), (unet, ema_unet)):
                    for p, q in zip(m.parameters(), e.parameters()):
                        q.mul_(d).add_(p.detach(), alpha=1 - d)
        run_loss.append(float(mean_loss))
        if step % 10 == 0:
            extra = dict(attr_loss=float(np.mean(run_aux))) if run_aux else {}
            if run_name:
                extra["name_loss"] = float(np.mean(run_name))
            log(stage="unet", step=step, loss=float(np.mean(run_loss)), lr=lr, **extra)
            run_loss, run_aux, run_name = [], [], []
    save(a, grp, ck, text, unet, ema_text, ema_unet, heads, opt, g, step, time.time() - t_start)
    log(stage="unet_done", step=step)


def init_from_model(folder, tok, text, unet):
    """Loads an exported model's UNet and text encoder (float16 on disk) into unet and text, which must have
    the same configuration but may have a larger vocabulary: each token embedding row is copied by its token
    string, so new tokens keep text's fresh rows. Returns (rows copied, rows left fresh)."""
    old = UNet2DConditionModel.from_pretrained(os.path.join(folder, "unet"), torch_dtype=torch.float32)
    unet.load_state_dict(old.state_dict())
    sd = CLIPTextModel.from_pretrained(os.path.join(folder, "text_encoder"), torch_dtype=torch.float32).state_dict()
    key = next(k for k in sd if k.endswith("embeddings.token_embedding.weight"))
    rows = text.state_dict()[key].clone()  # [new vocabulary, D]
    vocab = tok.get_vocab()
    old_vocab = json.load(open(os.path.join(folder, "tokenizer", "vocab.json")))
    kept = 0
    for t, i in old_vocab.items():
        if t in vocab:
            rows[vocab[t]] = sd[key][i]
            kept += 1
    sd[key] = rows
    text.load_state_dict(sd)
    return kept, len(vocab) - kept


def attribute_loss(enc, tid, heads, attr_ids):
    """Cross-entropy of linear heads that read, from every text state at or after an attribute word's
    position (the causal encoder's states there can know it, the padding states included), which word of
    its attribute it was. enc [B, 77, D], tid [B, 77]; captions without the attribute do not count.
    attr_ids holds (token ids, rule): rule None counts every occurrence, ("in", ids) only words followed
    by one of ids, ("not_in", ids) only words followed by none of them."""
    total = 0.0
    pos_range = torch.arange(tid.shape[1], device=tid.device)
    following = torch.roll(tid, -1, dims=1)  # [B, 77]: the next token
    for head, (ids, rule) in zip(heads, attr_ids):
        hit = tid.unsqueeze(-1) == ids  # [B, 77, V]
        if rule is not None:
            ok = torch.isin(following, rule[1])  # [B, 77]
            hit = hit & (ok if rule[0] == "in" else ~ok).unsqueeze(-1)
        present = hit.any(-1)  # [B, 77]
        has = present.any(1)  # [B]
        pos = present.float().argmax(1)  # [B] first position of the word
        label = hit.float().argmax(-1).gather(1, pos.unsqueeze(1))  # [B, 1]
        w = ((pos_range >= pos.unsqueeze(1)) & has.unsqueeze(1)).float()  # [B, 77]
        logits = head(enc)  # [B, 77, V]
        ce = torch.nn.functional.cross_entropy(logits.transpose(1, 2), label.expand(-1, tid.shape[1]),
                                               reduction="none")  # [B, 77]
        total = total + (ce * w).sum() / w.sum().clamp(min=1)
    return total


# The appearance an individual's name stands for (toyworld.Individual's Scene): its classes, and its exact
# values with a scale that brings each to about unit range.
IDENTITY_CLASSES = dict(
    shape=SHAPES, color=COLORS,
    pattern=["plain", "striped", "dotted", "checkered"], outline=["none", "black", "white", "dark"],
    mark=["none", "dot", "ring"], mark_color=["white", "black"],
)
IDENTITY_VALUES = dict(  # scene.fine field (a key of color_jitter for the hue and lightness shifts) → scale
    dh=1 / 15, dl=1 / 0.08, rotation=1 / 20, outline_width=1 / 3, pattern_tone=2, pattern_period=1 / 7.5,
)


def individual_targets(path, token, dev):
    """Reads gendata's individuals.jsonl: (the names' token ids [N], class targets [N, len(IDENTITY_CLASSES)],
    value targets [N, len(IDENTITY_VALUES)])."""
    ids, classes, values = [], [], []
    for line in open(path):
        v = json.loads(line)
        s, f = v["scene"], v["scene"]["fine"]
        ids.append(token(v["name"]))
        classes.append([IDENTITY_CLASSES[k].index(s[k] if k in s else f[k]) for k in IDENTITY_CLASSES])
        jit = f.get("color_jitter", {})
        raw = dict(dh=jit.get("dh", 0.0), dl=jit.get("dl", 0.0), rotation=f.get("rotation", 0.0),
                   outline_width=f.get("outline_width", 0.0), pattern_tone=f.get("pattern_tone", 0.0),
                   pattern_period=f.get("pattern_period", 0.0))
        values.append([raw[k] * scale for k, scale in IDENTITY_VALUES.items()])
    t = lambda x, dt: torch.tensor(x, dtype=dt, device=dev)
    return t(ids, torch.long), t(classes, torch.long), t(values, torch.float32)


def identity_loss(enc, tid, heads, names):
    """The --name_aux loss: every text state at or after an individual's name (the first name of the caption)
    tells that individual's appearance — one cross-entropy head per IDENTITY_CLASSES entry and one regression
    head for IDENTITY_VALUES (the last of heads). enc [B, 77, D], tid [B, 77]; captions without a name do
    not count."""
    ids, classes, values = names
    hit = tid.unsqueeze(-1) == ids  # [B, 77, N]
    present = hit.any(-1)  # [B, 77]
    has = present.any(1)  # [B]; a batch without names still runs every head (weight 0), so that every
    # process of a data-parallel run has a gradient for each of them
    pos = present.float().argmax(1)  # [B] the first name's position
    who = hit.float().argmax(-1).gather(1, pos.unsqueeze(1)).squeeze(1)  # [B] which individual
    w = ((torch.arange(tid.shape[1], device=tid.device) >= pos.unsqueeze(1)) & has.unsqueeze(1)).float()  # [B, 77]
    norm = w.sum().clamp(min=1)
    total = 0.0
    for k, head in enumerate(heads[:-1]):
        logits = head(enc)  # [B, 77, C]
        label = classes[who, k].unsqueeze(1).expand(-1, tid.shape[1])  # [B, 77]
        ce = torch.nn.functional.cross_entropy(logits.transpose(1, 2), label, reduction="none")
        total = total + (ce * w).sum() / norm
    err = ((heads[-1](enc) - values[who].unsqueeze(1)) ** 2).mean(-1)  # [B, 77]
    return total + (err * w).sum() / norm


# The placeholder of --identity_token's captions ("*", one byte-level token that no caption uses).
PLACEHOLDER = "*"
IDENTITY_FORMS = ["a {id}", "a {size} {id}", "a {id} on a {bg} background", "a {size} {id} on a {bg} background, {pos}",
                  "{pos}, a {size} {id} on a {bg} background"]
POSITION_WORDS = dict(center="in the center", left="on the left", right="on the right", top="at the top",
                      bottom="at the bottom")


def identity_vector(scene):
    """A scene's identity (what a concept keeps across its images) as a vector: one-hot IDENTITY_CLASSES, the
    IDENTITY_VALUES scaled, and the pattern's angle as cos/sin of twice it (stripes repeat every 180°)."""
    f = scene["fine"]
    v = []
    for k, classes in IDENTITY_CLASSES.items():
        one = [0.0] * len(classes)
        one[classes.index(scene[k] if k in scene else f[k])] = 1.0
        v += one
    jit = f.get("color_jitter", {})
    raw = dict(dh=jit.get("dh", 0.0), dl=jit.get("dl", 0.0), rotation=f.get("rotation", 0.0),
               outline_width=f.get("outline_width", 0.0), pattern_tone=f.get("pattern_tone", 0.0),
               pattern_period=f.get("pattern_period", 0.0))
    v += [raw[k] * s for k, s in IDENTITY_VALUES.items()] + [jit.get("ds", 0.0) * 10]
    ang = np.deg2rad(2 * f.get("pattern_angle", 0.0))
    return v + [float(np.cos(ang)), float(np.sin(ang))]


def identity_captions(rows, tok):
    """--identity_token's data: (identity vectors [N, F], captions naming the object by the placeholder
    [N, len(IDENTITY_FORMS), 77] token ids: the scene's size, position and background in words, the
    placeholder's token id)."""
    ph = tok.convert_tokens_to_ids(PLACEHOLDER + "</w>")
    vecs = torch.tensor([identity_vector(r["scene"]) for r in rows], dtype=torch.float32)
    caps = [f.format(id=PLACEHOLDER, size=r["scene"]["size"], bg=r["scene"]["background"],
                     pos=POSITION_WORDS[r["scene"]["position"]]) for r in rows for f in IDENTITY_FORMS]
    ids = tok(caps, padding="max_length", max_length=77, truncation=True, return_tensors="pt").input_ids
    assert (ids == ph).sum() == len(caps), "the placeholder must be one token, once per caption"
    return vecs, ids.view(len(rows), len(IDENTITY_FORMS), 77), ph


class IdentityEncoder(torch.nn.Module):
    """--identity_token's encoder: identity vector [B, F] → a token embedding [B, D] of a fixed norm (the mean
    norm of the caption words' embeddings), as a word's would be."""

    def __init__(self, features, dim, norm):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(features, 128), torch.nn.SiLU(), torch.nn.Linear(128, dim))
        self.norm = norm

    def forward(self, x):
        return self.norm * torch.nn.functional.normalize(self.net(x), dim=-1)


def load_identity(work, text_encoder, tokenizer):
    """Loads --identity_token's encoder from a run's folder (the last module of ckpt.pt's heads; its norm from
    unet_log.jsonl) and hooks text_encoder so that, while vec["v"] [B, D] is set, the placeholder's input
    embedding is that vector. Returns (encoder, vec)."""
    heads = torch.load(os.path.join(work, "ckpt.pt"), weights_only=False, map_location="cpu")["heads"]
    index = min(int(k.split(".")[0]) for k in heads if ".net." in k)
    state = {k[len(str(index)) + 1:]: v for k, v in heads.items() if k.startswith(f"{index}.")}
    norm = next(json.loads(l)["target_norm"] for l in open(os.path.join(work, "unet_log.jsonl"))
                if '"identity_token"' in l)
    enc = IdentityEncoder(state["net.0.weight"].shape[1], state["net.2.weight"].shape[0], norm)
    enc.load_state_dict(state)
    return enc, placeholder_hook(text_encoder, tokenizer.convert_tokens_to_ids(PLACEHOLDER + "</w>"))


def placeholder_hook(text_encoder, ph):
    """Hooks text_encoder's token embedding so that, while the returned dict's "v" [B, D] is set, token ph's
    input embedding is that vector (row b of the batch gets v[b])."""
    vec = {"v": None}
    text_encoder.get_input_embeddings().register_forward_hook(
        lambda _, inp, out: out if vec["v"] is None else torch.where((inp[0] == ph).unsqueeze(-1), vec["v"].unsqueeze(1), out))
    return vec


def save(a, grp, ck, text, unet, ema_text, ema_unet, heads, opt, g, step, spent):
    """Writes the resumable checkpoint (with every process's data generator) and the EMA weights in
    diffusers/transformers format; every process calls it, the leader writes."""
    gens = grp.gather(g.get_state())
    if not grp.leader:
        return
    tmp = ck + ".tmp"
    torch.save(dict(text=text.state_dict(), unet=unet.state_dict(), ema_text=ema_text.state_dict(),
                    ema_unet=ema_unet.state_dict(), heads=heads.state_dict(), opt=opt.state_dict(),
                    gen=gens[0], gens=gens, step=step, spent=spent), tmp)
    os.replace(tmp, ck)
    ema_text.save_pretrained(os.path.join(a.work, "text_encoder"))
    ema_unet.save_pretrained(os.path.join(a.work, "unet"))


if __name__ == "__main__":
    main()
