"""Builds the two tiny random diffusers pipelines testdata/tiny-sd1 and testdata/tiny-sd2.

Topology follows SD 1.5 / SD 2.1 (same block types, layers per block, attention options),
widths are tiny. Weights are re-drawn from seeded normals (norm scales around 1, biases
non-zero, so every parameter matters for parity), then saved with save_pretrained as
safetensors. The tokenizer folder is the real CLIP vocabulary truncated to 1000 entries,
with tokenizer_config.json / special_tokens_map.json adapted from the real SD configs.
"""

import copy
import json
import math
import os
import shutil

import torch
from safetensors.torch import load_file, save_file
from diffusers import (
    AutoencoderKL,
    DDIMScheduler,
    PNDMScheduler,
    StableDiffusionPipeline,
    UNet2DConditionModel,
)
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

import clip_vocab
from common import REAL_CONFIGS, TESTDATA, model_dir, setup_torch, write_json

VOCAB_SIZE = 1000

DOWN = ("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D")
UP = ("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D")

UNET_COMMON = dict(
    sample_size=16,
    in_channels=4,
    out_channels=4,
    center_input_sample=False,
    flip_sin_to_cos=True,
    freq_shift=0,
    down_block_types=DOWN,
    up_block_types=UP,
    block_out_channels=(8, 16, 16, 16),
    layers_per_block=2,
    downsample_padding=1,
    mid_block_scale_factor=1,
    act_fn="silu",
    norm_num_groups=4,
    norm_eps=1e-5,
    cross_attention_dim=32,
)

# attention_head_dim is, for these models, read by diffusers as the number of heads
# (num_attention_heads = attention_head_dim). The values are chosen so that reading it as a
# per-head width would give different head counts at every attention layer.
UNET = {
    "tiny-sd1": dict(UNET_COMMON, attention_head_dim=2, use_linear_projection=False),
    "tiny-sd2": dict(
        UNET_COMMON,
        attention_head_dim=[1, 2, 2, 8],
        use_linear_projection=True,
        upcast_attention=True,
        dual_cross_attention=False,
        only_cross_attention=False,
        num_class_embeds=None,
    ),
}

VAE = dict(
    in_channels=3,
    out_channels=3,
    down_block_types=("DownEncoderBlock2D",) * 3,
    up_block_types=("UpDecoderBlock2D",) * 3,
    block_out_channels=(8, 16, 16),
    layers_per_block=1,
    act_fn="silu",
    latent_channels=4,
    norm_num_groups=4,
    sample_size=64,
    scaling_factor=0.18215,
)

TEXT_COMMON = dict(
    vocab_size=VOCAB_SIZE,
    hidden_size=32,
    intermediate_size=64,
    num_attention_heads=4,
    max_position_embeddings=77,
    layer_norm_eps=1e-5,
    attention_dropout=0.0,
    dropout=0.0,
    initializer_range=0.02,
    initializer_factor=1.0,
    projection_dim=32,
    # As in the real SD configs: eos_token_id 2 makes CLIPTextModel pool at argmax(input_ids).
    bos_token_id=0,
    eos_token_id=2,
    pad_token_id=1,
)
TEXT = {
    "tiny-sd1": dict(TEXT_COMMON, num_hidden_layers=2, hidden_act="quick_gelu"),
    "tiny-sd2": dict(TEXT_COMMON, num_hidden_layers=3, hidden_act="gelu"),
}

# Which real SD config each tiny model copies its scheduler and tokenizer settings from.
REAL = {"tiny-sd1": "stable-diffusion-v1-5", "tiny-sd2": "stable-diffusion-2-1"}
SCHEDULER_CLASS = {"tiny-sd1": PNDMScheduler, "tiny-sd2": DDIMScheduler}
WEIGHT_SEED = {"tiny-sd1": 1000, "tiny-sd2": 2000}


def real_json(model, sub, name):
    with open(os.path.join(REAL_CONFIGS, REAL[model], sub, name), encoding="utf-8") as f:
        return json.load(f)


def randomize(module, seed):
    """Redraws every parameter from a seeded normal, in sorted-name order.

    1-D weights (norm scales) become 1 + 0.1·N(0,1); biases 0.1·N(0,1); other weights
    N(0,1)/sqrt(fan_in) with fan_in the product of all but the first axis.
    """
    g = torch.Generator().manual_seed(seed)
    params = dict(module.named_parameters())
    with torch.no_grad():
        for name in sorted(params):
            p = params[name]
            r = torch.randn(p.shape, generator=g, dtype=torch.float32)
            if name.endswith("bias"):
                p.copy_(0.1 * r)
            elif p.ndim == 1:
                p.copy_(1.0 + 0.1 * r)
            else:
                fan_in = math.prod(p.shape[1:])
                p.copy_(r / math.sqrt(fan_in))


def write_tokenizer(model, folder):
    """Writes the truncated CLIP tokenizer files in the real SD tokenizer layout."""
    vocab, merges_txt, k = clip_vocab.truncated(VOCAB_SIZE)
    if os.path.isdir(folder):
        shutil.rmtree(folder)
    os.makedirs(folder)
    with open(os.path.join(folder, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, indent=2, sort_keys=True, ensure_ascii=False)
        f.write("\n")
    with open(os.path.join(folder, "merges.txt"), "w", encoding="utf-8") as f:
        f.write(merges_txt)
    tc = real_json(model, "tokenizer", "tokenizer_config.json")
    tc["name_or_path"] = f"{model}/tokenizer"
    write_json(os.path.join(folder, "tokenizer_config.json"), tc)
    write_json(
        os.path.join(folder, "special_tokens_map.json"),
        real_json(model, "tokenizer", "special_tokens_map.json"),
    )
    return k


def build(model):
    setup_torch()
    out = model_dir(model)
    unet = UNet2DConditionModel(**UNET[model])
    randomize(unet, WEIGHT_SEED[model] + 1)
    vae = AutoencoderKL(**VAE)
    randomize(vae, WEIGHT_SEED[model] + 2)
    text = CLIPTextModel(CLIPTextConfig(**TEXT[model]))
    randomize(text, WEIGHT_SEED[model] + 3)

    sched_cfg = real_json(model, "scheduler", "scheduler_config.json")
    scheduler = SCHEDULER_CLASS[model].from_config(sched_cfg)

    # A throwaway tokenizer so that the pipeline can be assembled; its folder is replaced
    # below by the files written in the real SD layout.
    tmp_tok = os.path.join(TESTDATA, f".{model}-tokenizer-tmp")
    k = write_tokenizer(model, tmp_tok)
    tokenizer = CLIPTokenizer.from_pretrained(tmp_tok)

    pipe = StableDiffusionPipeline(
        vae=vae,
        text_encoder=text,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    if os.path.isdir(out):
        shutil.rmtree(out)
    pipe.save_pretrained(out, safe_serialization=True)
    shutil.rmtree(os.path.join(out, "tokenizer"))
    shutil.move(tmp_tok, os.path.join(out, "tokenizer"))
    prefix_text_encoder(out)
    check(model, k, {"unet": unet, "vae": vae, "text_encoder": text})


def prefix_text_encoder(out):
    """Renames the text encoder tensors to the "text_model." names of real SD checkpoints.

    transformers 5 drops the "text_model." prefix when it saves a CLIPTextModel, while every
    real SD repository (and transformers 4) has it; transformers 5 loads both forms.
    """
    path = os.path.join(out, "text_encoder", "model.safetensors")
    tensors = load_file(path)
    renamed = {k if k.startswith("text_model.") else "text_model." + k: v for k, v in tensors.items()}
    save_file(renamed, path, metadata={"format": "pt"})


def check(model, merges_kept, built):
    """Reloads the saved pipeline and checks what the Go side relies on."""
    out = model_dir(model)
    pipe = StableDiffusionPipeline.from_pretrained(out)
    for part, module in built.items():
        want = module.state_dict()
        got = getattr(pipe, part).state_dict()
        assert sorted(want) == sorted(got), part
        for name in want:
            assert torch.equal(want[name], got[name]), (part, name)
    tok = pipe.tokenizer
    assert len(tok) == VOCAB_SIZE, len(tok)
    assert tok.bos_token_id == VOCAB_SIZE - 2 and tok.eos_token_id == VOCAB_SIZE - 1
    ids = tok("a photo of a cat").input_ids
    assert ids[0] == VOCAB_SIZE - 2 and ids[-1] == VOCAB_SIZE - 1, ids
    n = sum(1 for name, _ in pipe.unet.named_modules() if name.endswith("attn2"))
    assert n == 16, n
    for part in ("unet", "vae", "text_encoder"):
        f = os.path.join(out, part, "diffusion_pytorch_model.safetensors")
        if part == "text_encoder":
            f = os.path.join(out, part, "model.safetensors")
        size = os.path.getsize(f)
        assert size < 1.5e6, (f, size)
        print(f"{model}/{part}: {size} bytes")
    print(f"{model}: tokenizer keeps {merges_kept} merges; pad token {tok.pad_token!r} id {tok.pad_token_id}")


def main():
    for model in ("tiny-sd1", "tiny-sd2"):
        build(model)


if __name__ == "__main__":
    main()
