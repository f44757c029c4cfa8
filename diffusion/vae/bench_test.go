package vae

import (
	"testing"

	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/stretchr/testify/require"
)

// benchmarkDecode times Decode of latents [1, latent, size, size] with the weights in ctx (random ones, made
// by the first run, for variables ctx does not hold); compilation and the first run happen before the timed
// loop.
func benchmarkDecode(b *testing.B, cfg Config, ctx *context.Context, size int) {
	exec, err := context.NewExec(newBackend(b), ctx.In("vae").Checked(false), func(ctx *context.Context, z *graph.Node) *graph.Node {
		return Decode(ctx, cfg, z)
	})
	require.NoError(b, err)
	latents := tensors.FromFlatDataAndDimensions(make([]float32, cfg.LatentChannels*size*size),
		1, cfg.LatentChannels, size, size)
	out, err := exec.Exec(latents)
	require.NoError(b, err)
	f := cfg.ScaleFactor()
	require.Equal(b, []int{1, cfg.OutChannels, size * f, size * f}, out[0].Shape().Dimensions)
	for b.Loop() {
		if _, err := exec.Exec(latents); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeTiny decodes a 16×16 latent with the tiny-sd1 VAE (64×64 image).
func BenchmarkDecodeTiny(b *testing.B) {
	cfg, ctx := loadTiny(b, "tiny-sd1")
	benchmarkDecode(b, cfg, ctx, 16)
}
