"""Scheduler reference trajectories: testdata/reference/<model>/schedulers.safetensors.

Every scheduler is built with from_config(<tiny model>/scheduler/scheduler_config.json), i.e.
with that model's prediction_type, betas, steps_offset and timestep_spacing ("leading" for both
tiny models, written out by save_pretrained). All timesteps are stored as float32.

Tensors (<name> in ddim, euler, dpm; latents [1,4,8,8]):
  latents                         standard normal start point (seed in metadata)
  alphas_cumprod [1000]
  <name>.timesteps [10]           after set_timesteps(10)
  <name>.init_noise_sigma []      scalar
  <name>.sigmas                   euler and dpm only (length 11, last 0)
  <name>.step<k>.sample_in        sample entering step k (step 0: latents·init_noise_sigma)
  <name>.step<k>.model_input      scale_model_input(sample_in, t_k)
  <name>.step<k>.model_output     fake model output (seeded standard normal, seed in metadata)
  <name>.step<k>.sample_out       step(model_output, t_k, sample_in).prev_sample
  ddpm.x0, ddpm.noise [4,4,8,8], ddpm.timesteps [4] (0, 1, 500, 999),
  ddpm.noisy = add_noise(x0, noise, timesteps), ddpm.velocity = get_velocity(x0, noise, timesteps)
  dpm50.timesteps [50]            DPMSolverMultistep at 50 steps
  spacing.<kind>.timesteps [10]   DDIM with timestep_spacing leading / trailing / linspace
  spacing.<kind>.euler_sigmas     EulerDiscrete sigmas with the same spacing
"""

import json
import sys

import torch
from diffusers import DDIMScheduler, DDPMScheduler, DPMSolverMultistepScheduler, EulerDiscreteScheduler

from common import model_dir, plain_config, randn, reference_dir, save_tensors, setup_torch

STEPS = 10


def make(name, cfg, **over):
    if name == "ddim":
        return DDIMScheduler.from_config(cfg, **over)
    if name == "euler":
        return EulerDiscreteScheduler.from_config(cfg, **over)
    if name == "dpm":
        return DPMSolverMultistepScheduler.from_config(cfg, algorithm_type="dpmsolver++", solver_order=2, **over)
    raise ValueError(name)


def trajectory(name, cfg, latents, seed, t, meta):
    s = make(name, cfg)
    s.set_timesteps(STEPS)
    t[f"{name}.timesteps"] = s.timesteps.to(torch.float32)
    t[f"{name}.init_noise_sigma"] = torch.tensor(float(s.init_noise_sigma), dtype=torch.float32)
    if hasattr(s, "sigmas") and name != "ddim":
        t[f"{name}.sigmas"] = torch.as_tensor(s.sigmas, dtype=torch.float32)
    sample = latents * s.init_noise_sigma
    for k, ts in enumerate(s.timesteps):
        t[f"{name}.step{k}.sample_in"] = sample
        model_input = s.scale_model_input(sample, ts)
        t[f"{name}.step{k}.model_input"] = model_input
        out = randn(tuple(latents.shape), seed + k)
        t[f"{name}.step{k}.model_output"] = out
        sample = s.step(out, ts, sample).prev_sample
        t[f"{name}.step{k}.sample_out"] = sample
    meta[f"{name}.config"] = plain_config(s.config)
    meta[f"{name}.class"] = type(s).__name__
    meta[f"{name}.timesteps"] = s.timesteps.tolist()


def run(model, seed):
    setup_torch()
    cfg = DDIMScheduler.load_config(model_dir(model) + "/scheduler")
    latents = randn((1, 4, 8, 8), seed)
    t = {"latents": latents}
    meta = {
        "model": model,
        "model_scheduler_config": plain_config(cfg),
        "seeds": {"latents": seed, "model_output.step<k>": f"{seed + 100}+k", "ddpm.x0": seed + 1, "ddpm.noise": seed + 2},
        "steps": STEPS,
    }
    for name in ("ddim", "euler", "dpm"):
        trajectory(name, cfg, latents, seed + 100, t, meta)

    ddpm = DDPMScheduler.from_config(cfg)
    t["alphas_cumprod"] = ddpm.alphas_cumprod.to(torch.float32)
    x0 = randn((4, 4, 8, 8), seed + 1)
    noise = randn((4, 4, 8, 8), seed + 2)
    ts = torch.tensor([0, 1, 500, 999], dtype=torch.long)
    t["ddpm.x0"] = x0
    t["ddpm.noise"] = noise
    t["ddpm.timesteps"] = ts.to(torch.float32)
    t["ddpm.noisy"] = ddpm.add_noise(x0, noise, ts)
    t["ddpm.velocity"] = ddpm.get_velocity(x0, noise, ts)
    meta["ddpm.config"] = plain_config(ddpm.config)

    dpm = make("dpm", cfg)
    dpm.set_timesteps(50)
    t["dpm50.timesteps"] = dpm.timesteps.to(torch.float32)
    meta["dpm50.timesteps"] = dpm.timesteps.tolist()

    for kind in ("leading", "trailing", "linspace"):
        d = make("ddim", cfg, timestep_spacing=kind)
        d.set_timesteps(STEPS)
        t[f"spacing.{kind}.timesteps"] = d.timesteps.to(torch.float32)
        e = make("euler", cfg, timestep_spacing=kind)
        e.set_timesteps(STEPS)
        t[f"spacing.{kind}.euler_sigmas"] = e.sigmas.to(torch.float32)
        meta[f"spacing.{kind}.timesteps"] = d.timesteps.tolist()
    meta = json.loads(json.dumps(meta, default=lambda o: list(o) if isinstance(o, tuple) else str(o)))
    save_tensors(reference_dir(model) + "/schedulers.safetensors", t, meta)


def main(models):
    for m in models:
        run(m, 50 if m == "tiny-sd1" else 60)


if __name__ == "__main__":
    main(sys.argv[1:] or ["tiny-sd1", "tiny-sd2"])
