"""Counts the floating-point operations of one guided generation with and without a NeTI concept, from a
diffusers model folder's configs (no weights: the models are built on torch's meta device and run under
FlopCounterMode, so nothing is computed). Used for docs/bench/README.md's "cost of a concept".

  python conceptflops.py MODEL_DIR LATENT_SIZE [LAYERS]

plain   = 2 text-encoder rows (prompt, negative) + steps x guided UNet step (batch 2) + VAE decode
concept = plain + steps x LAYERS text-encoder rows (every (t, l) conditioning, computed once per prompt)
"""

import json
import sys

import torch
from diffusers import AutoencoderKL, UNet2DConditionModel
from torch.utils.flop_counter import FlopCounterMode
from transformers import CLIPTextConfig, CLIPTextModel


def count(fn):
    m = FlopCounterMode(display=False)
    with m, torch.no_grad():
        fn()
    return m.get_total_flops()


def main():
    d, size = sys.argv[1], int(sys.argv[2])
    layers = int(sys.argv[3]) if len(sys.argv) > 3 else 16
    with torch.device("meta"):
        unet = UNet2DConditionModel.from_config(json.load(open(f"{d}/unet/config.json")))
        vae = AutoencoderKL.from_config(json.load(open(f"{d}/vae/config.json")))
        text = CLIPTextModel(CLIPTextConfig.from_json_file(f"{d}/text_encoder/config.json"))
        width = text.config.hidden_size
        row = count(lambda: text(torch.zeros(1, 77, dtype=torch.long)))
        step = count(lambda: unet(torch.zeros(2, 4, size, size), torch.zeros(2),
                                  encoder_hidden_states=torch.zeros(2, 77, width)))
        decode = count(lambda: vae.decode(torch.zeros(1, 4, size, size)))
    print(json.dumps(dict(model=d, latent=size, text_row_gflop=row / 1e9, guided_step_gflop=step / 1e9,
                          decode_gflop=decode / 1e9)))
    for steps in (20, 50):
        plain = 2 * row + steps * step + decode
        cond = steps * layers * row
        print(f"{steps} steps: plain {plain / 1e9:.1f} GFLOP; concept, 1 image: {(plain + cond) / plain:.3f}x; "
              f"2 images of the prompt: {(2 * plain + cond) / (2 * plain):.3f}x; "
              f"4 images: {(4 * plain + cond) / (4 * plain):.3f}x")


if __name__ == "__main__":
    main()
