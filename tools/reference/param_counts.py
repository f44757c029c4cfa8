"""Parameter counts of the real SD models, and copies of their configs.

Builds UNet2DConditionModel, AutoencoderKL and CLIPTextModel from each real config in
$SD_ASSETS/configs/<model>/ on the meta device (accelerate.init_empty_weights: no memory, no
weights) and writes testdata/reference/param_counts.json with sum(p.numel() for p in
model.parameters()) per component (parameters only: buffers such as position_ids excluded),
plus per-top-level-module counts. Copies the configs the Go tests need to
testdata/configs/<model>/ (model_index.json, unet/, vae/, text_encoder/config.json,
scheduler/scheduler_config.json, tokenizer/*.json).
"""

import json
import os
import shutil
from collections import OrderedDict

from accelerate import init_empty_weights
from diffusers import AutoencoderKL, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel

from common import REAL_CONFIGS, REFERENCE, TESTDATA, versions, write_json

WANTED = ["stable-diffusion-v1-4", "stable-diffusion-v1-5", "stable-diffusion-2-1"]
FILES = [
    "model_index.json",
    "unet/config.json",
    "vae/config.json",
    "text_encoder/config.json",
    "scheduler/scheduler_config.json",
    "tokenizer/tokenizer_config.json",
    "tokenizer/special_tokens_map.json",
]


def count(module):
    total = sum(p.numel() for p in module.parameters())
    parts = OrderedDict()
    for name, child in module.named_children():
        n = sum(p.numel() for p in child.parameters())
        if n:
            parts[name] = n
    return total, parts


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def main():
    present = [m for m in WANTED if os.path.isdir(os.path.join(REAL_CONFIGS, m))]
    missing = [m for m in WANTED if m not in present]
    out = OrderedDict()
    out["what"] = "sum of numel over model.parameters() (buffers excluded), built from the real configs on the meta device"
    out["versions"] = versions()
    out["generator"] = "tools/reference/param_counts.py"
    out["source"] = "/work/shared/sd-assets/configs (see its README for the upstream commits)"
    out["missing_configs"] = missing
    models = OrderedDict()
    for m in present:
        src = os.path.join(REAL_CONFIGS, m)
        dst = os.path.join(TESTDATA, "configs", m)
        if os.path.isdir(dst):
            shutil.rmtree(dst)
        for f in FILES:
            os.makedirs(os.path.dirname(os.path.join(dst, f)), exist_ok=True)
            shutil.copyfile(os.path.join(src, f), os.path.join(dst, f))
        with init_empty_weights():
            unet = UNet2DConditionModel.from_config(load(os.path.join(src, "unet/config.json")))
            vae = AutoencoderKL.from_config(load(os.path.join(src, "vae/config.json")))
            text = CLIPTextModel(CLIPTextConfig(**load(os.path.join(src, "text_encoder/config.json"))))
        entry = OrderedDict()
        for name, mod in (("unet", unet), ("vae", vae), ("text_encoder", text)):
            total, parts = count(mod)
            entry[name] = OrderedDict(total=total, by_module=parts)
            if name == "vae":
                entry[name]["encoder_side"] = sum(
                    p.numel() for n, p in mod.named_parameters() if n.startswith(("encoder.", "quant_conv."))
                )
                entry[name]["decoder_side"] = sum(
                    p.numel() for n, p in mod.named_parameters() if n.startswith(("decoder.", "post_quant_conv."))
                )
        entry["total"] = sum(entry[n]["total"] for n in ("unet", "vae", "text_encoder"))
        models[m] = entry
        print(m, {n: entry[n]["total"] for n in ("unet", "vae", "text_encoder")})
    out["models"] = models
    write_json(os.path.join(REFERENCE, "param_counts.json"), out)


if __name__ == "__main__":
    main()
