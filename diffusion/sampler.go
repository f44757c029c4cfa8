package diffusion

import (
	"fmt"
	"strings"
)

// Sampler is one inference run of a diffusion sampler, the Go counterpart of a diffusers scheduler after
// set_timesteps. Steps are addressed by their index i into Timesteps(). A Sampler is not safe for concurrent
// use; multistep samplers keep state between steps (see Reset).
//
// Latent slices are flat float32 (NCHW for Stable Diffusion, any batch size); every element gets the same
// per-step coefficients.
type Sampler interface {
	// Name is the sampler's name as given to [NewSampler].
	Name() string
	// Timesteps are the UNet timesteps of the run, in order (descending). DDIM and DPM-Solver use integers;
	// Euler's may be fractional float32 values. Either way each value is exactly a float32.
	Timesteps() []float64
	// InitNoiseSigma is the standard deviation of the initial latents: multiply standard normal noise by it.
	InitNoiseSigma() float64
	// ScaleModelInput returns the UNet input for step i (diffusers' scale_model_input): sample itself for
	// DDIM and DPM-Solver, a new slice sample/sqrt(σ²+1) for Euler.
	ScaleModelInput(sample []float32, i int) ([]float32, error)
	// Step computes the sample of the next step from the (guided) model output of step i and the current
	// sample (diffusers' step(...).prev_sample). It returns a new slice. Multistep samplers require the
	// steps in order 0, 1, ..., len(Timesteps())-1.
	Step(modelOutput []float32, i int, sample []float32) ([]float32, error)
	// Reset forgets the state of a run so the sampler can run again from step 0.
	Reset()
}

// SamplerNames are the names [NewSampler] accepts.
var SamplerNames = []string{"ddim", "euler", "dpm++2m"}

// NewSampler returns the sampler name ("ddim", "euler" or "dpm++2m") set up for steps inference steps with
// the noise schedule, spacing and prediction type of cfg, like diffusers'
// `<Scheduler>.from_config(cfg); set_timesteps(steps)`:
//
//   - "ddim": DDIMScheduler with eta 0 (deterministic).
//   - "euler": EulerDiscreteScheduler without churn (s_churn 0).
//   - "dpm++2m": DPMSolverMultistepScheduler with algorithm_type dpmsolver++ and solver_order 2
//     (DPM-Solver++(2M)); solver_type, lower_order_final, euler_at_final, final_sigmas_type and
//     lambda_min_clipped come from cfg.
//
// Options of cfg that diffusers supports but these samplers do not (Karras/exponential/beta sigmas,
// thresholding, zero-SNR rescaling, ...) are reported as errors rather than ignored.
func NewSampler(name string, cfg SchedulerConfig, steps int) (Sampler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new sampler %q: %w", name, err)
	}
	if steps < 1 || steps > cfg.NumTrainTimesteps {
		return nil, fmt.Errorf("new sampler %q: %d steps; it must be in [1, num_train_timesteps=%d]", name, steps,
			cfg.NumTrainTimesteps)
	}
	if err := checkCommonOptions(cfg); err != nil {
		return nil, fmt.Errorf("new sampler %q: %w", name, err)
	}
	sched, err := NewSchedule(cfg)
	if err != nil {
		return nil, fmt.Errorf("new sampler %q: %w", name, err)
	}
	var s Sampler
	switch name {
	case "ddim":
		s, err = newDDIM(cfg, sched, steps)
	case "euler":
		s, err = newEuler(cfg, sched, steps)
	case "dpm++2m":
		s, err = newDPMSolver(cfg, sched, steps)
	default:
		return nil, fmt.Errorf("new sampler: unknown sampler %q; use one of %s", name, strings.Join(SamplerNames, ", "))
	}
	if err != nil {
		return nil, fmt.Errorf("new sampler %q: %w", name, err)
	}
	return s, nil
}

// checkCommonOptions rejects config options that no sampler here implements.
func checkCommonOptions(cfg SchedulerConfig) error {
	unsupported := []struct {
		set   bool
		field string
	}{
		{cfg.Thresholding, "thresholding"},
		{cfg.RescaleBetasZeroSNR, "rescale_betas_zero_snr"},
		{cfg.UseKarrasSigmas, "use_karras_sigmas"},
		{cfg.UseExponentialSigmas, "use_exponential_sigmas"},
		{cfg.UseBetaSigmas, "use_beta_sigmas"},
		{cfg.UseLuLambdas, "use_lu_lambdas"},
		{cfg.UseFlowSigmas, "use_flow_sigmas"},
	}
	for _, u := range unsupported {
		if u.set {
			return fmt.Errorf("%s=true is not supported by the samplers of this package; set it to false", u.field)
		}
	}
	return nil
}

// spacingOr returns cfg's timestep_spacing, or def (the sampler class's diffusers default) when unset.
func spacingOr(cfg SchedulerConfig, def string) string {
	if cfg.TimestepSpacing == "" {
		return def
	}
	return cfg.TimestepSpacing
}

// boolOr returns *p, or def when p is nil.
func boolOr(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}

// checkStep validates the arguments common to ScaleModelInput and Step.
func checkStep(op string, i, steps int, lengths ...int) error {
	if i < 0 || i >= steps {
		return fmt.Errorf("%s: step index %d is out of range [0, %d)", op, i, steps)
	}
	for _, n := range lengths[1:] {
		if n != lengths[0] {
			return fmt.Errorf("%s: model output has %d values and sample %d; they must have the same shape", op,
				lengths[0], n)
		}
	}
	return nil
}
