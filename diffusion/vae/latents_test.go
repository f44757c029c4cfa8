package vae

import (
	"math"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/stretchr/testify/require"

	"github.com/org/neti/internal/tensortest"
)

func TestSample(t *testing.T) {
	mean := []float32{0, 1, -2, 3}
	logvar := []float32{0, 2, -30, float32(math.Log(4))}
	noise := []float32{1, -1, 5, 0.5}
	want := make([]float32, len(mean))
	for i := range mean {
		want[i] = mean[i] + float32(math.Exp(0.5*float64(logvar[i])))*noise[i]
	}
	exec, err := graph.NewExec(newBackend(t), Sample)
	require.NoError(t, err)
	out, err := exec.Exec(tensors.FromFlatDataAndDimensions(mean, 1, 4, 1, 1),
		tensors.FromFlatDataAndDimensions(logvar, 1, 4, 1, 1), tensors.FromFlatDataAndDimensions(noise, 1, 4, 1, 1))
	require.NoError(t, err)
	tensortest.AllCloseFloats(t, want, tensors.MustCopyFlatData[float32](out[0]), 1e-6,
		"Sample(mean=%v, logvar=%v, noise=%v)", mean, logvar, noise)
}

func TestScaleLatents(t *testing.T) {
	latents := []float32{-1.5, 0, 0.25, 4}
	shift := 0.0609
	for _, cfg := range []Config{
		{ScalingFactor: 0.18215},
		{ScalingFactor: 0.3611, ShiftFactor: &shift},
	} {
		want := make([]float32, len(latents))
		for i, z := range latents {
			want[i] = float32((float64(z) - cfg.Shift()) * cfg.ScalingFactor)
		}
		exec, err := graph.NewExec(newBackend(t), func(z *graph.Node) (scaled, roundTrip *graph.Node) {
			scaled = ScaleLatents(cfg, z)
			return scaled, UnscaleLatents(cfg, scaled)
		})
		require.NoError(t, err)
		out, err := exec.Exec(tensors.FromFlatDataAndDimensions(latents, 1, 4, 1, 1))
		require.NoError(t, err)
		tensortest.AllCloseFloats(t, want, tensors.MustCopyFlatData[float32](out[0]), 1e-6,
			"ScaleLatents(scaling %g, shift %g) of %v", cfg.ScalingFactor, cfg.Shift(), latents)
		tensortest.AllCloseFloats(t, latents, tensors.MustCopyFlatData[float32](out[1]), 1e-6,
			"UnscaleLatents(ScaleLatents(%v)), scaling %g, shift %g", latents, cfg.ScalingFactor, cfg.Shift())
	}
}
