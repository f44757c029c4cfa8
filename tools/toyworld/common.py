"""Shared pieces of the toy-world training: dataset loading, model configurations, logging."""

import json
import os
import time

import numpy as np
import torch

VAE_CONFIG = dict(
    in_channels=3, out_channels=3, latent_channels=4, sample_size=64,
    down_block_types=["DownEncoderBlock2D"] * 3, up_block_types=["UpDecoderBlock2D"] * 3,
    block_out_channels=[16, 32, 32], layers_per_block=1, norm_num_groups=8, act_fn="silu",
)

TEXT_CONFIG = dict(
    vocab_size=None,  # from the tokenizer
    hidden_size=64, intermediate_size=256, num_hidden_layers=3, num_attention_heads=4,
    max_position_embeddings=77, hidden_act="quick_gelu", layer_norm_eps=1e-5, projection_dim=64,
    bos_token_id=None, eos_token_id=None, pad_token_id=None,  # from the tokenizer
)

UNET_CONFIG = dict(
    sample_size=16, in_channels=4, out_channels=4, layers_per_block=2,
    block_out_channels=[16, 32, 32, 32],
    down_block_types=["CrossAttnDownBlock2D"] * 3 + ["DownBlock2D"],
    up_block_types=["UpBlock2D"] + ["CrossAttnUpBlock2D"] * 3,
    cross_attention_dim=64, attention_head_dim=4, norm_num_groups=4,
)

SCHEDULER_CONFIG = dict(
    num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
    prediction_type="epsilon", clip_sample=False, set_alpha_to_one=False, skip_prk_steps=True,
    steps_offset=1, timestep_spacing="leading",
)


def setup(seed, threads=2):
    """Seeds torch and numpy and sets the thread count."""
    torch.manual_seed(seed)
    np.random.seed(seed)
    torch.set_num_threads(threads)


def load_images(data_dir):
    """Returns the dataset's images as uint8 [N, 3, 64, 64] and its metadata rows; caches images.npy."""
    rows = [json.loads(l) for l in open(os.path.join(data_dir, "metadata.jsonl"))]
    cache = os.path.join(data_dir, "images.npy")
    if os.path.exists(cache):
        imgs = np.load(cache)
        if len(imgs) == len(rows):
            return imgs, rows
    paths = [os.path.join(data_dir, r["file"]) for r in rows]
    procs = min(16, os.cpu_count() or 1)
    if procs > 2 and len(paths) > 10000:  # a large machine (the GPU one): decode in parallel
        import multiprocessing
        with multiprocessing.get_context("fork").Pool(procs) as pool:
            imgs = np.stack(pool.map(_read_png, paths, chunksize=256))
    else:
        imgs = np.stack([_read_png(p) for p in paths])
    imgs = imgs.transpose(0, 3, 1, 2).copy()
    np.save(cache, imgs)
    return imgs, rows


def _read_png(path):
    """One image as uint8 [H, W, 3]."""
    from PIL import Image
    return np.asarray(Image.open(path).convert("RGB"))


def load_pngs(data_dir, n):
    """Returns the first n images 000000.png... of data_dir as uint8 [n, 3, 64, 64]."""
    from PIL import Image
    return np.stack([np.asarray(Image.open(os.path.join(data_dir, f"{i:06d}.png")).convert("RGB"))
                     for i in range(n)]).transpose(0, 3, 1, 2).copy()


def to_unit(x):
    """uint8 images → float32 in [-1, 1]."""
    return torch.from_numpy(x).float().div(127.5).sub(1.0)


class Log:
    """Appends JSON lines to a file and prints them."""

    def __init__(self, path):
        self.f = open(path, "a")
        self.t0 = time.time()

    def __call__(self, **kv):
        kv["elapsed_s"] = round(time.time() - self.t0, 1)
        line = json.dumps(kv)
        self.f.write(line + "\n")
        self.f.flush()
        print(line, flush=True)


def object_mask(x):
    """[B, 3, H, W] images in [-1, 1] → [B, 1, H, W] float mask of the pixels that differ from the median
    border colour by more than 0.1 in some channel, dilated by one pixel (the object and its outline)."""
    border = torch.cat([x[:, :, 0], x[:, :, -1], x[:, :, :, 0], x[:, :, :, -1]], dim=2)  # [B, 3, 4W]
    bg = border.median(dim=2).values.view(-1, 3, 1, 1)
    m = ((x - bg).abs() > 0.1).any(dim=1, keepdim=True).float()
    return torch.nn.functional.max_pool2d(m, 3, stride=1, padding=1)


def latent_object_masks(imgs, factor=4):
    """uint8 images [N, 3, H, W] → bool [N, 1, H/factor, W/factor]: latent pixels that hold part of the
    object (object_mask max-pooled to the latent grid, dilated by one latent pixel)."""
    out = []
    for i in range(0, len(imgs), 1024):
        m = object_mask(to_unit(imgs[i:i + 1024]))
        m = torch.nn.functional.max_pool2d(m, factor)
        out.append(torch.nn.functional.max_pool2d(m, 3, stride=1, padding=1) > 0)
    return torch.cat(out)
