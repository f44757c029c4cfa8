package toyworld_test

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
	model "github.com/org/neti/models/toyworld"
	"github.com/org/neti/toyworld"
)

// BenchmarkGuidedStep times generation of one image with 1 and with 11 DPM-Solver++ steps (guidance 5:
// the UNet runs on a batch of 2); the difference over 10 is the time of one guided UNet step, the rest is
// the text encoder and the VAE decoder. Run:
// go test ./models/toyworld -run '^$' -bench GuidedStep -benchtime 3x
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
// model with four rendered images, measured between the OnStep calls after the first step (which
// includes compilation). Run: go test ./models/toyworld -run '^$' -bench TrainStep -benchtime 1x
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
		opts.MaxTrainSteps, opts.CheckpointEvery = 6, 1000
		var first time.Time
		var n int
		opts.OnStep = func(tp neti.TrainProgress) {
			if tp.Step == 1 {
				first = time.Now()
			} else {
				n++
			}
		}
		_, err := neti.TrainConcept(stdcontext.Background(), p, []string{dir}, opts)
		require.NoError(b, err)
		b.ReportMetric(time.Since(first).Seconds()/float64(n), "s/trainstep")
	}
}
