package neti

import (
	stdcontext "context"
	"image"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTrainOptionsDefaults checks that zero options take the original NeTI's settings (spec §6).
func TestTrainOptionsDefaults(t *testing.T) {
	o := TrainOptions{Placeholder: "<x>"}.withDefaults(512)
	require.NoError(t, o.validate(64))
	assert.Equal(t, MethodNeTI, o.Method)
	assert.Equal(t, "object", o.SuperCategory)
	assert.Equal(t, 1000, o.MaxTrainSteps)
	assert.Equal(t, 2, o.BatchSize)
	assert.Equal(t, 4, o.GradientAccumulation)
	assert.InDelta(t, 8e-3, o.effectiveLR(), 1e-15, "1e-3 scaled by 2 × 4")
	assert.Equal(t, [4]float64{0.9, 0.999, 1e-8, 1e-2}, [4]float64{o.Beta1, o.Beta2, o.Epsilon, o.WeightDecay})
	assert.Equal(t, 512, o.Resolution)
	assert.False(t, o.Squash, "centre crop by default")
	assert.Equal(t, 0.5, o.FlipProb)
	assert.Equal(t, 0.5, o.NestedDropoutProb)
	assert.Equal(t, 250, o.CheckpointEvery)
	assert.Equal(t, 3, o.KeepCheckpoints)
	assert.Len(t, o.templates(), 27)
	assert.Len(t, TrainOptions{Templates: "style"}.templates(), 19)

	ti := TrainOptions{Placeholder: "<x>", Method: MethodTI, NoFlip: true, NoWeightDecay: true}.withDefaults(64)
	assert.Zero(t, ti.NestedDropoutProb, "no nested dropout for TI")
	assert.Zero(t, ti.FlipProb)
	assert.Zero(t, ti.WeightDecay)

	toy := ToyPreset()
	toy.Placeholder = "<x>"
	toy = toy.withDefaults(64)
	require.NoError(t, toy.validate(32))
	assert.Equal(t, 200, toy.MaxTrainSteps)
	assert.Zero(t, toy.FlipProb, "the toy preset trains without flips")
	assert.InDelta(t, 5e-3, toy.effectiveLR(), 1e-15)

	bad := TrainOptions{Placeholder: "<x>", FlipProb: 1.5}.withDefaults(64)
	assert.ErrorContains(t, bad.validate(32), "FlipProb is 1.5")
	bad = TrainOptions{Placeholder: "<x>", ValidateEvery: 5, ValidationPrompts: []string{"no placeholder"}}.withDefaults(64)
	assert.ErrorContains(t, bad.validate(32), `"no placeholder"`)
}

// TestTrainValidation checks that validation generates each prompt × seed with the concept at the
// requested steps, writes the PNGs and hands them to OnValidate.
func TestTrainValidation(t *testing.T) {
	p := loadTiny(t)
	dir := t.TempDir()
	images := writeTestImages(t, filepath.Join(dir, "images"), 1)
	opts := tinyTrainOptions(filepath.Join(dir, "out"), 2)
	opts.GradientAccumulation, opts.CheckpointEvery = 1, -1
	opts.ValidateEvery, opts.ValidationPrompts, opts.ValidationSeeds = 2, []string{"a photo of {}"}, []uint64{42, 7}
	opts.ValidationInferenceSteps = 1
	var calls []int
	opts.OnValidate = func(step int, c *Concept, imgs []*image.RGBA) error {
		calls = append(calls, step)
		assert.Equal(t, "<toy>", c.Placeholder)
		assert.Len(t, imgs, 2, "one prompt × two seeds")
		return nil
	}
	_, err := TrainConcept(stdcontext.Background(), p, []string{images}, opts)
	require.NoError(t, err)
	assert.Equal(t, []int{2}, calls)
	for _, name := range []string{"p0-s42.png", "p0-s7.png"} {
		_, err := os.Stat(filepath.Join(dir, "out", "validation", "step-2", name))
		assert.NoError(t, err, name)
	}
	steps, err := checkpoints(filepath.Join(dir, "out"))
	require.NoError(t, err)
	assert.Empty(t, steps, "negative CheckpointEvery writes no checkpoint")
}

func TestTrainOptionsNormalize(t *testing.T) {
	o := TrainOptions{Placeholder: "<c>"}
	require.NoError(t, o.Validate())
	assert.Equal(t, NormalizeWord, o.withDefaults(0).Normalize, "NeTI's default")
	o.Normalize = NormalizeConcat
	require.NoError(t, o.Validate())
	o.Normalize = NormalizeNone
	assert.ErrorContains(t, o.Validate(), `Normalize is "none": expected "word" (default) or "concat"`)
	o = TrainOptions{Placeholder: "<c>", Method: MethodTI, Normalize: NormalizeConcat}
	assert.ErrorContains(t, o.Validate(), "only NeTI's mapper output is normalised")
	o.Normalize = ""
	require.NoError(t, o.Validate())
	assert.Empty(t, o.withDefaults(0).Normalize, "the baselines have none")
}
