package neti

import (
	stdcontext "context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// BenchmarkGenerateTinyConcept is BenchmarkGenerateTiny with a NeTI concept in the prompt (random mapper,
// default size: 1024 Fourier features, 128 hidden units), graphs compiled outside the loop:
//
//   - cold: every call computes the conditioning (one EncodeConcepts pass: 5 steps × 16 layers = 80 rows
//     of mapper and text encoder), then 5 guided UNet steps with per-layer states and the VAE decode;
//   - warm: the prompt's conditioning is cached from the previous call (further seeds of a prompt), so a
//     call is the 5 per-layer UNet steps and the decode.
//
// Compare with the plain benchmark in one run (same machine, same load):
//
//	scripts/test.sh -run '^$' -bench 'GenerateTiny(Concept)?$' -count 5
func BenchmarkGenerateTinyConcept(b *testing.B) {
	p, err := LoadPipeline(filepath.Join("testdata", "tiny-sd1"), LoadOptions{})
	require.NoError(b, err)
	defer p.Close()
	c, err := p.InitConcept("<tiny-toy>", "happy", 1)
	require.NoError(b, err)
	ctx := stdcontext.Background()
	const prompt = "a red <tiny-toy> on a blue background"
	for _, cold := range []bool{true, false} {
		name := map[bool]string{true: "cold", false: "warm"}[cold]
		b.Run(name, func(b *testing.B) {
			opts := GenerateOptions{Steps: 5, Concepts: []*Concept{c}}
			_, err = p.Generate(ctx, prompt, opts) // compile
			require.NoError(b, err)
			for b.Loop() {
				if cold {
					p.conceptCache = nil
				}
				opts.Seed++
				if _, err := p.Generate(ctx, prompt, opts); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*opts.Steps)/b.Elapsed().Seconds(), "steps/s")
		})
	}
}
