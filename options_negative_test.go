package neti

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOptionsZeroDefaultNegativeRefused: in the library's option structs zero means the documented default
// (the Go convention), and a negative value where it has no meaning is refused with an error naming the
// field and the value.
func TestOptionsZeroDefaultNegativeRefused(t *testing.T) {
	// TrainOptions: zero takes the defaults and validates.
	base := TrainOptions{Placeholder: "<c>"}
	d := base.withDefaults(64)
	require.NoError(t, d.validate(64))
	assert.Equal(t, 1000, d.MaxTrainSteps)
	assert.Equal(t, 2, d.BatchSize)
	assert.Equal(t, 4, d.GradientAccumulation)
	assert.Equal(t, 64, d.Resolution)
	assert.Equal(t, 50, d.ValidationInferenceSteps)
	for field, set := range map[string]func(o *TrainOptions){
		"MaxTrainSteps is -1":            func(o *TrainOptions) { o.MaxTrainSteps = -1 },
		"BatchSize is -2":                func(o *TrainOptions) { o.BatchSize = -2 },
		"GradientAccumulation is -1":     func(o *TrainOptions) { o.GradientAccumulation = -1 },
		"Resolution is -64":              func(o *TrainOptions) { o.Resolution = -64 },
		"LearningRate is -0.001":         func(o *TrainOptions) { o.LearningRate = -1e-3 },
		"FlipProb is -0.5":               func(o *TrainOptions) { o.FlipProb = -0.5 },
		"NestedDropoutProb is -0.1":      func(o *TrainOptions) { o.NestedDropoutProb = -0.1 },
		"WeightDecay is -0.01":           func(o *TrainOptions) { o.WeightDecay = -0.01 },
		"ValidateEvery is -5":            func(o *TrainOptions) { o.ValidateEvery = -5 },
		"ValidationInferenceSteps is -3": func(o *TrainOptions) { o.ValidationInferenceSteps = -3 },
	} {
		o := base
		set(&o)
		err := o.withDefaults(64).validate(64)
		if assert.Error(t, err, field) {
			assert.Contains(t, err.Error(), "TrainOptions."+field)
		}
	}
	o := base
	o.CheckpointEvery, o.KeepCheckpoints = -1, -1 // documented: no checkpoints, keep all
	assert.NoError(t, o.withDefaults(64).validate(64))

	// GenerateOptions (Width and Height default to the model's size in Generate, before validate).
	g := GenerateOptions{Width: 64, Height: 64}.withDefaults()
	require.NoError(t, g.validate(8))
	assert.Equal(t, 50, g.Steps)
	assert.Equal(t, 1, g.NumImages)
	for field, set := range map[string]func(o *GenerateOptions){
		"Steps is -1":             func(o *GenerateOptions) { o.Steps = -1 },
		"NumImages is -2":         func(o *GenerateOptions) { o.NumImages = -2 },
		"GuidanceScale is -7":     func(o *GenerateOptions) { o.GuidanceScale = -7 },
		"GuidanceRescale is 1.5":  func(o *GenerateOptions) { o.GuidanceRescale = 1.5 },
		"GuidanceRescale is -0.1": func(o *GenerateOptions) { o.GuidanceRescale = -0.1 },
		"GuidanceRescale is NaN":  func(o *GenerateOptions) { o.GuidanceRescale = math.NaN() },
		"GuidanceRescale is 0.7 but GenerateOptions.GuidanceScale is 1": func(o *GenerateOptions) {
			o.GuidanceScale, o.GuidanceRescale = 1, 0.7
		},
		"Width is -64":         func(o *GenerateOptions) { o.Width = -64 },
		"Height is -64":        func(o *GenerateOptions) { o.Height = -64 },
		"Truncation is -1":     func(o *GenerateOptions) { o.Truncation = -1 },
		"Steps is -2147483648": func(o *GenerateOptions) { o.Steps = -1 << 31 },
	} {
		o := GenerateOptions{Width: 64, Height: 64}
		set(&o)
		err := o.withDefaults().validate(8)
		if assert.Error(t, err, field) {
			assert.Contains(t, err.Error(), "GenerateOptions."+field)
		}
	}

	// ExportOptions.
	c := tinyConcept(t)
	e, err := ExportOptions{}.resolved(c)
	require.NoError(t, err)
	assert.Len(t, e.Timesteps, 50)
	for field, o := range map[string]ExportOptions{
		"Steps is -1":      {Steps: -1},
		"Truncation is -2": {Truncation: -2},
		"Timesteps has -1": {Timesteps: []int{-1}},
		"Layers has -1":    {Layers: []int{-1}},
	} {
		_, err := o.resolved(c)
		if assert.Error(t, err, field) {
			assert.Contains(t, err.Error(), "ExportOptions."+field)
		}
	}
}
