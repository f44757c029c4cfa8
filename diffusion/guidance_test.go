package diffusion

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func randSlice(rng *rand.Rand, n int, scale float64) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(rng.NormFloat64() * scale)
	}
	return out
}

func TestGuidance(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	u, c := randSlice(rng, 32, 1), randSlice(rng, 32, 1)
	assert.Equal(t, u, Guidance(u, c, 0), "scale 0 is the unconditional output")
	assert.InDeltaSlice(t, c, Guidance(u, c, 1), 1e-6, "scale 1 is the conditional output")
	g := Guidance(u, c, 7.5)
	for i := range g {
		assert.InDelta(t, float64(u[i])+7.5*(float64(c[i])-float64(u[i])), g[i], 1e-5, "index %d", i)
	}
	assert.Panics(t, func() { Guidance(u, c[:3], 7.5) })
}

func TestRescaleGuidance(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	const batch, item = 2, 24
	cond := randSlice(rng, batch*item, 1)
	guided := randSlice(rng, batch*item, 3)
	out, err := RescaleGuidance(guided, cond, batch, 0)
	require.NoError(t, err)
	assert.InDeltaSlice(t, guided, out, 1e-6, "phi 0 leaves the guided output")

	out, err = RescaleGuidance(guided, cond, batch, 1)
	require.NoError(t, err)
	for b := range batch {
		lo, hi := b*item, (b+1)*item
		assert.InDelta(t, stdUnbiased(cond[lo:hi]), stdUnbiased(out[lo:hi]), 1e-5, "phi 1: item %d has cond's std", b)
		// The rescaling is a per-item factor, so direction is kept.
		ratio := float64(out[lo]) / float64(guided[lo])
		for i := lo; i < hi; i++ {
			assert.InDelta(t, ratio*float64(guided[i]), out[i], 1e-5)
		}
	}

	half, err := RescaleGuidance(guided, cond, batch, 0.7)
	require.NoError(t, err)
	for i := range half {
		assert.InDelta(t, 0.7*float64(out[i])+0.3*float64(guided[i]), half[i], 1e-5)
	}

	_, err = RescaleGuidance(guided, cond, 5, 0.7)
	require.Error(t, err)
	_, err = RescaleGuidance(guided, cond[:4], batch, 0.7)
	require.Error(t, err)
	assert.False(t, math.IsNaN(float64(out[0])))

	flat := make([]float32, item) // a constant guided item: kept, not divided by its zero deviation
	for i := range flat {
		flat[i] = 0.25
	}
	kept, err := RescaleGuidance(flat, cond[:item], 1, 0.7)
	require.NoError(t, err)
	assert.Equal(t, flat, kept)
}
