package neti

import (
	stdcontext "context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// BenchmarkGenerateTiny times one full generation (text encoder, 5 guided UNet steps, VAE decode) on the
// tiny SD1-like model, graphs compiled outside the loop. Run: scripts/test.sh -run '^$' -bench GenerateTiny
func BenchmarkGenerateTiny(b *testing.B) {
	p, err := LoadPipeline(filepath.Join("testdata", "tiny-sd1"), LoadOptions{})
	require.NoError(b, err)
	defer p.Close()
	ctx := stdcontext.Background()
	opts := GenerateOptions{Steps: 5}
	_, err = p.Generate(ctx, "a red star on a blue background", opts) // compile
	require.NoError(b, err)
	for b.Loop() {
		if _, err := p.Generate(ctx, "a red star on a blue background", opts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*opts.Steps)/b.Elapsed().Seconds(), "steps/s")
}
