"""Writes models/toymodel/parity/pipeline.safetensors: diffusers' StableDiffusionPipeline on the stored
(float16) weights upcast to float32, DPM-Solver++(2M), guidance 7.5, negative prompt "", 64x64, from
given initial latents, for PROMPTS; the Go test (models/toymodel) compares its own run with it.

Tensors, for each prompt k:
  p<k>.ids [1,77] int32            tokenizer ids (transformers' CLIPTokenizer)
  p<k>.latents_init [1,4,16,16]    standard normal (torch.Generator seed 100+k)
  p<k>.latents_final [1,4,16,16]   output_type="latent"
  p<k>.decoded [1,3,64,64]         vae.decode(latents_final / scaling_factor), raw
  p<k>.image [1,64,64,3]           output_type="np"
Metadata: prompts (JSON list), steps, guidance, versions.
"""

import argparse
import json

import diffusers
import torch
import transformers
from diffusers import DPMSolverMultistepScheduler, StableDiffusionPipeline
from safetensors.torch import save_file

PROMPTS = ["a red star on a blue background", "a purple circle on a yellow background",
           "a small green striped heart at the top"]
STEPS = 8
GUIDANCE = 7.5


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)
    pipe = StableDiffusionPipeline.from_pretrained(a.model, torch_dtype=torch.float32)
    pipe.scheduler = DPMSolverMultistepScheduler.from_config(pipe.scheduler.config, algorithm_type="dpmsolver++",
                                                             solver_order=2)
    pipe.set_progress_bar_config(disable=True)
    out = {}
    for k, prompt in enumerate(PROMPTS):
        init = torch.randn((1, pipe.unet.config.in_channels, 16, 16), generator=torch.Generator().manual_seed(100 + k))
        out[f"p{k}.ids"] = pipe.tokenizer([prompt], padding="max_length", max_length=77,
                                          return_tensors="pt").input_ids.to(torch.int32)
        out[f"p{k}.latents_init"] = init
        with torch.no_grad():
            lat = pipe(prompt, negative_prompt="", height=64, width=64, guidance_scale=GUIDANCE,
                       num_inference_steps=STEPS, latents=init.clone(), output_type="latent").images
            dec = pipe.vae.decode(lat / pipe.vae.config.scaling_factor).sample
        out[f"p{k}.latents_final"] = lat
        out[f"p{k}.decoded"] = dec
        out[f"p{k}.image"] = (dec / 2 + 0.5).clamp(0, 1).permute(0, 2, 3, 1)
    out = {k: v.detach().contiguous() for k, v in out.items()}
    meta = {"prompts": json.dumps(PROMPTS), "steps": str(STEPS), "guidance": str(GUIDANCE),
            "versions": json.dumps({"torch": torch.__version__, "diffusers": diffusers.__version__,
                                    "transformers": transformers.__version__})}
    save_file(out, a.out, metadata=meta)


if __name__ == "__main__":
    main()
