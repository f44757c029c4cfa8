package neti

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// writeTestImages writes n small non-square PNGs of different colours (a disc on a plain background)
// into dir and returns dir.
func writeTestImages(t testing.TB, dir string, n int) string {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for i := range n {
		img := image.NewNRGBA(image.Rect(0, 0, 40, 32))
		for y := range 32 {
			for x := range 40 {
				c := color.NRGBA{R: uint8(40 * i), G: 200, B: uint8(255 - 60*i), A: 255}
				if (x-20)*(x-20)+(y-16)*(y-16) < 100 {
					c = color.NRGBA{R: 220, G: uint8(30 * i), B: 40, A: 255}
				}
				img.SetNRGBA(x, y, c)
			}
		}
		f, err := os.Create(filepath.Join(dir, string(rune('a'+i))+".png"))
		require.NoError(t, err)
		require.NoError(t, png.Encode(f, img))
		require.NoError(t, f.Close())
	}
	return dir
}

// tinyTrainOptions are fast options for the tiny SD1 model: 32-pixel images, batch 1, 2 micro-batches,
// checkpoints every step.
func tinyTrainOptions(out string, steps int) TrainOptions {
	return TrainOptions{
		Placeholder: "<toy>", SuperCategory: "good", MaxTrainSteps: steps, BatchSize: 1, GradientAccumulation: 2,
		Resolution: 32, Seed: 3, OutputDir: out, CheckpointEvery: 1, KeepCheckpoints: -1,
	}
}

// resumeTrainOptions are tinyTrainOptions with one micro-batch per step and a checkpoint every 2 steps:
// the setting of the resume, kill and disk-full tests.
func resumeTrainOptions(out string, steps int) TrainOptions {
	o := tinyTrainOptions(out, steps)
	o.GradientAccumulation, o.CheckpointEvery = 1, 2
	return o
}

// loadTiny loads the tiny SD1 pipeline on the test backend ($GOMLX_BACKEND, else the fastest here).
func loadTiny(t testing.TB) *Pipeline {
	t.Helper()
	p, err := LoadPipeline(filepath.Join("testdata", "tiny-sd1"), LoadOptions{})
	require.NoError(t, err)
	t.Cleanup(p.Close)
	return p
}
