package neti

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOptionEnums: the string-based option types accept exactly their listed values, say what they expect
// otherwise, and stay plain strings in JSON (concept files and checkpoints of earlier versions load).
func TestOptionEnums(t *testing.T) {
	assert.Equal(t, []Sampler{SamplerDDIM, SamplerEuler, SamplerDPMSolver}, Samplers, "the diffusion package's names")
	for _, s := range Samplers {
		assert.NoError(t, GenerateOptions{Sampler: s}.Validate(), s)
	}
	assert.Equal(t, SamplerDPMSolver, GenerateOptions{}.withDefaults().Sampler)
	assert.ErrorContains(t, GenerateOptions{Sampler: "plms"}.Validate(), "expected one of ddim, euler, dpm++2m")

	for _, m := range TrainMethods {
		assert.NoError(t, TrainOptions{Placeholder: "<c>", Method: m}.Validate(), m)
	}
	for _, s := range TemplateSets {
		assert.NoError(t, TrainOptions{Placeholder: "<c>", Templates: s}.Validate(), s)
	}
	defaults := TrainOptions{}.withDefaults(64)
	assert.Equal(t, MethodNeTI, defaults.Method)
	assert.Equal(t, TemplatesObject, defaults.Templates)
	assert.ErrorContains(t, TrainOptions{Placeholder: "<c>", Method: "dreambooth"}.Validate(), "expected one of neti, ti, pplus")
	assert.ErrorContains(t, TrainOptions{Placeholder: "<c>", Templates: "people"}.Validate(),
		`TrainOptions.Templates is "people": expected "object", "style" or "toy"`)
	assert.Equal(t, []ExportFormat{FormatDiffusers, FormatA1111}, EmbeddingFormats)
	assert.Equal(t, `"diffusers" or "a1111"`, quotedOr(enumNames(EmbeddingFormats)))

	data, err := json.Marshal(TrainOptions{Method: MethodTI, Templates: TemplatesToy})
	require.NoError(t, err)
	assert.Contains(t, string(data), `"method":"ti"`)
	assert.Contains(t, string(data), `"templates":"toy"`)
	var o TrainOptions
	require.NoError(t, json.Unmarshal([]byte(`{"method":"pplus","templates":"style"}`), &o))
	assert.Equal(t, MethodPPlus, o.Method)
	assert.Equal(t, TemplatesStyle, o.Templates)
}
