package neti

import (
	stdcontext "context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkGenerateTinyConcept is BenchmarkGenerateTiny with a NeTI concept in the prompt (random mapper,
// default size: 1024 Fourier features, 128 hidden units), graphs compiled outside the loop:
//
//   - cold: every call computes the conditioning (one encodeConcepts pass: 5 steps × 16 layers = 80 rows
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

// BenchmarkGenerateTinyConceptRatio measures the cost of concept generation relative to plain generation
// under the same load: each iteration runs plain, cold-concept and warm-concept generation back to back
// (5 steps each, new seeds), and the benchmark reports the ratios of the summed times, cold/plain and
// warm/plain. On a shared machine this is steadier than comparing separate benchmarks.
func BenchmarkGenerateTinyConceptRatio(b *testing.B) {
	p, err := LoadPipeline(filepath.Join("testdata", "tiny-sd1"), LoadOptions{})
	require.NoError(b, err)
	defer p.Close()
	c, err := p.InitConcept("<tiny-toy>", "happy", 1)
	require.NoError(b, err)
	ctx := stdcontext.Background()
	plain := GenerateOptions{Steps: 5}
	concept := GenerateOptions{Steps: 5, Concepts: []*Concept{c}}
	const plainPrompt, conceptPrompt = "a red star on a blue background", "a red <tiny-toy> on a blue background"
	timed := func(prompt string, opts GenerateOptions) time.Duration {
		start := time.Now()
		if _, err := p.Generate(ctx, prompt, opts); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	timed(plainPrompt, plain) // compile
	timed(conceptPrompt, concept)
	var tPlain, tCold, tWarm time.Duration
	for b.Loop() {
		plain.Seed++
		concept.Seed++
		tPlain += timed(plainPrompt, plain)
		p.conceptCache = nil
		tCold += timed(conceptPrompt, concept)
		concept.Seed++
		tWarm += timed(conceptPrompt, concept)
	}
	b.ReportMetric(tCold.Seconds()/tPlain.Seconds(), "cold/plain")
	b.ReportMetric(tWarm.Seconds()/tPlain.Seconds(), "warm/plain")
}
