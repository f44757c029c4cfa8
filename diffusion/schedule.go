package diffusion

import (
	"fmt"
	"math"
)

// Schedule is the discrete DDPM noise schedule of a config, as diffusers holds it: float32 tensors of
// num_train_timesteps values indexed by the training timestep t.
type Schedule struct {
	// Betas are β_t. [NumTrainTimesteps]
	Betas []float32
	// Alphas are α_t = 1 − β_t. [NumTrainTimesteps]
	Alphas []float32
	// AlphasCumprod are ᾱ_t = Π_{s≤t} α_s. [NumTrainTimesteps]
	AlphasCumprod []float32
}

// NewSchedule computes the betas and alphas of cfg as diffusers does:
//
//   - linear: torch.linspace(beta_start, beta_end, n, dtype=float32)
//   - scaled_linear: torch.linspace(sqrt(beta_start), sqrt(beta_end), n, dtype=float32) ** 2
//   - squaredcos_cap_v2: betas_for_alpha_bar (cosine ᾱ, β capped at 0.999) in float64, then float32
//   - trained_betas: the given values as float32
//
// then alphas = 1 − betas in float32 and alphas_cumprod = torch.cumprod(alphas), which on the CPU
// accumulates in float64 and rounds each output to float32.
func NewSchedule(cfg SchedulerConfig) (*Schedule, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new schedule: %w", err)
	}
	if cfg.RescaleBetasZeroSNR {
		return nil, fmt.Errorf("new schedule: rescale_betas_zero_snr=true is not supported; set it to false")
	}
	n := cfg.NumTrainTimesteps
	var betas []float32
	switch {
	case cfg.TrainedBetas != nil:
		betas = make([]float32, n)
		for i, b := range cfg.TrainedBetas {
			betas[i] = float32(b)
		}
	case cfg.BetaSchedule == "linear":
		betas = torchLinspace32(cfg.BetaStart, cfg.BetaEnd, n)
	case cfg.BetaSchedule == "scaled_linear":
		betas = torchLinspace32(math.Sqrt(cfg.BetaStart), math.Sqrt(cfg.BetaEnd), n)
		for i, b := range betas {
			betas[i] = b * b
		}
	case cfg.BetaSchedule == "squaredcos_cap_v2":
		betas = cosineBetas(n, 0.999)
	}
	s := &Schedule{Betas: betas, Alphas: make([]float32, n), AlphasCumprod: make([]float32, n)}
	acc := 1.0
	for i, b := range betas {
		s.Alphas[i] = 1 - b
		acc *= float64(s.Alphas[i])
		s.AlphasCumprod[i] = float32(acc)
	}
	return s, nil
}

// cosineBetas matches diffusers' betas_for_alpha_bar with the "cosine" transform (Nichol & Dhariwal):
// β_i = min(1 − ᾱ((i+1)/n)/ᾱ(i/n), maxBeta) with ᾱ(t) = cos²((t+0.008)/1.008·π/2), in float64.
func cosineBetas(n int, maxBeta float64) []float32 {
	alphaBar := func(t float64) float64 {
		c := math.Cos((t + 0.008) / 1.008 * math.Pi / 2)
		return c * c
	}
	out := make([]float32, n)
	for i := range out {
		t1 := float64(i) / float64(n)
		t2 := float64(i+1) / float64(n)
		out[i] = float32(math.Min(1-alphaBar(t2)/alphaBar(t1), maxBeta))
	}
	return out
}

// NumTrainTimesteps is the number of training timesteps (the length of every table).
func (s *Schedule) NumTrainTimesteps() int { return len(s.AlphasCumprod) }

// SqrtAlphaCumprod is sqrt(ᾱ_t) in float32, the coefficient of x0 in [Schedule.AddNoise]. It panics if t is
// not in [0, NumTrainTimesteps).
func (s *Schedule) SqrtAlphaCumprod(t int) float32 { return sqrt32(s.AlphasCumprod[t]) }

// SqrtOneMinusAlphaCumprod is sqrt(1 − ᾱ_t) in float32, the coefficient of the noise in
// [Schedule.AddNoise]. It panics if t is not in [0, NumTrainTimesteps).
func (s *Schedule) SqrtOneMinusAlphaCumprod(t int) float32 { return sqrt32(1 - s.AlphasCumprod[t]) }

// SqrtAlphasCumprod is the table of [Schedule.SqrtAlphaCumprod] for every t, for a training graph to
// gather per-example coefficients from (e.g. a constant [NumTrainTimesteps] node indexed by the sampled
// timesteps). [NumTrainTimesteps]
func (s *Schedule) SqrtAlphasCumprod() []float32 {
	out := make([]float32, len(s.AlphasCumprod))
	for t := range out {
		out[t] = s.SqrtAlphaCumprod(t)
	}
	return out
}

// SqrtOneMinusAlphasCumprod is the table of [Schedule.SqrtOneMinusAlphaCumprod] for every t (see
// [Schedule.SqrtAlphasCumprod]). [NumTrainTimesteps]
func (s *Schedule) SqrtOneMinusAlphasCumprod() []float32 {
	out := make([]float32, len(s.AlphasCumprod))
	for t := range out {
		out[t] = s.SqrtOneMinusAlphaCumprod(t)
	}
	return out
}

// Sigmas are the k-diffusion noise levels σ_t = sqrt((1 − ᾱ_t)/ᾱ_t) in float32, as Euler and DPM-Solver
// compute them. [NumTrainTimesteps]
func (s *Schedule) Sigmas() []float32 {
	out := make([]float32, len(s.AlphasCumprod))
	for i, a := range s.AlphasCumprod {
		out[i] = sqrt32((1 - a) / a)
	}
	return out
}

// AddNoise is the DDPM forward process q(x_t | x0) of diffusers' add_noise:
// x_t = sqrt(ᾱ_t)·x0 + sqrt(1 − ᾱ_t)·noise, in float32. x0 and noise have the same length (any shape, e.g.
// [B, 4, H, W] flat); timesteps holds either one t for every element or one t per batch item, x0 being
// split into len(timesteps) equal items.
func (s *Schedule) AddNoise(x0, noise []float32, timesteps ...int) ([]float32, error) {
	out := make([]float32, len(x0))
	err := s.perItem("add noise", x0, noise, timesteps, func(a, b float32, x, n, o []float32) {
		for i := range o {
			o[i] = float32(a*x[i]) + float32(b*n[i])
		}
	}, out)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Velocity is the v-prediction training target of diffusers' get_velocity:
// v = sqrt(ᾱ_t)·noise − sqrt(1 − ᾱ_t)·x0, in float32. Arguments as in [Schedule.AddNoise].
func (s *Schedule) Velocity(x0, noise []float32, timesteps ...int) ([]float32, error) {
	out := make([]float32, len(x0))
	err := s.perItem("velocity", x0, noise, timesteps, func(a, b float32, x, n, o []float32) {
		for i := range o {
			o[i] = float32(a*n[i]) - float32(b*x[i])
		}
	}, out)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// perItem checks the arguments of AddNoise/Velocity and calls fn once per batch item with that item's
// sqrt(ᾱ_t), sqrt(1 − ᾱ_t) and slices.
func (s *Schedule) perItem(op string, x0, noise []float32, timesteps []int,
	fn func(a, b float32, x, n, o []float32), out []float32) error {
	if len(x0) != len(noise) {
		return fmt.Errorf("%s: x0 has %d values and noise %d; they must have the same shape", op, len(x0), len(noise))
	}
	if len(timesteps) == 0 || len(x0)%len(timesteps) != 0 {
		return fmt.Errorf("%s: %d timesteps for %d values; give one timestep, or one per batch item with the "+
			"values evenly divided among them", op, len(timesteps), len(x0))
	}
	item := len(x0) / len(timesteps)
	for b, t := range timesteps {
		if t < 0 || t >= s.NumTrainTimesteps() {
			return fmt.Errorf("%s: timestep %d is out of range [0, %d)", op, t, s.NumTrainTimesteps())
		}
		lo, hi := b*item, (b+1)*item
		fn(s.SqrtAlphaCumprod(t), s.SqrtOneMinusAlphaCumprod(t), x0[lo:hi], noise[lo:hi], out[lo:hi])
	}
	return nil
}
