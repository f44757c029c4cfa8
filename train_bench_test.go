package neti

import (
	stdcontext "context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// BenchmarkTrainStepTiny times one NeTI optimizer step on the tiny SD1-like model at its native size (64
// pixels), batch 2, one micro-batch: the conditioning of 16 layers × 2 samples through the text encoder
// with the mapper and bypass, the UNet forward and backward, the gradient transfer and AdamW. The graph is
// compiled (and the images encoded) outside the loop. Run: scripts/test.sh -run '^$' -bench TrainStepTiny .
func BenchmarkTrainStepTiny(b *testing.B) {
	p := loadTiny(b)
	images := writeTestImages(b, filepath.Join(b.TempDir(), "images"), 2)
	opts := TrainOptions{Placeholder: "<toy>", SuperCategory: "good", MaxTrainSteps: 1 << 20, BatchSize: 2,
		GradientAccumulation: 1, Seed: 1}
	tr, err := newTrainer(p, []string{images}, opts)
	require.NoError(b, err)
	defer tr.close()
	ctx := stdcontext.Background()
	_, err = tr.optimizerStep(ctx) // compile
	require.NoError(b, err)
	for b.Loop() {
		if _, err := tr.optimizerStep(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
}
