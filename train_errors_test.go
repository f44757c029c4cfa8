package neti

import (
	stdcontext "context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTrainBadInputs checks that each bad input is a clear error before any training step.
func TestTrainBadInputs(t *testing.T) {
	p := loadTiny(t)
	dir := t.TempDir()
	images := writeTestImages(t, filepath.Join(dir, "images"), 1)
	empty := filepath.Join(dir, "empty")
	require.NoError(t, os.Mkdir(empty, 0o755))
	withCheckpoint := filepath.Join(dir, "used")
	require.NoError(t, os.MkdirAll(filepath.Join(withCheckpoint, "checkpoint-5"), 0o755))

	cases := []struct {
		name   string
		inputs []string
		edit   func(o *TrainOptions)
		want   []string
	}{
		{"empty folder", []string{empty}, nil, []string{"no PNG or JPEG image", empty}},
		{"missing folder", []string{filepath.Join(dir, "nope")}, nil, []string{"nope"}},
		{"placeholder in vocabulary", []string{images}, func(o *TrainOptions) { o.Placeholder = "good" },
			[]string{`placeholder "good"`, "already a word of the vocabulary"}},
		{"placeholder with a space", []string{images}, func(o *TrainOptions) { o.Placeholder = "my cat" },
			[]string{"Placeholder", "without spaces"}},
		{"multi-token super-category", []string{images}, func(o *TrainOptions) { o.SuperCategory = "object" },
			[]string{`super-category "object" is`, "tokens [", "single-token word"}},
		{"unknown method", []string{images}, func(o *TrainOptions) { o.Method = "dreambooth" },
			[]string{"Method", "dreambooth", "neti, ti, pplus"}},
		{"bad resolution", []string{images}, func(o *TrainOptions) { o.Resolution = 40 },
			[]string{"Resolution is 40", "multiple of 32"}},
		{"missing resume path", []string{images}, func(o *TrainOptions) { o.ResumeFrom = filepath.Join(dir, "checkpoint-9") },
			[]string{"resume from", "checkpoint-9", "no such file"}},
		{"resume latest without checkpoints", []string{images}, func(o *TrainOptions) { o.ResumeFrom = "latest" },
			[]string{`resume "latest"`, "nothing to resume"}},
		{"fresh run over checkpoints", []string{images}, func(o *TrainOptions) { o.OutputDir = withCheckpoint },
			[]string{"already holds checkpoints", "latest"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := tinyTrainOptions(filepath.Join(t.TempDir(), "out"), 1)
			opts.OnStep = func(TrainProgress) { t.Errorf("%s: training ran", tc.name) }
			if tc.edit != nil {
				tc.edit(&opts)
			}
			c, err := TrainConcept(stdcontext.Background(), p, tc.inputs, opts)
			require.Error(t, err)
			assert.Nil(t, c)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// TestTrainCancelled checks that a context cancelled before the first step stops training with a
// *TrainInterrupted wrapping the context's error and cause, with nothing to resume.
func TestTrainCancelled(t *testing.T) {
	p := loadTiny(t)
	images := writeTestImages(t, filepath.Join(t.TempDir(), "images"), 1)
	ctx, cancel := stdcontext.WithCancelCause(stdcontext.Background())
	cancel(errors.New("test stop"))
	_, err := TrainConcept(ctx, p, []string{images}, tinyTrainOptions("", 1))
	assert.ErrorIs(t, err, stdcontext.Canceled)
	var stopped *TrainInterrupted
	require.ErrorAs(t, err, &stopped)
	assert.Zero(t, stopped.Step)
	assert.Empty(t, stopped.Checkpoint)
	assert.ErrorContains(t, err, "stopped before the first of 1 steps finished (test stop): nothing to resume")
}
