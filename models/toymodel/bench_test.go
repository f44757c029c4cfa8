package toymodel_test

import (
	stdcontext "context"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/org/neti"
	model "github.com/org/neti/models/toymodel"
	"github.com/org/neti/toyworld"
)

// BenchmarkGuidedStep times generation of one image with 1 and with 11 DPM-Solver++ steps (guidance 5:
// the UNet runs on a batch of 2); the difference over 10 is the time of one guided UNet step, the rest is
// the text encoder and the VAE decoder. Run:
// go test ./models/toymodel -run '^$' -bench GuidedStep -benchtime 3x
func BenchmarkGuidedStep(b *testing.B) {
	p, err := neti.LoadPipeline(model.Dir(), neti.LoadOptions{})
	require.NoError(b, err)
	defer p.Close()
	ctx := stdcontext.Background()
	for _, steps := range []int{1, 11} {
		b.Run(map[int]string{1: "steps=1", 11: "steps=11"}[steps], func(b *testing.B) {
			opts := neti.GenerateOptions{Steps: steps, GuidanceScale: model.GuidanceScale}
			_, err := p.Generate(ctx, "a red star on a blue background", opts) // compile
			require.NoError(b, err)
			for b.Loop() {
				if _, err := p.Generate(ctx, "a red star on a blue background", opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTrainStep times NeTI optimizer steps (toyworld.ToyPreset: batch 2, no accumulation) on this
// model with four rendered images, measured between the OnStep calls after the first step; the first
// step, from the call of TrainConcept (encoding the images, building and compiling the graphs) is reported
// apart as s/firststep. Run: go test ./models/toymodel -run '^$' -bench TrainStep -benchtime 1x
func BenchmarkTrainStep(b *testing.B) {
	p, err := neti.LoadPipeline(model.Dir(), neti.LoadOptions{})
	require.NoError(b, err)
	defer p.Close()
	dir := b.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 4 {
		s := toyworld.RandomScene(rng)
		f, err := os.Create(filepath.Join(dir, string(rune('a'+i))+".png"))
		require.NoError(b, err)
		require.NoError(b, png.Encode(f, toyworld.Render(s)))
		require.NoError(b, f.Close())
	}
	for b.Loop() {
		opts := neti.ToyPreset()
		opts.Placeholder, opts.SuperCategory, opts.OutputDir = "<toy>", "star", b.TempDir()
		opts.MaxTrainSteps, opts.CheckpointEvery = 21, 1000
		var first time.Time
		var n int
		start := time.Now()
		opts.OnStep = func(tp neti.TrainProgress) {
			if tp.Step == 1 {
				first = time.Now()
				b.ReportMetric(first.Sub(start).Seconds(), "s/firststep")
			} else {
				n++
			}
		}
		_, err := neti.TrainConcept(stdcontext.Background(), p, []string{dir}, opts)
		require.NoError(b, err)
		b.ReportMetric(time.Since(first).Seconds()/float64(n), "s/trainstep")
	}
}

// BenchmarkConceptGeneration compares, under the same load, 20-step guided generation of one image with a
// NeTI concept in the prompt against the same without: each iteration generates a plain prompt, then the
// concept prompt (two prompts alternate, so the pipeline's one-prompt conditioning cache never hits: every
// concept call computes all 20 × 16 (t, ℓ) conditionings), with new seeds. It reports the ratio of the
// summed times (the target: ≤ 1.1), the plain image's time, and the first two calls of each kind
// (graph building and compilation included) as s/first-calls. Run:
// go test ./models/toymodel -run '^$' -bench ConceptGeneration -benchtime 5x
func BenchmarkConceptGeneration(b *testing.B) {
	p, err := neti.LoadPipeline(model.Dir(), neti.LoadOptions{})
	require.NoError(b, err)
	defer p.Close()
	c, err := p.InitConcept("<toy>", "star", 1)
	require.NoError(b, err)
	ctx := stdcontext.Background()
	plain := []string{"a red star on a blue background", "a small red star on a green background"}
	concept := []string{"a <toy> on a blue background", "a small <toy> on a green background"}
	var tPlain, tConcept time.Duration
	run := func(prompt string, seed uint64, concepts []*neti.Concept) time.Duration {
		start := time.Now()
		_, err := p.Generate(ctx, prompt, neti.GenerateOptions{Steps: 20, GuidanceScale: model.GuidanceScale,
			Seed: seed, Concepts: concepts})
		if err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	var tFirst time.Duration
	for i := range 2 { // compile both graphs, fill nothing that the loop could reuse
		tFirst += run(plain[i], 0, nil)
		tFirst += run(concept[i], 0, []*neti.Concept{c})
	}
	i := 0
	for b.Loop() {
		i++
		tPlain += run(plain[i%2], uint64(i), nil)
		tConcept += run(concept[i%2], uint64(i), []*neti.Concept{c})
	}
	b.ReportMetric(tConcept.Seconds()/tPlain.Seconds(), "concept/plain")
	b.ReportMetric(tPlain.Seconds()/float64(b.N), "s/plain-image")
	b.ReportMetric(tFirst.Seconds(), "s/first-calls")
}
