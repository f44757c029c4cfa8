package diffusion

import "fmt"

// euler is diffusers' EulerDiscreteScheduler without churn: the Euler method on the probability-flow ODE in
// k-diffusion's σ parametrization, x = x0 + σ·ε.
type euler struct {
	prediction string
	timesteps  []float32
	// sigmas are σ at each timestep plus the final σ (0 or σ_min). [steps+1]
	sigmas    []float32
	initSigma float32
}

func newEuler(cfg SchedulerConfig, sched *Schedule, steps int) (*euler, error) {
	if cfg.InterpolationType != "linear" {
		return nil, fmt.Errorf("interpolation_type %q is not supported by euler; use linear", cfg.InterpolationType)
	}
	if cfg.TimestepType == "continuous" && cfg.PredictionType == "v_prediction" {
		return nil, fmt.Errorf("timestep_type continuous with v_prediction is not supported by euler; use discrete")
	}
	spacing := spacingOr(cfg, "linspace")
	ts, err := eulerTimesteps(spacing, cfg.NumTrainTimesteps, steps, cfg.StepsOffset)
	if err != nil {
		return nil, err
	}
	// matches diffusers: sigmas = np.interp(timesteps, np.arange(0, n), ((1 - ᾱ) / ᾱ) ** 0.5), then the final
	// sigma appended and the whole cast to float32.
	all := sched.Sigmas()
	sigmas := make([]float32, len(ts)+1)
	for i, t := range ts {
		sigmas[i] = float32(npInterpIndexGrid(float64(t), all))
	}
	if cfg.FinalSigmasType == "sigma_min" {
		sigmas[len(ts)] = all[0]
	}
	e := &euler{prediction: cfg.PredictionType, timesteps: ts, sigmas: sigmas}
	maxSigma := sigmas[0]
	for _, s := range sigmas {
		maxSigma = max(maxSigma, s)
	}
	// matches diffusers: init_noise_sigma is max σ for linspace/trailing, sqrt(max σ² + 1) for leading.
	e.initSigma = maxSigma
	if spacing == "leading" {
		e.initSigma = sqrt32(float32(maxSigma*maxSigma) + 1)
	}
	return e, nil
}

// Name implements Sampler.
func (e *euler) Name() string { return "euler" }

// Timesteps implements Sampler (float32 values, fractional for some step counts).
func (e *euler) Timesteps() []float64 {
	return float64s(e.timesteps)
}

// InitNoiseSigma implements Sampler.
func (e *euler) InitNoiseSigma() float64 { return float64(e.initSigma) }

// Reset implements Sampler (this Euler has no state).
func (e *euler) Reset() {}

// ScaleModelInput implements Sampler: x / sqrt(σ_i² + 1), the UNet's unit-variance input.
func (e *euler) ScaleModelInput(sample []float32, i int) ([]float32, error) {
	if err := checkStep("euler: scale model input", i, len(e.timesteps), len(sample)); err != nil {
		return nil, err
	}
	s := e.sigmas[i]
	div := sqrt32(float32(s*s) + 1)
	out := make([]float32, len(sample))
	for k, x := range sample {
		out[k] = x / div
	}
	return out, nil
}

// Step implements Sampler, matching EulerDiscreteScheduler.step with s_churn = 0:
//
//	x0   = x − σ_i·ε                                  (epsilon; v and sample likewise)
//	prev = x + (x − x0)/σ_i · (σ_{i+1} − σ_i)
func (e *euler) Step(modelOutput []float32, i int, sample []float32) ([]float32, error) {
	if err := checkStep("euler: step", i, len(e.timesteps), len(modelOutput), len(sample)); err != nil {
		return nil, err
	}
	sigma := e.sigmas[i]
	sigmaHat := sigma // γ = 0: σ̂ = σ·(γ+1)
	dt := e.sigmas[i+1] - sigmaHat
	s2 := float32(sigma*sigma) + 1
	vOut := -sigma / sqrt32(s2) // v-prediction coefficient of the model output
	out := make([]float32, len(sample))
	for k, x := range sample {
		m := modelOutput[k]
		var x0 float32
		switch e.prediction {
		case "epsilon":
			x0 = x - float32(sigmaHat*m)
		case "v_prediction":
			x0 = float32(m*vOut) + x/s2
		case "sample":
			x0 = m
		}
		derivative := (x - x0) / sigmaHat
		out[k] = x + float32(derivative*dt)
	}
	return out, nil
}
