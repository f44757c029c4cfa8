package neti

import (
	stdcontext "context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestClosedVocabulary: a model whose tokenizer folder lists its words (the toy model) rejects prompts with
// other words, naming them, before any denoising; models without the file accept anything.
func TestClosedVocabulary(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "tiny-sd1"))))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tokenizer", VocabularyFile), []byte("a\nred\nstar\non\nblue\nbackground\n,\n"), 0o644))
	p, err := LoadPipeline(dir, LoadOptions{})
	require.NoError(t, err)
	defer p.Close()
	ctx := stdcontext.Background()

	_, err = p.Generate(ctx, "a red star, on a blue background", GenerateOptions{Steps: 1})
	require.NoError(t, err)

	steps := 0
	_, err = p.Generate(ctx, "a red dragon on a purple background", GenerateOptions{Steps: 1,
		OnStep: func(int, int) { steps++ }})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "dragon, purple")
	assert.Contains(t, err.Error(), "it knows only: , a background blue on red star")
	assert.Zero(t, steps, "checked before any denoising step")
	var unknown *UnknownWordsError
	require.ErrorAs(t, err, &unknown)
	assert.Equal(t, []string{"dragon", "purple"}, unknown.Words)

	_, err = p.Generate(ctx, "a red star", GenerateOptions{Steps: 1, NegativePrompt: "blurry"})
	assert.ErrorContains(t, err, "blurry", "the negative prompt is checked too")

	plain, err := LoadPipeline(filepath.Join("testdata", "tiny-sd1"), LoadOptions{})
	require.NoError(t, err)
	defer plain.Close()
	_, err = plain.Generate(ctx, "a red dragon", GenerateOptions{Steps: 1})
	assert.NoError(t, err, "no vocabulary file: any prompt")
}

// TestClosedVocabularyTemplates: training a closed-vocabulary model with caption templates or validation
// prompts it cannot read is an error naming the words, before the images are read; the toy templates pass.
func TestClosedVocabularyTemplates(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "tiny-sd1"))))
	words := "a\nan\nphoto\npicture\nimage\nof\non\nblue\nbackground\nsmall\nlarge\nleft\nright\nthe\nat\ntop\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tokenizer", VocabularyFile), []byte(words), 0o644))
	p, err := LoadPipeline(dir, LoadOptions{})
	require.NoError(t, err)
	defer p.Close()
	missing := filepath.Join(t.TempDir(), "no-such-folder") // a data error would come later

	o := ToyPreset()
	o.Placeholder, o.Templates = "<dot>", "object"
	_, err = TrainConcept(stdcontext.Background(), p, []string{missing}, o)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `caption template "a rendering of a {}"`)
	assert.Contains(t, err.Error(), "rendering")
	assert.Contains(t, err.Error(), `use Templates "toy"`)

	o = ToyPreset()
	o.Placeholder, o.ValidateEvery = "<dot>", 10
	o.ValidationPrompts = []string{"a {} on a beach"}
	_, err = TrainConcept(stdcontext.Background(), p, []string{missing}, o)
	assert.ErrorContains(t, err, "beach")

	o.ValidationPrompts = ToyValidationPrompts
	_, err = TrainConcept(stdcontext.Background(), p, []string{missing}, o)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "never saw", "toy templates and prompts pass; the data check fails next")
	assert.Contains(t, err.Error(), "no-such-folder")
}
