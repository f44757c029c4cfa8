package neti

import (
	stdcontext "context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// BenchmarkGenerateTinyConcept is BenchmarkGenerateTiny with a NeTI concept in the prompt (random mapper,
// default size: 1024 Fourier features, 128 hidden units): one EncodeConcepts pass (5 steps × 16 layers of
// mapper and text encoder), then 5 guided UNet steps with per-layer states, and the VAE decode. Compare
// the two in one run (same machine, same load):
//
//	scripts/test.sh -run '^$' -bench 'GenerateTiny(Concept)?$' -count 5
func BenchmarkGenerateTinyConcept(b *testing.B) {
	p, err := LoadPipeline(filepath.Join("testdata", "tiny-sd1"), LoadOptions{})
	require.NoError(b, err)
	defer p.Close()
	c, err := p.InitConcept("<tiny-toy>", "happy", 1)
	require.NoError(b, err)
	ctx := stdcontext.Background()
	opts := GenerateOptions{Steps: 5, Concepts: []*Concept{c}}
	const prompt = "a red <tiny-toy> on a blue background"
	_, err = p.Generate(ctx, prompt, opts) // compile
	require.NoError(b, err)
	for b.Loop() {
		if _, err := p.Generate(ctx, prompt, opts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*opts.Steps)/b.Elapsed().Seconds(), "steps/s")
}
