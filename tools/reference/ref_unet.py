"""UNet reference outputs: testdata/reference/<model>/unet.safetensors.

Tensors:
  sample [2,4,16,16], timestep [2] (999, 10), encoder_hidden_states [2,77,32] -> out [2,4,16,16]
  keys.<i>, values.<i> [2,77,32] for the 16 cross-attention layers -> out_per_layer [2,4,16,16]
  intermediate.* : activations of the plain forward (for localizing mismatches), see below.

Per-layer conditioning: cross-attention layer i (forward order, table in metadata "layers")
computes its keys from keys.<i> and its values from values.<i> instead of
encoder_hidden_states. Implemented with a diffusers attention processor set per module name.
"""

import sys

import torch
from diffusers import UNet2DConditionModel

from common import model_dir, randn, reference_dir, save_tensors, setup_torch

# Forward order of the 16 cross-attention modules of an SD 1.x / 2.x UNet.
LAYERS = (
    [f"down_blocks.{b}.attentions.{a}" for b in range(3) for a in range(2)]
    + ["mid_block.attentions.0"]
    + [f"up_blocks.{b}.attentions.{a}" for b in (1, 2, 3) for a in range(3)]
)
ATTN2 = ".transformer_blocks.0.attn2"


class PerLayerKV:
    """Attention processor for one cross-attention module: K from keys, V from values.

    hidden_states [B, Lq, C] (3-D inside a transformer block); keys/values [B, Lk, Dc].
    Output = to_out(softmax(Q·Kᵀ·scale)·V), heads split as diffusers does.
    """

    def __init__(self, keys, values):
        self.keys = keys
        self.values = values

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, temb=None, **kw):
        assert hidden_states.ndim == 3 and attention_mask is None and attn.spatial_norm is None
        assert attn.group_norm is None and not attn.norm_cross and not attn.residual_connection
        b, lq, _ = hidden_states.shape
        q = attn.to_q(hidden_states)  # [B, Lq, inner]
        k = attn.to_k(self.keys)  # [B, Lk, inner]
        v = attn.to_v(self.values)  # [B, Lk, inner]
        h = attn.heads
        d = q.shape[-1] // h
        q = q.view(b, lq, h, d).transpose(1, 2)  # [B, h, Lq, d]
        k = k.view(b, -1, h, d).transpose(1, 2)  # [B, h, Lk, d]
        v = v.view(b, -1, h, d).transpose(1, 2)
        scores = torch.matmul(q.float(), k.float().transpose(-1, -2)) * attn.scale  # [B, h, Lq, Lk]
        probs = scores.softmax(dim=-1).to(q.dtype)
        out = torch.matmul(probs, v).transpose(1, 2).reshape(b, lq, h * d)  # [B, Lq, inner]
        out = attn.to_out[1](attn.to_out[0](out))
        return out / attn.rescale_output_factor


def layer_table(unet):
    """One row per cross-attention layer, in forward order."""
    mods = dict(unet.named_modules())
    rows = []
    for i, name in enumerate(LAYERS):
        attn = mods[name + ATTN2]
        inner = attn.to_q.out_features
        rows.append(
            {
                "index": i,
                "module": name + ATTN2,
                "attention": name,
                "heads": attn.heads,
                "head_dim": inner // attn.heads,
                "query_dim": attn.to_q.in_features,
                "cross_attention_dim": attn.to_k.in_features,
                "scale": attn.scale,
                "upcast_attention": bool(attn.upcast_attention),
            }
        )
    return rows


def hooks(unet, store):
    """Registers forward hooks that record block outputs into store (plain forward only)."""
    handles = []

    def rec(name, pick=lambda o: o):
        def fn(_m, _inp, out):
            store["intermediate." + name] = pick(out).detach().clone()

        return fn

    handles.append(unet.conv_in.register_forward_hook(rec("conv_in")))
    handles.append(unet.time_embedding.register_forward_hook(rec("time_embedding")))
    for i, blk in enumerate(unet.down_blocks):
        handles.append(blk.register_forward_hook(rec(f"down_blocks.{i}", lambda o: o[0])))
    handles.append(unet.mid_block.register_forward_hook(rec("mid_block")))
    for i, blk in enumerate(unet.up_blocks):
        handles.append(blk.register_forward_hook(rec(f"up_blocks.{i}")))
    handles.append(unet.conv_norm_out.register_forward_hook(rec("conv_norm_out")))
    return handles


def run(model, seed):
    setup_torch()
    unet = UNet2DConditionModel.from_pretrained(model_dir(model) + "/unet").eval()
    mods = dict(unet.named_modules())
    attn2 = [n for n in mods if n.endswith("attn2")]
    assert sorted(attn2) == sorted(n + ATTN2 for n in LAYERS), attn2

    sample = randn((2, 4, 16, 16), seed)
    timestep = torch.tensor([999.0, 10.0])
    ehs = randn((2, 77, 32), seed + 1)
    keys = [randn((2, 77, 32), seed + 100 + i) for i in range(16)]
    values = [randn((2, 77, 32), seed + 200 + i) for i in range(16)]

    t = {"sample": sample, "timestep": timestep, "encoder_hidden_states": ehs}
    inter = {}
    with torch.no_grad():
        handles = hooks(unet, inter)
        t["out"] = unet(sample, timestep, ehs).sample
        for h in handles:
            h.remove()

        # The processor with every layer fed encoder_hidden_states must reproduce out.
        unet.set_attn_processor({n: PerLayerKV(ehs, ehs) if n[: -len(".processor")] in attn2 else mods[n[: -len(".processor")]].processor for n in unet.attn_processors})
        same = unet(sample, timestep, ehs).sample
        err = (same - t["out"]).abs().max().item()
        assert err < 1e-5, f"per-layer processor disagrees with diffusers: {err}"

        procs = {}
        for n in unet.attn_processors:
            mod = n[: -len(".processor")]
            if mod in attn2:
                i = LAYERS.index(mod[: -len(ATTN2)])
                procs[n] = PerLayerKV(keys[i], values[i])
            else:
                procs[n] = mods[mod].processor
        unet.set_attn_processor(procs)
        t["out_per_layer"] = unet(sample, timestep, ehs).sample
    for i in range(16):
        t[f"keys.{i}"] = keys[i]
        t[f"values.{i}"] = values[i]
    t.update(inter)
    meta = {
        "model": model,
        "seeds": {"sample": seed, "encoder_hidden_states": seed + 1, "keys.i": f"{seed + 100}+i", "values.i": f"{seed + 200}+i"},
        "layers": layer_table(unet),
        "check_processor_vs_diffusers_max_abs": err,
        "intermediate": "activations of the plain forward (sample, timestep, encoder_hidden_states): "
        "conv_in output; time_embedding output [2,32] (after linear_2); down_blocks.i = hidden states "
        "leaving down block i (after its downsampler, if any); mid_block output; up_blocks.i output "
        "(after its upsampler, if any); conv_norm_out output (before SiLU and conv_out)",
    }
    save_tensors(reference_dir(model) + "/unet.safetensors", t, meta)


def main(models):
    for m in models:
        run(m, 10 if m == "tiny-sd1" else 20)


if __name__ == "__main__":
    main(sys.argv[1:] or ["tiny-sd1", "tiny-sd2"])
