package neti

import (
	"context"
	"image"
	"path/filepath"
	"testing"

	mlcontext "github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pipelineCalls calls every exported method and function that uses a Pipeline, returning each error by
// name.
func pipelineCalls(t *testing.T, p *Pipeline) map[string]error {
	t.Helper()
	images := writeTestImages(t, filepath.Join(t.TempDir(), "images"), 1)
	c := tinyConcept(t)
	out := map[string]error{}
	_, out["Generate"] = p.Generate(context.Background(), "a cat", GenerateOptions{Steps: 1})
	_, _, out["PromptTokens"] = p.PromptTokens("a cat")
	_, out["SuperCategoryNorm"] = p.SuperCategoryNorm("good")
	_, out["InitConcept"] = p.InitConcept("<x>", "good", 1)
	out["CheckConcept"] = p.CheckConcept(c)
	_, out["Reconstruct"] = p.Reconstruct([]image.Image{image.NewGray(image.Rect(0, 0, 8, 8))}, 8)
	_, out["TrainConcept"] = TrainConcept(context.Background(), p, []string{images}, TrainOptions{Placeholder: "<x>"})
	return out
}

// TestClosedPipelineErrors: after Close (twice), every use of the Pipeline returns an error saying it is
// closed and what to do, not a panic; Backend still answers.
func TestClosedPipelineErrors(t *testing.T) {
	p, err := LoadPipeline(filepath.Join("testdata", "tiny-sd1"), LoadOptions{})
	require.NoError(t, err)
	p.Close()
	assert.NotPanics(t, p.Close, "a second Close does nothing")
	assert.NotPanics(t, func() { _ = p.Backend() })
	for name, err := range pipelineCalls(t, p) {
		if assert.Error(t, err, name) {
			assert.Contains(t, err.Error(), "is closed, or was not made by LoadPipeline", name)
			assert.Contains(t, err.Error(), filepath.Join("testdata", "tiny-sd1"), name)
			assert.Contains(t, err.Error(), "load the model again with LoadPipeline", name)
			assert.NotContains(t, err.Error(), "invalid memory address", name)
		}
	}
	var zero Pipeline // not made by LoadPipeline
	_, err = zero.Generate(context.Background(), "a cat", GenerateOptions{})
	assert.ErrorContains(t, err, "the Pipeline (with no model folder) is closed, or was not made by LoadPipeline")
}

// TestNilPipelineErrors: a nil *Pipeline (a LoadPipeline error not checked) gives errors, not panics.
func TestNilPipelineErrors(t *testing.T) {
	var p *Pipeline
	assert.NotPanics(t, p.Close)
	assert.Equal(t, "<nil Pipeline>", p.Backend())
	for name, err := range pipelineCalls(t, p) {
		if assert.Error(t, err, name) {
			assert.Contains(t, err.Error(), "the Pipeline is nil: expected one from LoadPipeline", name)
		}
	}
}

// TestNilConceptErrors: the methods of a nil *Concept, and the functions given one, return an error saying
// so and where concepts come from, not a panic.
func TestNilConceptErrors(t *testing.T) {
	var c *Concept
	_, _, err1 := c.Embed(0, 0)
	_, _, err2 := c.EmbedTruncated(0, 0, 1)
	_, _, err3 := c.EmbedBatch([]int{0}, []int{0}, 1)
	_, err4 := ExportEmbedding(c, ExportOptions{})
	for name, err := range map[string]error{
		"Embed": err1, "EmbedTruncated": err2, "EmbedBatch": err3, "ExportEmbedding": err4,
		"Validate":      c.Validate(),
		"SetWeights":    c.SetWeights(nil),
		"loadInto":      c.loadInto(mlcontext.New(), 0),
		"updateFrom":    c.updateFrom(mlcontext.New()),
		"Fits":          c.Fits(4, nil),
		"SaveConcept":   SaveConcept(filepath.Join(t.TempDir(), "c.safetensors"), c),
		"ExportConcept": ExportConcept(filepath.Join(t.TempDir(), "e.safetensors"), c, ExportOptions{}),
	} {
		if assert.Error(t, err, name) {
			assert.Contains(t, err.Error(), "the concept is nil: expected one from LoadConcept", name)
		}
	}
	assert.Nil(t, c.Weights())
	p := loadTiny(t)
	_, err := p.Generate(context.Background(), "a <c>", GenerateOptions{Steps: 1, Concepts: []*Concept{nil}})
	assert.ErrorContains(t, err, "GenerateOptions.Concepts[0] is nil")
	assert.ErrorContains(t, p.CheckConcept(nil), "the concept is nil")
}
