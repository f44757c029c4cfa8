package diffusion

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestScheduleShapes(t *testing.T) {
	for _, schedule := range BetaSchedules {
		cfg := sd15Config(t)
		cfg.BetaSchedule = schedule
		s, err := NewSchedule(cfg)
		require.NoError(t, err, schedule)
		require.Len(t, s.Betas, 1000, schedule)
		require.Len(t, s.AlphasCumprod, 1000, schedule)
		for i := 1; i < 1000; i++ {
			require.Less(t, s.AlphasCumprod[i], s.AlphasCumprod[i-1], "%s: ᾱ must decrease at %d", schedule, i)
			require.Equal(t, 1-s.Betas[i], s.Alphas[i], schedule)
		}
		switch schedule {
		case "linear":
			assert.Equal(t, float32(0.00085), s.Betas[0])
			assert.InDelta(t, 0.012, s.Betas[999], 1e-9)
		case "scaled_linear":
			// sqrt endpoints squared back.
			assert.InDelta(t, 0.00085, s.Betas[0], 1e-9)
			assert.InDelta(t, 0.012, s.Betas[999], 1e-9)
			// The midpoint of a squared linspace is ((sqrt(b0)+sqrt(b1))/2)², not the linear midpoint.
			mid := (math.Sqrt(0.00085) + math.Sqrt(0.012)) / 2
			assert.InDelta(t, mid*mid, float64(s.Betas[499]+s.Betas[500])/2, 1e-7)
		case "squaredcos_cap_v2":
			assert.Equal(t, float32(0.999), s.Betas[999], "the last cosine beta is capped")
			assert.Less(t, s.Betas[0], float32(1e-4))
		}
	}
}

func TestScheduleTrainedBetas(t *testing.T) {
	cfg := DefaultSchedulerConfig()
	cfg.NumTrainTimesteps = 3
	cfg.TrainedBetas = []float64{0.1, 0.2, 0.5}
	s, err := NewSchedule(cfg)
	require.NoError(t, err)
	assert.InDeltaSlice(t, []float32{0.9, 0.72, 0.36}, s.AlphasCumprod, 1e-7)
}

func TestAddNoiseAndVelocity(t *testing.T) {
	s, err := NewSchedule(sd15Config(t))
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(5, 6))
	const item = 4 * 2 * 2 // [4, 2, 2] per batch item
	x0 := make([]float32, 3*item)
	noise := make([]float32, len(x0))
	for i := range x0 {
		x0[i], noise[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
	}
	ts := []int{0, 500, 999}
	xt, err := s.AddNoise(x0, noise, ts...)
	require.NoError(t, err)
	v, err := s.Velocity(x0, noise, ts...)
	require.NoError(t, err)
	sqrtA, sqrtB := s.SqrtAlphasCumprod(), s.SqrtOneMinusAlphasCumprod()
	require.Len(t, sqrtA, 1000)
	require.Len(t, sqrtB, 1000)
	for b, tt := range ts {
		a, sb := float64(sqrtA[tt]), float64(sqrtB[tt])
		assert.InDelta(t, math.Sqrt(float64(s.AlphasCumprod[tt])), a, 1e-7, "sqrt(ᾱ) at t=%d", tt)
		assert.InDelta(t, 1, a*a+sb*sb, 1e-6, "ᾱ + (1−ᾱ) at t=%d", tt)
		// Single-timestep calls on one item give the same values as the batched call.
		lo, hi := b*item, (b+1)*item
		one, err := s.AddNoise(x0[lo:hi], noise[lo:hi], tt)
		require.NoError(t, err)
		assert.Equal(t, xt[lo:hi], one)
		for i := lo; i < hi; i++ {
			assert.InDelta(t, a*float64(x0[i])+sb*float64(noise[i]), xt[i], 1e-6, "x_t at t=%d", tt)
			// v-parametrization identities: x0 = sqrt(ᾱ)x_t − sqrt(1−ᾱ)v, ε = sqrt(1−ᾱ)x_t + sqrt(ᾱ)v.
			assert.InDelta(t, x0[i], a*float64(xt[i])-sb*float64(v[i]), 1e-5, "x0 from v at t=%d", tt)
			assert.InDelta(t, noise[i], sb*float64(xt[i])+a*float64(v[i]), 1e-5, "ε from v at t=%d", tt)
		}
	}

	_, err = s.AddNoise(x0, noise[:5], 10)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "same shape")
	_, err = s.AddNoise(x0, noise, 1000)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "out of range")
	_, err = s.Velocity(x0, noise, 1, 2, 3, 4, 5)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "5 timesteps")
}
