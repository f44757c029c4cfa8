//go:build slow

package clip

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// BenchmarkEncoderSD15 is a pass of the full-size SD 1.5 text encoder (CLIP ViT-L/14 text tower, 123M
// parameters, config from testdata/configs) over a batch of 2 prompts, at random weights.
// Run with: go test -tags slow -run '^$' -bench EncoderSD15 ./clip/
func BenchmarkEncoderSD15(b *testing.B) {
	cfg, err := LoadConfig(filepath.Join("..", "testdata", "configs", "stable-diffusion-v1-5", "text_encoder",
		"config.json"))
	require.NoError(b, err)
	benchmarkEncoder(b, cfg, 2)
}
