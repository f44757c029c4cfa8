// Package diffusion holds the noise schedules, samplers and guidance of Stable Diffusion, in plain Go on
// []float32 latents in flat NCHW order.
//
// Everything here reproduces diffusers 0.42 numerically:
//
//   - [SchedulerConfig] is a diffusers `scheduler/scheduler_config.json` ([LoadSchedulerConfig]).
//   - [Schedule] holds betas, alphas and alphas_cumprod as diffusers computes them (float32 tensors), the DDPM
//     forward noising used in training ([Schedule.AddNoise]) and the v-prediction target ([Schedule.Velocity]).
//   - [Sampler] is one inference run of a sampler: [NewSampler] with "ddim" (DDIMScheduler, eta 0), "euler"
//     (EulerDiscreteScheduler) or "dpm++2m" (DPMSolverMultistepScheduler, DPM-Solver++(2M)). As with diffusers'
//     `from_config`, the config's betas, timestep spacing and prediction type decide the numbers, whatever
//     scheduler class the config names; which sampler runs is the caller's choice.
//   - [Guidance] and [RescaleGuidance] are classifier-free guidance.
//
// Latents may hold a whole batch: samplers apply the same per-step coefficients to every element.
//
// A typical denoising loop:
//
//	s, err := diffusion.NewSampler("dpm++2m", cfg, 25)
//	latents := noise // [B, 4, H/8, W/8] standard normal, scaled by s.InitNoiseSigma()
//	for i, t := range s.Timesteps() {
//		in, _ := s.ScaleModelInput(latents, i)
//		eps := unet(in, t) // with guidance
//		latents, err = s.Step(eps, i, latents)
//	}
package diffusion
