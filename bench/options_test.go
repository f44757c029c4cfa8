package bench

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/neti"
)

func TestOptionsValidation(t *testing.T) {
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{Concepts: []string{}}, "Concepts is empty"},
		{Options{Concepts: []string{"a", "a"}}, `Concepts holds "a"`},
		{Options{Concepts: []string{"../x"}}, `Concepts holds "../x"`},
		{Options{Methods: []string{}}, "Methods is empty"},
		{Options{Methods: []string{"dreambooth"}}, `Methods holds "dreambooth"`},
		{Options{Methods: []string{"ti", "ti"}}, `Methods holds "ti"`},
		{Options{Truncations: []int{-1}}, "Truncations holds -1"},
		{Options{Truncations: []int{8, 8}}, "Truncations holds 8"},
		{Options{Steps: -5}, "Steps is -5"},
		{Options{Seeds: -1}, "Seeds is -1"},
		{Options{SampleSteps: -1}, "SampleSteps is -1"},
		{Options{FidelityLevels: []float64{1.5}}, "FidelityLevels holds 1.5"},
		{Options{GuidanceScale: 0.5}, "GuidanceScale is 0.5"},
		{Options{GuidanceScale: math.NaN()}, "GuidanceScale is NaN"},
		{Options{GuidanceScale: math.Inf(1)}, "GuidanceScale is +Inf"},
		{Options{GuidanceRescale: 2}, "GuidanceRescale 2, the evaluation images' guidance: neti: GenerateOptions.GuidanceRescale is 2"},
	} {
		_, err := Run(context.Background(), nil, "../examples/concepts", tc.opts, nil)
		require.Error(t, err, "%+v", tc.opts)
		assert.Contains(t, err.Error(), tc.want, "%+v", tc.opts)
	}
	_, err := Run(context.Background(), nil, "../examples/concepts", Options{Concepts: []string{"nosuch"}}, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `concept "nosuch"`)

	o := Options{}.withDefaults()
	assert.Len(t, o.Concepts, 8, "every shipped concept by default")
	assert.Equal(t, Methods, o.Methods)
	assert.Equal(t, neti.ToyPreset().MaxTrainSteps, o.Steps)
	assert.Equal(t, 7.5, o.GuidanceScale, "Stable Diffusion's guidance by default")
	assert.NoError(t, o.validate())
}

// TestOptionsNegative: every negative count or truncation is refused, naming the field.
func TestOptionsNegative(t *testing.T) {
	require.NoError(t, Options{}.withDefaults().validate())
	for field, o := range map[string]Options{
		"Steps is -1":          {Steps: -1},
		"EvalEvery is -1":      {EvalEvery: -1},
		"ContextPrompts is -1": {ContextPrompts: -1},
		"Seeds is -1":          {Seeds: -1},
		"SampleSteps is -1":    {SampleSteps: -1},
		"Truncations holds -4": {Truncations: []int{-4}},
	} {
		err := o.withDefaults().validate()
		if assert.Error(t, err, field) {
			assert.Contains(t, err.Error(), "Options."+field)
		}
	}
}
