"""Writes unet/testdata/grad-tiny-sd1.safetensors: the gradient of a weighted sum of the tiny SD 1.x
UNet's output with respect to the encoder states, the path NeTI trains through (the UNet is frozen,
the per-layer text states are not).

Inputs are the repository's tiny-sd1 UNet (testdata/tiny-sd1/unet) and the sample, timestep and
encoder_hidden_states of testdata/reference/tiny-sd1/unet.safetensors; "weights" is a fixed random
tensor of the output's shape, and "grad_states" = d sum(out * weights) / d encoder_hidden_states.

Run with the pinned environment of tools/reference (diffusers 0.42.1, torch CPU), from the repository root:
    python unet/testdata/make_grad.py
"""
import os

import torch
from diffusers import UNet2DConditionModel
from safetensors.torch import load_file, save_file

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def main():
    unet = UNet2DConditionModel.from_pretrained(os.path.join(ROOT, "testdata", "tiny-sd1", "unet")).eval()
    ref = load_file(os.path.join(ROOT, "testdata", "reference", "tiny-sd1", "unet.safetensors"))
    states = ref["encoder_hidden_states"].clone().requires_grad_(True)
    out = unet(ref["sample"], ref["timestep"], states).sample
    weights = torch.randn(out.shape, generator=torch.Generator().manual_seed(300))
    (out * weights).sum().backward()
    save_file(
        {"weights": weights, "grad_states": states.grad.contiguous()},
        os.path.join(ROOT, "unet", "testdata", "grad-tiny-sd1.safetensors"),
        metadata={"generator": "unet/testdata/make_grad.py", "inputs": "testdata/reference/tiny-sd1/unet.safetensors"},
    )


if __name__ == "__main__":
    main()
