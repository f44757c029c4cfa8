package diffusion

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sd15Config(t *testing.T) SchedulerConfig {
	t.Helper()
	cfg, err := ParseSchedulerConfig([]byte(sd15SchedulerConfig))
	require.NoError(t, err)
	return cfg
}

func ints(vals []float64) []int {
	out := make([]int, len(vals))
	for i, v := range vals {
		out[i] = int(v)
	}
	return out
}

// TestSD15Timesteps checks the 50-step timesteps diffusers 0.42.1 gives with stable-diffusion-v1-5's
// scheduler config through from_config (printed by diffusers on 2026-11-27): DPM-Solver uses its default
// linspace spacing (999, 979, ..., 20, with 499.5 rounding half-to-even to 500), DDIM its default leading
// spacing with steps_offset 1.
func TestSD15Timesteps(t *testing.T) {
	cfg := sd15Config(t)
	dpm, err := NewSampler("dpm++2m", cfg, 50)
	require.NoError(t, err)
	want := []int{999, 979, 959, 939, 919, 899, 879, 859, 839, 819, 799, 779, 759, 739, 719, 699, 679, 659, 639,
		619, 599, 579, 559, 539, 519, 500, 480, 460, 440, 420, 400, 380, 360, 340, 320, 300, 280, 260, 240, 220,
		200, 180, 160, 140, 120, 100, 80, 60, 40, 20}
	assert.Equal(t, want, ints(dpm.Timesteps()))
	assert.Equal(t, 1.0, dpm.InitNoiseSigma())

	ddim, err := NewSampler("ddim", cfg, 50)
	require.NoError(t, err)
	ts := ints(ddim.Timesteps())
	require.Len(t, ts, 50)
	for i, v := range ts {
		assert.Equal(t, 981-20*i, v, "ddim timestep %d", i)
	}

	eul, err := NewSampler("euler", cfg, 50)
	require.NoError(t, err)
	ets := eul.Timesteps()
	require.Len(t, ets, 50)
	// np.linspace(0, 999, 50, dtype=float32)[::-1]
	assert.Equal(t, 999.0, ets[0])
	assert.Equal(t, float64(float32(978.6122436523438)), ets[1])
	assert.Equal(t, 0.0, ets[49])
	// sqrt(ᾱ_0 ... ) at t=999: σ_max = sqrt((1-ᾱ_999)/ᾱ_999) = 14.6146...; linspace → init sigma = σ_max.
	assert.InDelta(t, 14.614646911621094, eul.InitNoiseSigma(), 2e-6)
}

// TestTimestepSpacings checks the three spacings on small cases worked out by hand from diffusers' formulas.
func TestTimestepSpacings(t *testing.T) {
	cases := []struct {
		sampler, spacing string
		offset, steps    int
		want             []int
	}{
		// leading: arange(steps) * (1000//steps), reversed, + offset
		{"ddim", "leading", 1, 4, []int{751, 501, 251, 1}},
		// trailing: round(arange(1000, 0, -1000/steps)) - 1
		{"ddim", "trailing", 1, 4, []int{999, 749, 499, 249}},
		{"ddim", "trailing", 0, 3, []int{999, 666, 332}},
		// linspace: round(linspace(0, 999, steps)), reversed
		{"ddim", "linspace", 1, 4, []int{999, 666, 333, 0}},
		// DPM-Solver leading: arange(steps+1) * (1000//(steps+1)), reversed, first steps, + offset
		{"dpm++2m", "leading", 1, 4, []int{801, 601, 401, 201}},
		{"dpm++2m", "trailing", 1, 4, []int{999, 749, 499, 249}},
		// DPM-Solver linspace: round(linspace(0, 999, steps+1)), reversed, first steps
		{"dpm++2m", "linspace", 1, 4, []int{999, 749, 500, 250}},
		{"euler", "leading", 1, 4, []int{751, 501, 251, 1}},
		{"euler", "trailing", 1, 4, []int{999, 749, 499, 249}},
		{"euler", "linspace", 1, 4, []int{999, 666, 333, 0}},
	}
	for _, c := range cases {
		cfg := DefaultSchedulerConfig()
		cfg.TimestepSpacing, cfg.StepsOffset = c.spacing, c.offset
		s, err := NewSampler(c.sampler, cfg, c.steps)
		require.NoError(t, err)
		assert.Equal(t, c.want, ints(s.Timesteps()), "%s %s offset %d, %d steps", c.sampler, c.spacing, c.offset,
			c.steps)
	}
}

// TestSamplersRecoverDataPoint runs every sampler and prediction type with an oracle model: the exact
// noise/velocity/x0 of a single data point x0 (the ideal denoiser when the data distribution is one point).
// The probability-flow ODE then ends at x0, and each solver reaches it up to float32 rounding: DDIM exactly,
// Euler and DPM-Solver++ because their x0 prediction is exact at every step.
func TestSamplersRecoverDataPoint(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x0 := make([]float32, 2*4*3*3) // [2, 4, 3, 3]
	noise := make([]float32, len(x0))
	for i := range x0 {
		x0[i] = float32(rng.NormFloat64())
		noise[i] = float32(rng.NormFloat64())
	}
	// DDIM with set_alpha_to_one ends exactly at x0.
	one := true
	cfg := sd15Config(t)
	cfg.SetAlphaToOne = &one
	s, err := NewSampler("ddim", cfg, 10)
	require.NoError(t, err)
	sched, err := NewSchedule(cfg)
	require.NoError(t, err)
	x := noise
	for i, ts := range s.Timesteps() {
		x, err = s.Step(oracle(t, sched, s, x, x0, "epsilon", ts), i, x)
		require.NoError(t, err)
	}
	assert.InDeltaSlice(t, x0, x, 2e-4, "ddim, set_alpha_to_one")

	for _, pred := range PredictionTypes {
		for _, name := range SamplerNames {
			for _, spacing := range TimestepSpacings {
				if name == "ddim" && spacing == "linspace" {
					// diffusers' DDIM steps from t to t − 1000//steps whatever the spacing; with linspace that is
					// not the next timestep (111 → 11, then 0 is treated as the current level), so the oracle's
					// path is not DDIM's. Its step arithmetic is the same as for the other spacings.
					continue
				}
				cfg := sd15Config(t)
				cfg.PredictionType, cfg.TimestepSpacing = pred, spacing
				s, err := NewSampler(name, cfg, 10)
				require.NoError(t, err)
				sched, err := NewSchedule(cfg)
				require.NoError(t, err)
				sigmaMax := float32(s.InitNoiseSigma())
				x := make([]float32, len(noise))
				for i, n := range noise {
					x[i] = n * sigmaMax
				}
				ts := s.Timesteps()
				for i := range ts {
					in, err := s.ScaleModelInput(x, i)
					require.NoError(t, err)
					out := oracle(t, sched, s, in, x0, pred, ts[i])
					x, err = s.Step(out, i, x)
					require.NoError(t, err)
				}
				want := x0
				if name == "ddim" {
					// DDIM's last step lands on ᾱ_final = ᾱ_0 (set_alpha_to_one false), not on ᾱ = 1: the result
					// is sqrt(ᾱ_0)·x0 + sqrt(1−ᾱ_0)·ε with the ε of the initial sample.
					want = ddimFinal(sched, x0, noise, ts[0])
				}
				assert.InDeltaSlice(t, want, x, 2e-4, "%s, %s prediction, %s spacing", name, pred, spacing)
			}
		}
	}
}

// ddimFinal is sqrt(ᾱ_0)·x0 + sqrt(1−ᾱ_0)·ε, where ε is the noise of x_T = noise at timestep tT.
func ddimFinal(sched *Schedule, x0, noise []float32, tT float64) []float32 {
	aT := float64(sched.AlphasCumprod[int(tT)])
	a0 := float64(sched.AlphasCumprod[0])
	out := make([]float32, len(x0))
	for i := range out {
		eps := (float64(noise[i]) - math.Sqrt(aT)*float64(x0[i])) / math.Sqrt(1-aT)
		out[i] = float32(math.Sqrt(a0)*float64(x0[i]) + math.Sqrt(1-a0)*eps)
	}
	return out
}

// oracle returns the exact model output for the scaled model input in at (fractional) timestep t when the
// data is the single point x0: with ᾱ interpolated through σ as Euler does.
func oracle(t *testing.T, sched *Schedule, s Sampler, in, x0 []float32, pred string, ts float64) []float32 {
	t.Helper()
	// The UNet input is always x_t = sqrt(ᾱ)·x0 + sqrt(1−ᾱ)·ε for the sampler's σ at this step, with
	// ᾱ = 1/(σ²+1): Euler scales its σ-space sample to exactly that.
	sigma := float64(npInterpIndexGrid(ts, sched.Sigmas()))
	if e, ok := s.(*euler); ok {
		for i, tt := range e.timesteps {
			if float64(tt) == ts {
				sigma = float64(e.sigmas[i])
			}
		}
	}
	a := 1 / math.Sqrt(sigma*sigma+1) // sqrt(ᾱ)
	b := sigma * a                    // sqrt(1−ᾱ)
	out := make([]float32, len(in))
	for i, v := range in {
		eps := (float64(v) - a*float64(x0[i])) / b
		switch pred {
		case "epsilon":
			out[i] = float32(eps)
		case "v_prediction":
			out[i] = float32(a*eps - b*float64(x0[i]))
		case "sample":
			out[i] = x0[i]
		}
	}
	return out
}

func TestSamplerErrors(t *testing.T) {
	cfg := sd15Config(t)
	_, err := NewSampler("pndm", cfg, 10)
	require.Error(t, err)
	for _, n := range SamplerNames {
		assert.Contains(t, err.Error(), n)
	}
	_, err = NewSampler("ddim", cfg, 0)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "0 steps")
	_, err = NewSampler("ddim", cfg, 1001)
	require.Error(t, err)
	// leading spacing with steps_offset 1 at 1000 steps would reach timestep 1000.
	_, err = NewSampler("ddim", cfg, 1000)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "timestep 1000")

	for _, field := range []string{"use_karras_sigmas", "thresholding", "rescale_betas_zero_snr"} {
		c, err := ParseSchedulerConfig([]byte(fmt.Sprintf(`{"%s": true}`, field)))
		require.NoError(t, err)
		_, err = NewSampler("euler", c, 10)
		require.Error(t, err, field)
		assert.Contains(t, err.Error(), field)
	}
	c := cfg
	c.AlgorithmType = "sde-dpmsolver++"
	_, err = NewSampler("dpm++2m", c, 10)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "sde-dpmsolver++")

	s, err := NewSampler("dpm++2m", cfg, 5)
	require.NoError(t, err)
	x := make([]float32, 8)
	_, err = s.Step(x, 1, x)
	require.Error(t, err, "DPM-Solver must refuse steps out of order")
	assert.Contains(t, err.Error(), "out of order")
	_, err = s.Step(x, 0, x[:4])
	require.Error(t, err)
	assert.Contains(t, err.Error(), "same shape")
	_, err = s.ScaleModelInput(x, 5)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "out of range")
}

// TestDPMSolverReset checks that a DPM-Solver run after Reset repeats the first run exactly (its multistep
// state is cleared), and that the second-order steps use that state (a run without Reset differs).
func TestDPMSolverReset(t *testing.T) {
	s, err := NewSampler("dpm++2m", sd15Config(t), 6)
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([]float32, 16)
	outs := make([][]float32, 6)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	for i := range outs {
		outs[i] = make([]float32, len(x))
		for k := range outs[i] {
			outs[i][k] = float32(rng.NormFloat64())
		}
	}
	run := func() []float32 {
		y := x
		for i := range outs {
			y, err = s.Step(outs[i], i, y)
			require.NoError(t, err)
		}
		return y
	}
	first := run()
	s.Reset()
	assert.Equal(t, first, run())

	// Changing only the model output of step 0 changes step 1's result through D1, not just through x.
	s.Reset()
	y0, err := s.Step(outs[0], 0, x)
	require.NoError(t, err)
	y1, err := s.Step(outs[1], 1, y0)
	require.NoError(t, err)
	s.Reset()
	alt := make([]float32, len(x))
	for k := range alt {
		alt[k] = outs[0][k] + 0.5
	}
	_, err = s.Step(alt, 0, x)
	require.NoError(t, err)
	y1b, err := s.Step(outs[1], 1, y0) // same input sample as before
	require.NoError(t, err)
	assert.NotEqual(t, y1, y1b, "second-order step must depend on the previous model output")
}
