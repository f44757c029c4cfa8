package diffusion

import (
	"fmt"
	"slices"
)

// dpmSolver is diffusers' DPMSolverMultistepScheduler with algorithm_type dpmsolver++ and solver_order 2:
// DPM-Solver++(2M) (Lu et al. 2022), a data-prediction multistep solver in log-SNR λ = log(α_t/σ_t), where
// x = α_t·x0 + σ_t·ε and α_t = 1/sqrt(σ²+1), σ_t = σ·α_t for the k-diffusion σ.
type dpmSolver struct {
	prediction string
	heun       bool // solver_type heun instead of midpoint
	timesteps  []int
	// sigmas are σ at each timestep plus the final σ (0 or σ_min). [steps+1]
	sigmas []float32
	// firstOrderFinal: the last step is first order (diffusers' lower_order_final condition at the last step).
	firstOrderFinal bool

	// Run state, cleared by Reset.
	prevX0         []float32 // the data prediction of the previous step (diffusers' model_outputs[-2])
	lowerOrderNums int       // how many steps have run, capped at the solver order
	next           int       // the step index Step expects
}

func newDPMSolver(cfg SchedulerConfig, sched *Schedule, steps int) (*dpmSolver, error) {
	if cfg.AlgorithmType != "dpmsolver++" && cfg.AlgorithmType != "deis" {
		return nil, fmt.Errorf("algorithm_type %q is not supported by dpm++2m; use dpmsolver++", cfg.AlgorithmType)
	}
	if cfg.VarianceType != nil {
		return nil, fmt.Errorf("variance_type %q is not supported by dpm++2m; use null", *cfg.VarianceType)
	}
	n := cfg.NumTrainTimesteps
	// matches diffusers: clipped_idx = torch.searchsorted(torch.flip(lambda_t, [0]), lambda_min_clipped), the
	// number of log-SNRs below the clip; last_timestep = n − clipped_idx.
	clipped := 0
	for _, a := range sched.AlphasCumprod {
		lambda := log32(sqrt32(a)) - log32(sqrt32(1-a))
		if float64(lambda) < float64(cfg.LambdaMinClipped) {
			clipped++
		}
	}
	ts, err := dpmTimesteps(spacingOr(cfg, "linspace"), n, n-clipped, steps, cfg.StepsOffset)
	if err != nil {
		return nil, err
	}
	if len(ts) == 0 || slices.Min(ts) < 0 || slices.Max(ts) >= n {
		return nil, fmt.Errorf("%d steps with timestep_spacing %q and lambda_min_clipped %g give timesteps %v "+
			"outside [0, %d); use fewer steps or another spacing", steps, spacingOr(cfg, "linspace"),
			float64(cfg.LambdaMinClipped), ts, n)
	}
	all := sched.Sigmas()
	sigmas := make([]float32, len(ts)+1)
	for i, t := range ts {
		// matches diffusers: np.interp(timesteps, np.arange(0, n), sigmas) (exact at integer timesteps)
		sigmas[i] = float32(npInterpIndexGrid(float64(t), all))
	}
	if cfg.FinalSigmasType == "sigma_min" {
		sigmas[len(ts)] = all[0]
	}
	lowerOrderFinal := boolOr(cfg.LowerOrderFinal, true)
	return &dpmSolver{
		prediction: cfg.PredictionType,
		heun:       cfg.SolverType == "heun",
		timesteps:  ts,
		sigmas:     sigmas,
		firstOrderFinal: cfg.EulerAtFinal || (lowerOrderFinal && len(ts) < 15) ||
			cfg.FinalSigmasType == "zero",
	}, nil
}

// Name implements Sampler.
func (d *dpmSolver) Name() string { return "dpm++2m" }

// Timesteps implements Sampler.
func (d *dpmSolver) Timesteps() []float64 {
	return float64s(d.timesteps)
}

// InitNoiseSigma implements Sampler: DPM-Solver starts from unit-variance noise.
func (d *dpmSolver) InitNoiseSigma() float64 { return 1 }

// ScaleModelInput implements Sampler: DPM-Solver feeds the sample unchanged.
func (d *dpmSolver) ScaleModelInput(sample []float32, i int) ([]float32, error) {
	if err := checkStep("dpm++2m: scale model input", i, len(d.timesteps), len(sample)); err != nil {
		return nil, err
	}
	return sample, nil
}

// Reset implements Sampler, forgetting the previous data prediction.
func (d *dpmSolver) Reset() {
	d.prevX0, d.lowerOrderNums, d.next = nil, 0, 0
}

// alphaSigma matches diffusers' _sigma_to_alpha_sigma_t in float32: α = 1/sqrt(σ²+1), σ_t = σ·α, and
// returns λ = log α − log σ_t as well (+Inf at σ = 0).
func alphaSigma(sigma float32) (alpha, sigmaT, lambda float32) {
	alpha = 1 / sqrt32(float32(sigma*sigma)+1)
	sigmaT = sigma * alpha
	return alpha, sigmaT, log32(alpha) - log32(sigmaT)
}

// Step implements Sampler, matching DPMSolverMultistepScheduler.step: the model output becomes the data
// prediction x0 (convert_model_output), then with h = λ_{i+1} − λ_i
//
//	first order (step 0, and the last step when lower-order-final applies):
//	  prev = σ_{i+1}/σ_i·x − α_{i+1}(e^{−h} − 1)·x0_i
//	second order, midpoint, with r = (λ_i − λ_{i−1})/h and D1 = (x0_i − x0_{i−1})/r:
//	  prev = σ_{i+1}/σ_i·x − α_{i+1}(e^{−h} − 1)·x0_i − ½α_{i+1}(e^{−h} − 1)·D1
//
// (heun replaces the last term by + α_{i+1}((e^{−h} − 1)/h + 1)·D1).
func (d *dpmSolver) Step(modelOutput []float32, i int, sample []float32) ([]float32, error) {
	if err := checkStep("dpm++2m: step", i, len(d.timesteps), len(modelOutput), len(sample)); err != nil {
		return nil, err
	}
	if i != d.next {
		return nil, fmt.Errorf("dpm++2m: step: step index %d out of order; the next step is %d (steps run in order "+
			"from 0; call Reset to start a new run)", i, d.next)
	}
	if d.prevX0 != nil && len(d.prevX0) != len(sample) {
		return nil, fmt.Errorf("dpm++2m: step: sample has %d values but the previous step had %d", len(sample),
			len(d.prevX0))
	}
	x0 := d.dataPrediction(modelOutput, i, sample)
	aT, sT, lamT := alphaSigma(d.sigmas[i+1])
	_, sS0, lamS0 := alphaSigma(d.sigmas[i])
	h := lamT - lamS0
	c1 := sT / sS0
	c2 := aT * (exp32(-h) - 1)
	out := make([]float32, len(sample))
	lastStep := i == len(d.timesteps)-1
	if d.lowerOrderNums < 1 || (lastStep && d.firstOrderFinal) {
		for k, x := range sample {
			out[k] = float32(c1*x) - float32(c2*x0[k])
		}
	} else {
		_, _, lamS1 := alphaSigma(d.sigmas[i-1])
		r0 := (lamS0 - lamS1) / h
		invR0 := 1 / r0
		c3 := 0.5 * c2 // midpoint: − ½α(e^{−h} − 1)·D1
		if d.heun {
			c3 = -(aT * ((exp32(-h)-1)/h + 1)) // heun: + α((e^{−h} − 1)/h + 1)·D1
		}
		for k, x := range sample {
			d1 := invR0 * (x0[k] - d.prevX0[k])
			out[k] = float32(float32(c1*x)-float32(c2*x0[k])) - float32(c3*d1)
		}
	}
	d.prevX0 = x0
	d.lowerOrderNums = min(d.lowerOrderNums+1, 2)
	d.next++
	return out, nil
}

// dataPrediction matches convert_model_output for dpmsolver++: the model output as a prediction of x0.
func (d *dpmSolver) dataPrediction(modelOutput []float32, i int, sample []float32) []float32 {
	alpha, sigmaT, _ := alphaSigma(d.sigmas[i])
	x0 := make([]float32, len(sample))
	for k, x := range sample {
		m := modelOutput[k]
		switch d.prediction {
		case "epsilon":
			x0[k] = (x - float32(sigmaT*m)) / alpha
		case "v_prediction":
			x0[k] = float32(alpha*x) - float32(sigmaT*m)
		case "sample":
			x0[k] = m
		}
	}
	return x0
}
