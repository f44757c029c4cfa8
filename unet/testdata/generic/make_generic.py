"""Writes the unet package's own fixtures: tiny UNets with the less common options of
UNet2DConditionModel that the SD 1.x/2.x fixtures under testdata/ do not exercise (no mid block,
downsample_padding 0, center_input_sample, freq_shift, sin-first timestep features, a custom time
embedding width, conv_in/conv_out kernels of 5, per-block layers_per_block and heads,
mid_block_scale_factor, gelu).

Run with the pinned environment of tools/reference (diffusers 0.42.1, torch CPU):
    python unet/testdata/generic/make_generic.py
Each model writes <name>/config.json, <name>/diffusion_pytorch_model.safetensors and
<name>/reference.safetensors (sample, timestep, encoder_hidden_states -> out).
"""
import os

import torch
from diffusers import UNet2DConditionModel
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))

CONFIGS = {
    "no-mid": dict(
        sample_size=8, in_channels=3, out_channels=2, center_input_sample=True, flip_sin_to_cos=False,
        freq_shift=1, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), mid_block_type=None,
        block_out_channels=(8, 16), layers_per_block=(1, 2), downsample_padding=0, act_fn="gelu",
        norm_num_groups=4, norm_eps=1e-6, cross_attention_dim=12, attention_head_dim=(2, 4),
        time_embedding_dim=24, conv_in_kernel=5, conv_out_kernel=5,
    ),
    "mid-scale": dict(
        sample_size=8, down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D"), block_out_channels=(8, 16),
        layers_per_block=1, mid_block_scale_factor=1.414, norm_num_groups=4, cross_attention_dim=12,
        attention_head_dim=(1, 2), use_linear_projection=True, upcast_attention=True,
    ),
}


def main():
    for i, (name, kwargs) in enumerate(sorted(CONFIGS.items())):
        torch.manual_seed(100 + i)
        unet = UNet2DConditionModel(**kwargs).eval()
        with torch.no_grad():
            for p in unet.parameters():  # non-trivial norms and biases
                p.copy_(torch.randn_like(p) * 0.3)
        out_dir = os.path.join(HERE, name)
        unet.save_pretrained(out_dir, safe_serialization=True)
        g = torch.Generator().manual_seed(200 + i)
        cross = unet.config.cross_attention_dim
        sample = torch.randn(2, unet.config.in_channels, 8, 8, generator=g)
        timestep = torch.tensor([999.0, 37.0])
        states = torch.randn(2, 5, cross, generator=g)
        with torch.no_grad():
            out = unet(sample, timestep, states).sample
        save_file(
            {"sample": sample, "timestep": timestep, "encoder_hidden_states": states, "out": out.contiguous()},
            os.path.join(out_dir, "reference.safetensors"),
            metadata={"generator": "unet/testdata/generic/make_generic.py"},
        )


if __name__ == "__main__":
    main()
