package diffusion

import "fmt"

// ddim is diffusers' DDIMScheduler with eta = 0: deterministic, first order, stateless.
type ddim struct {
	sched      *Schedule
	prediction string
	clip       bool
	clipRange  float32
	timesteps  []int
	// stepRatio is num_train_timesteps // steps: diffusers' DDIM steps from t to t - stepRatio whatever the
	// spacing.
	stepRatio int
	// finalAlphaCumprod is the ᾱ after the last step: 1 if set_alpha_to_one, else ᾱ_0.
	finalAlphaCumprod float32
}

func newDDIM(cfg SchedulerConfig, sched *Schedule, steps int) (*ddim, error) {
	ts, err := ddimTimesteps(spacingOr(cfg, "leading"), cfg.NumTrainTimesteps, steps, cfg.StepsOffset)
	if err != nil {
		return nil, err
	}
	for _, t := range ts {
		if t < 0 || t >= cfg.NumTrainTimesteps {
			return nil, fmt.Errorf("%d steps with timestep_spacing %q and steps_offset %d give timestep %d outside "+
				"[0, %d); use fewer steps or another spacing", steps, spacingOr(cfg, "leading"), cfg.StepsOffset, t,
				cfg.NumTrainTimesteps)
		}
	}
	d := &ddim{
		sched:             sched,
		prediction:        cfg.PredictionType,
		clip:              boolOr(cfg.ClipSample, true),
		clipRange:         float32(cfg.ClipSampleRange),
		timesteps:         ts,
		stepRatio:         cfg.NumTrainTimesteps / steps,
		finalAlphaCumprod: sched.AlphasCumprod[0],
	}
	if boolOr(cfg.SetAlphaToOne, true) {
		d.finalAlphaCumprod = 1
	}
	return d, nil
}

// Name implements Sampler.
func (d *ddim) Name() string { return "ddim" }

// Timesteps implements Sampler.
func (d *ddim) Timesteps() []float64 {
	return float64s(d.timesteps)
}

// InitNoiseSigma implements Sampler: DDIM starts from unit-variance noise.
func (d *ddim) InitNoiseSigma() float64 { return 1 }

// ScaleModelInput implements Sampler: DDIM feeds the sample unchanged.
func (d *ddim) ScaleModelInput(sample []float32, i int) ([]float32, error) {
	if err := checkStep("ddim: scale model input", i, len(d.timesteps), len(sample)); err != nil {
		return nil, err
	}
	return sample, nil
}

// Reset implements Sampler (DDIM has no state).
func (d *ddim) Reset() {}

// Step implements Sampler, matching DDIMScheduler.step with eta = 0:
//
//	x0   = (x − sqrt(1−ᾱ_t)·ε) / sqrt(ᾱ_t)                      (epsilon; v and sample likewise)
//	prev = sqrt(ᾱ_prev)·x0 + sqrt(1 − ᾱ_prev)·ε
//
// with t_prev = t − num_train_timesteps//steps and ᾱ_prev = final_alpha_cumprod when t_prev < 0.
func (d *ddim) Step(modelOutput []float32, i int, sample []float32) ([]float32, error) {
	if err := checkStep("ddim: step", i, len(d.timesteps), len(modelOutput), len(sample)); err != nil {
		return nil, err
	}
	t := d.timesteps[i]
	prevT := t - d.stepRatio
	alphaT := d.sched.AlphasCumprod[t]
	alphaPrev := d.finalAlphaCumprod
	if prevT >= 0 {
		alphaPrev = d.sched.AlphasCumprod[prevT]
	}
	betaT := 1 - alphaT
	sqrtA, sqrtB := sqrt32(alphaT), sqrt32(betaT)
	// eta = 0: std_dev_t = 0, so the direction coefficient is sqrt(1 − ᾱ_prev − 0²).
	dirCoef := sqrt32(1 - alphaPrev)
	prevCoef := sqrt32(alphaPrev)
	out := make([]float32, len(sample))
	for k, x := range sample {
		e := modelOutput[k]
		var x0, eps float32
		switch d.prediction {
		case "epsilon":
			x0 = (x - float32(sqrtB*e)) / sqrtA
			eps = e
		case "sample":
			x0 = e
			eps = (x - float32(sqrtA*x0)) / sqrtB
		case "v_prediction":
			x0 = float32(sqrtA*x) - float32(sqrtB*e)
			eps = float32(sqrtA*e) + float32(sqrtB*x)
		}
		if d.clip {
			x0 = min(max(x0, -d.clipRange), d.clipRange)
		}
		out[k] = float32(prevCoef*x0) + float32(dirCoef*eps)
	}
	return out, nil
}
