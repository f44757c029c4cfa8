"""Trains the toy-world AutoencoderKL (L1 + L2 reconstruction + small KL), then encodes the whole
dataset into latents (posterior mean and std) and measures the latent std for scaling_factor. The training
checkpoints every few minutes (WORK/vae_ckpt.pt: weights, optimizer, random streams, step and time spent)
and resumes from it when started again with the same arguments, so --minutes is the total over runs."""

import argparse
import json
import os
import time

import numpy as np
import torch
from diffusers import AutoencoderKL

import common
import ddp


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--kl", type=float, default=1e-6)
    ap.add_argument("--vae_images", type=int, default=0, help="train on the first N PNGs only")
    ap.add_argument("--crop", type=int, default=32, help="train on random crops of this size (0: whole images)")
    ap.add_argument("--resume", action="store_true", help="continue from WORK/vae (fresh optimizer)")
    ap.add_argument("--encode_only", action="store_true")
    ap.add_argument("--max_steps", type=int, default=0, help="stop after this many steps (0: time only)")
    ap.add_argument("--ckpt_minutes", type=float, default=4)
    ap.add_argument("--channels", default="", help="block_out_channels, e.g. 32,64,64 (default: common.VAE_CONFIG)")
    ap.add_argument("--latent_channels", type=int, default=0, help="latent channels (default: common.VAE_CONFIG's 4)")
    ap.add_argument("--decoder_only", action="store_true",
                    help="fine-tune only the decoder (and post_quant_conv) of WORK/vae on the cached latents.npz: "
                         "the latent space, hence a UNet trained on it, stays valid; writes WORK/vae, keeps latents")
    ap.add_argument("--fg_weight", type=float, default=0.0,
                    help="extra loss weight on object pixels (those differing from the image's border colour, "
                         "dilated by one pixel): small objects are a few percent of the pixels")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--procs", type=int, default=1,
                    help="data-parallel processes of --threads threads each for the training (ddp.py); "
                         "--batch is the total")
    ap.add_argument("--device", default="cpu", help="torch device: cpu (default) or cuda (one process)")
    a = ap.parse_args()
    if a.device != "cpu" and a.procs != 1:
        raise SystemExit(f"--device {a.device} trains in one process: expected --procs 1, got {a.procs}")
    common.setup(a.seed, a.threads)
    os.makedirs(a.work, exist_ok=True)
    if a.decoder_only:
        ddp.launch(train_decoder, a, a.procs)
        return
    if not a.encode_only:
        ddp.launch(train, a, a.procs)
    if os.path.exists(os.path.join(a.data, "metadata.jsonl")):
        encode(a)


def train(a, grp):
    """Trains the VAE for a.minutes as process grp.rank of grp.world (ddp.py) and saves it to WORK/vae."""
    common.setup(a.seed, a.threads)
    batch = grp.share(a.batch)
    if a.vae_images:
        imgs = common.load_pngs(a.data, a.vae_images)  # train on the first images (dataset still being written)
    else:
        imgs, _ = common.load_images(a.data)
    n = len(imgs)
    log = grp.log(os.path.join(a.work, "vae_log.jsonl"))
    if a.resume:
        vae = AutoencoderKL.from_pretrained(os.path.join(a.work, "vae"))
    else:
        cfg = dict(common.VAE_CONFIG)
        if a.channels:
            cfg["block_out_channels"] = [int(c) for c in a.channels.split(",")]
        if a.latent_channels:
            cfg["latent_channels"] = a.latent_channels
        vae = AutoencoderKL(**cfg)
    dev = torch.device(a.device)
    vae.to(dev).train()
    params = list(vae.parameters())
    grp.sync_params(params)
    opt = torch.optim.AdamW(params, lr=a.lr, weight_decay=0.0)
    g = torch.Generator().manual_seed(a.seed + 7919 * grp.rank)  # each process draws its own examples
    step, spent = 0, 0.0
    ck = os.path.join(a.work, "vae_ckpt.pt")
    if os.path.exists(ck) and not a.resume:
        s = torch.load(ck, weights_only=False, map_location=dev)
        vae.load_state_dict(s["vae"])
        opt.load_state_dict(s["opt"])
        if len(s["gens"]) != grp.world:
            raise SystemExit(f"{ck} was written by {len(s['gens'])} process(es): resume it with --procs {len(s['gens'])}")
        g.set_state(s["gens"][grp.rank].cpu())
        step, spent = s["step"], s["spent"]
        log(stage="vae_resume", step=step, spent_s=spent)
    budget = a.minutes * 60
    t_start = time.time() - spent
    last_ck = time.time()
    while True:
        # the leader's clock decides for every process
        go_on, frac, save_now = grp.control(
            float(time.time() - t_start < budget and (a.max_steps == 0 or step < a.max_steps)),
            (time.time() - t_start) / budget, float(time.time() - last_ck > a.ckpt_minutes * 60))
        if not go_on:
            break
        if save_now:
            save_vae_ckpt(grp, ck, vae, opt, g, step, time.time() - t_start)
            last_ck = time.time()
        idx = torch.randint(0, n, (batch,), generator=g).numpy()
        x = common.to_unit(imgs[idx])
        w = 1 + a.fg_weight * common.object_mask(x) if a.fg_weight else torch.ones_like(x[:, :1])  # [B, 1, H, W]
        if a.crop:  # convolutions are translation-equivariant: random crops cost a quarter per sample
            i, j = torch.randint(0, 64 - a.crop + 1, (2,), generator=g).tolist()
            x, w = x[:, :, i:i + a.crop, j:j + a.crop], w[:, :, i:i + a.crop, j:j + a.crop]
        x, w = x.to(dev), w.to(dev)
        post = vae.encode(x).latent_dist
        z = post.mean + post.std * torch.randn(post.mean.shape, generator=g).to(dev)
        y = vae.decode(z).sample
        e = y - x
        l1, l2 = (w * e.abs()).mean() / w.mean(), (w * e.pow(2)).mean() / w.mean()
        kl = post.kl().mean()
        # cosine-free schedule: lr drops to a tenth for the last fifth of the time
        for pg in opt.param_groups:
            pg["lr"] = a.lr * (0.1 if frac > 0.8 else 1.0)
        loss = l1 + l2 + a.kl * kl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        grp.average(params, loss)  # every process now holds the whole batch's gradient
        opt.step()
        step += 1
        if step % 10 == 0:
            log(stage="vae", step=step, l1=l1.item(), l2=l2.item(), kl=kl.item())
    save_vae_ckpt(grp, ck, vae, opt, g, step, time.time() - t_start)
    if grp.leader:
        vae.eval()
        vae.save_pretrained(os.path.join(a.work, "vae"))
        log(stage="vae_saved", steps=step)


def save_vae_ckpt(grp, ck, vae, opt, g, step, spent):
    """Writes the resumable checkpoint atomically (every process's random stream; the leader writes)."""
    gens = grp.gather(g.get_state())
    if not grp.leader:
        return
    torch.save(dict(vae=vae.state_dict(), opt=opt.state_dict(), gens=gens, step=step, spent=spent), ck + ".tmp")
    os.replace(ck + ".tmp", ck)


def train_decoder(a, grp):
    """Fine-tunes WORK/vae's decoder for a.minutes on posterior samples of the cached latents (the encoder is
    not run), with crops of a.crop pixels (a.crop/4 latents), as process grp.rank of grp.world (ddp.py), and
    saves WORK/vae."""
    common.setup(a.seed, a.threads)
    batch = grp.share(a.batch)
    imgs, _ = common.load_images(a.data)
    lat = np.load(os.path.join(a.work, "latents.npz"))
    lmean = torch.from_numpy(lat["mean"].astype(np.float32))
    lstd = torch.from_numpy(lat["std"].astype(np.float32))
    n = len(imgs)
    log = grp.log(os.path.join(a.work, "vae_log.jsonl"))
    vae = AutoencoderKL.from_pretrained(os.path.join(a.work, "vae"))
    params = list(vae.post_quant_conv.parameters()) + list(vae.decoder.parameters())
    for p in vae.parameters():
        p.requires_grad_(False)
    for p in params:
        p.requires_grad_(True)
    vae.train()
    opt = torch.optim.AdamW(params, lr=a.lr, weight_decay=0.0)
    g = torch.Generator().manual_seed(a.seed + 7919 * grp.rank)  # each process draws its own examples
    t_end = time.time() + a.minutes * 60
    step = 0
    while True:
        go_on, frac = grp.control(float(time.time() < t_end and (a.max_steps == 0 or step < a.max_steps)),
                                  1 - (t_end - time.time()) / (a.minutes * 60))
        if not go_on:
            break
        idx = torch.randint(0, n, (batch,), generator=g)
        x = common.to_unit(imgs[idx.numpy()])
        w = 1 + a.fg_weight * common.object_mask(x) if a.fg_weight else torch.ones_like(x[:, :1])  # [B, 1, H, W]
        z = lmean[idx] + lstd[idx] * torch.randn(lmean[idx].shape, generator=g)
        if a.crop:
            c = a.crop // 4
            i, j = torch.randint(0, 16 - c + 1, (2,), generator=g).tolist()
            z = z[:, :, i:i + c, j:j + c]
            x, w = (v[:, :, 4 * i:4 * (i + c), 4 * j:4 * (j + c)] for v in (x, w))
        y = vae.decode(z).sample
        e = y - x
        l1, l2 = (w * e.abs()).mean() / w.mean(), (w * e.pow(2)).mean() / w.mean()
        for pg in opt.param_groups:
            pg["lr"] = a.lr * (0.1 if frac > 0.8 else 1.0)
        opt.zero_grad(set_to_none=True)
        (l1 + l2).backward()
        grp.average(params, l1 + l2)
        opt.step()
        step += 1
        if step % 10 == 0:
            log(stage="vae_decoder", step=step, l1=l1.item(), l2=l2.item())
        if step % 500 == 0 and grp.leader:
            vae.save_pretrained(os.path.join(a.work, "vae"))
    if grp.leader:
        vae.eval()
        vae.save_pretrained(os.path.join(a.work, "vae"))
        log(stage="vae_decoder_saved", steps=step)


def encode(a):
    """Encodes the whole dataset with WORK/vae: latents.npz (posterior mean, std) and vae_stats.json."""
    imgs, _ = common.load_images(a.data)
    n = len(imgs)
    log = common.Log(os.path.join(a.work, "vae_log.jsonl"))
    dev = torch.device(a.device)
    vae = AutoencoderKL.from_pretrained(os.path.join(a.work, "vae")).to(dev).eval()
    # Encode everything: posterior mean and std per image.
    means, stds = [], []
    with torch.no_grad():
        for i in range(0, n, 256):
            d = vae.encode(common.to_unit(imgs[i:i + 256]).to(dev)).latent_dist
            means.append(d.mean.cpu().numpy())
            stds.append(d.std.cpu().numpy())
        mean, std = np.concatenate(means), np.concatenate(stds)
        sample = mean + std * np.random.default_rng(a.seed).standard_normal(mean.shape).astype(np.float32)
        # Held-aside reconstruction error on the first 512 images (from the mean).
        rec = vae.decode(torch.from_numpy(mean[:512]).to(dev)).sample.cpu()
        err = (rec - common.to_unit(imgs[:512])).abs().mean().item()
    lat_std = float(sample.std())
    np.savez(os.path.join(a.work, "latents.npz"), mean=mean.astype(np.float16), std=std.astype(np.float16))
    stats = dict(latent_std=lat_std, latent_mean=float(sample.mean()),
                 scaling_factor=1.0 / lat_std, recon_l1_first512=err, n_images=n)
    json.dump(stats, open(os.path.join(a.work, "vae_stats.json"), "w"), indent=2)
    log(stage="vae_done", **stats)


if __name__ == "__main__":
    main()
