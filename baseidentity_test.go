package neti

import (
	stdcontext "context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConceptBaseIdentity: a concept records its base model's identity (kept by its file); used with
// tiny-sd2 (same width and layers, another text encoder) it is an error naming both models and the opt-in,
// or a note with GenerateOptions.AllowOtherBaseModel; the same model loaded in bfloat16 is the same
// model; a probe of other weights is another model; a concept without identity (an older file) is used
// with a note.
func TestConceptBaseIdentity(t *testing.T) {
	sd1 := tinyPipeline(t)
	c, err := sd1.InitConcept("<tiny-toy>", "happy", 3)
	require.NoError(t, err)
	require.NotNil(t, c.BaseIdentity)
	assert.Len(t, c.BaseIdentity.TextEncoder, 32)
	assert.Len(t, c.BaseIdentity.TokenProbe, 16)
	path := filepath.Join(t.TempDir(), "toy.safetensors")
	require.NoError(t, SaveConcept(path, c))
	c, err = LoadConcept(path)
	require.NoError(t, err)
	require.NotNil(t, c.BaseIdentity, "the file keeps the identity")
	require.NoError(t, sd1.CheckConcept(c))

	sd2, err := LoadPipeline(filepath.Join("testdata", "tiny-sd2"), LoadOptions{})
	require.NoError(t, err)
	defer sd2.Close()
	require.NoError(t, c.Fits(sd2.text.HiddenSize, c.LayerNames), "tiny-sd2 has the same width and layers")
	err = sd2.CheckConcept(c)
	require.Error(t, err)
	for _, want := range []string{`concept "<tiny-toy>" was trained on ` + sd1.Dir, sd2.Dir + " is another base model",
		"another text-encoder architecture", "train the concept on this model", "AllowOtherBaseModel", "--allow_other_base_model"} {
		assert.Contains(t, err.Error(), want)
	}
	ctx := stdcontext.Background()
	steps := 0
	opts := GenerateOptions{Steps: 1, Concepts: []*Concept{c}, OnStep: func(int, int) { steps++ }}
	_, err = sd2.Generate(ctx, "a <tiny-toy>", opts)
	assert.ErrorContains(t, err, "another base model")
	assert.Zero(t, steps, "refused before denoising")
	var notes []string
	opts.AllowOtherBaseModel, opts.OnNote = true, func(n string) { notes = append(notes, n) }
	_, err = sd2.Generate(ctx, "a <tiny-toy>", opts)
	require.NoError(t, err)
	require.Len(t, notes, 1)
	assert.Contains(t, notes[0], `using concept "<tiny-toy>" on another base model, as GenerateOptions.AllowOtherBaseModel asks`)

	half, err := LoadPipeline(filepath.Join("testdata", "tiny-sd1"), LoadOptions{DType: "bfloat16"})
	require.NoError(t, err)
	defer half.Close()
	assert.NoError(t, half.CheckConcept(c), "tiny-sd1 in bfloat16 is the same base model")

	other := *c.BaseIdentity
	other.TokenProbe = append([]float32(nil), other.TokenProbe...)
	other.TokenProbe[5] *= 1.5
	other.TokenProbe[5] += 0.01
	c.BaseIdentity = &other
	assert.ErrorContains(t, sd1.CheckConcept(c), "the same text-encoder architecture with other weights (token-embedding probe value 5")

	c.BaseIdentity = nil // as in a file of an older version
	require.NoError(t, SaveConcept(path, c))
	old, err := LoadConcept(path)
	require.NoError(t, err)
	assert.Nil(t, old.BaseIdentity)
	assert.NoError(t, sd2.CheckConcept(old), "an older concept is checked on width and layers only")
	notes = nil
	opts = GenerateOptions{Steps: 1, Concepts: []*Concept{old}, OnNote: func(n string) { notes = append(notes, n) }}
	_, err = sd1.Generate(ctx, "a <tiny-toy>", opts)
	require.NoError(t, err)
	assert.Equal(t, []string{`concept "<tiny-toy>" records no base-model identity (made by an older neti, for ` + sd1.Dir +
		"): only its text-encoder width and layers are checked against " + sd1.Dir}, notes)
}

// TestResumeRefusesOtherBaseModel: a checkpoint of a run on tiny-sd1 resumed with tiny-sd2 (same width
// and layers) is refused, naming both models.
func TestResumeRefusesOtherBaseModel(t *testing.T) {
	sd1 := tinyPipeline(t)
	dir := t.TempDir()
	images := writeTestImages(t, filepath.Join(dir, "images"), 1)
	out := filepath.Join(dir, "out")
	_, err := TrainConcept(stdcontext.Background(), sd1, []string{images}, resumeTrainOptions(out, 2))
	require.NoError(t, err)
	sd2, err := LoadPipeline(filepath.Join("testdata", "tiny-sd2"), LoadOptions{})
	require.NoError(t, err)
	defer sd2.Close()
	o := resumeTrainOptions(out, 3)
	o.ResumeFrom = "latest"
	_, err = TrainConcept(stdcontext.Background(), sd2, []string{images}, o)
	require.Error(t, err)
	for _, want := range []string{"it was trained on " + sd1.Dir, sd2.Dir + " is another base model",
		"another text-encoder architecture", "resume with the model the run started with"} {
		assert.Contains(t, err.Error(), want)
	}
}
