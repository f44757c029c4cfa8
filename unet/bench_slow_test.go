//go:build slow

package unet

import (
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/stretchr/testify/require"
)

// BenchmarkSD15UNetStep measures one forward step of a UNet of SD 1.5's size (random weights, batch 1,
// 64×64 latents = 512×512 pixels, 77 tokens of width 768) on the CPU backend. Behind -tags slow: it
// allocates the 860M parameters (3.4 GB) and a step takes minutes on SimpleGo.
func BenchmarkSD15UNetStep(b *testing.B) {
	cfg, err := LoadConfig("testdata/stable-diffusion-v1-5.json")
	require.NoError(b, err)
	ctx := context.New()
	exec, err := context.NewExec(testBackend(b), ctx,
		func(ctx *context.Context, sample, timestep, states *graph.Node) *graph.Node {
			return Forward(ctx.In("unet"), cfg, sample, timestep, Shared(states))
		})
	require.NoError(b, err)
	sample := tensors.FromShape(shapes.Make(dtypes.Float32, 1, 4, 64, 64))
	timestep := tensors.FromValue([]float32{500})
	states := tensors.FromShape(shapes.Make(dtypes.Float32, 1, 77, 768))
	_, err = exec.Exec(sample, timestep, states)
	require.NoError(b, err)
	for b.Loop() {
		out, err := exec.Exec(sample, timestep, states)
		if err != nil {
			b.Fatal(err)
		}
		out[0].FinalizeAll()
	}
}
