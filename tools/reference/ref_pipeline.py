"""One full seeded generation: testdata/reference/<model>/pipeline.safetensors.

StableDiffusionPipeline on the tiny model, scheduler replaced by
DPMSolverMultistepScheduler.from_config(<model scheduler config>, algorithm_type="dpmsolver++",
solver_order=2); prompt PROMPT, negative prompt "", 64x64, guidance 7.5, 5 steps, given latents.

Tensors:
  prompt_ids, negative_ids [1,77] int32
  prompt_embeds, negative_prompt_embeds [1,77,32]   (encode_prompt; the UNet gets cat([negative, prompt]))
  latents_init [1,4,16,16]                           (standard normal, seed in metadata; the pipeline
                                                      multiplies it by init_noise_sigma = 1)
  timesteps [5]                                      (float32)
  step<k>.unet_input [2,4,16,16]                     (scale_model_input(cat([latents, latents]), t_k))
  step<k>.unet_output [2,4,16,16]                    (row 0: unconditional, row 1: text)
  step<k>.noise_pred [1,4,16,16]                     (uncond + 7.5·(text − uncond))
  step<k>.latents [1,4,16,16]                        (after scheduler.step)
  latents_final [1,4,16,16]                          (output_type="latent")
  decoded [1,3,64,64]                                (vae.decode(latents_final / scaling_factor), raw)
  image [1,64,64,3]                                  (output_type="np": (decoded/2+0.5) clamped to [0,1], NHWC)
  rescaled.latents_final [1,4,16,16]                 (the same generation with guidance_rescale RESCALE:
                                                      rescale_noise_cfg of Lin et al. after each guidance)
"""

import sys

import torch
from diffusers import DPMSolverMultistepScheduler, StableDiffusionPipeline

from common import model_dir, plain_config, randn, reference_dir, save_tensors, setup_torch

PROMPT = "a red star on a blue background"
GUIDANCE = 7.5
STEPS = 5
RESCALE = 0.7


def run(model, seed):
    setup_torch()
    pipe = StableDiffusionPipeline.from_pretrained(model_dir(model))
    pipe.scheduler = DPMSolverMultistepScheduler.from_config(pipe.scheduler.config, algorithm_type="dpmsolver++", solver_order=2)
    pipe.set_progress_bar_config(disable=True)
    latents_init = randn((1, 4, 16, 16), seed)
    t = {"latents_init": latents_init}
    tok = pipe.tokenizer
    enc = lambda s: tok(s, padding="max_length", max_length=77, truncation=True, return_tensors="pt").input_ids
    t["prompt_ids"] = enc([PROMPT])
    t["negative_ids"] = enc([""])

    with torch.no_grad():
        pe, ne = pipe.encode_prompt(PROMPT, "cpu", 1, True, negative_prompt="")
    t["prompt_embeds"] = pe
    t["negative_prompt_embeds"] = ne

    calls = []

    def hook(_m, args, kwargs, out):
        ehs = kwargs.get("encoder_hidden_states")
        calls.append((args[0].detach().clone(), args[1], ehs.detach().clone(), out[0].detach().clone()))

    def on_step(_p, k, _ts, cb):
        t[f"step{k}.latents"] = cb["latents"].detach().clone()
        return {}

    h = pipe.unet.register_forward_hook(hook, with_kwargs=True)
    common = dict(
        prompt=PROMPT,
        negative_prompt="",
        height=64,
        width=64,
        guidance_scale=GUIDANCE,
        num_inference_steps=STEPS,
    )
    with torch.no_grad():
        lat = pipe(**common, latents=latents_init.clone(), output_type="latent", callback_on_step_end=on_step).images
    h.remove()
    assert len(calls) == STEPS, len(calls)
    t["timesteps"] = pipe.scheduler.timesteps.to(torch.float32)
    for k, (inp, ts, ehs, out) in enumerate(calls):
        assert torch.equal(ehs, torch.cat([ne, pe])), "UNet conditioning is not cat([negative, prompt])"
        t[f"step{k}.unet_input"] = inp
        t[f"step{k}.unet_output"] = out
        u, c = out.chunk(2)
        t[f"step{k}.noise_pred"] = u + GUIDANCE * (c - u)
    t["latents_final"] = lat
    assert torch.equal(lat, t[f"step{STEPS - 1}.latents"])
    with torch.no_grad():
        t["decoded"] = pipe.vae.decode(lat / pipe.vae.config.scaling_factor).sample
        img = pipe(**common, latents=latents_init.clone(), output_type="np").images
        t["rescaled.latents_final"] = pipe(**common, latents=latents_init.clone(), guidance_rescale=RESCALE,
                                           output_type="latent").images
    t["image"] = torch.from_numpy(img)
    want = (t["decoded"] / 2 + 0.5).clamp(0, 1).permute(0, 2, 3, 1)
    assert (want - t["image"]).abs().max() < 1e-6
    meta = {
        "model": model,
        "prompt": PROMPT,
        "negative_prompt": "",
        "height": 64,
        "width": 64,
        "guidance_scale": GUIDANCE,
        "guidance_rescale": RESCALE,
        "num_inference_steps": STEPS,
        "seeds": {"latents_init": seed},
        "scheduler_config": plain_config(pipe.scheduler.config),
        "timesteps": pipe.scheduler.timesteps.tolist(),
        "scaling_factor": pipe.vae.config.scaling_factor,
        "cfg_order": "unet batch = cat([negative, prompt]); noise_pred = uncond + g*(text - uncond)",
    }
    save_tensors(reference_dir(model) + "/pipeline.safetensors", t, meta)


def main(models):
    for m in models:
        run(m, 70 if m == "tiny-sd1" else 80)


if __name__ == "__main__":
    main(sys.argv[1:] or ["tiny-sd1", "tiny-sd2"])
