//go:build slow

package vae

import (
	"testing"

	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/stretchr/testify/require"
)

// BenchmarkDecodeSD15 decodes a 64×64 latent (a 512×512 image) with the real SD 1.5 VAE config and random
// weights (no SD weights are available): it measures the cost of an SD-size decode. Run with -tags slow.
func BenchmarkDecodeSD15(b *testing.B) {
	cfg, err := LoadConfig(realConfigPath("stable-diffusion-v1-5"))
	require.NoError(b, err)
	benchmarkDecode(b, cfg, context.New(), 64)
}
