package neti

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOptionsValidateWithoutModel: the exported Validate methods decide, without a pipeline, what the
// options alone decide, naming the field; what needs the model (a size's multiple) is left to it.
func TestOptionsValidateWithoutModel(t *testing.T) {
	require.NoError(t, GenerateOptions{}.Validate(), "the zero value is the defaults")
	require.NoError(t, GenerateOptions{Width: 100, Height: 72}.Validate(), "the multiple needs the model")
	for _, tc := range []struct {
		opts GenerateOptions
		want string
	}{
		{GenerateOptions{Sampler: "plms"}, `GenerateOptions.Sampler is "plms"`},
		{GenerateOptions{Width: -64}, "GenerateOptions.Width is -64"},
		{GenerateOptions{Steps: -1}, "GenerateOptions.Steps is -1"},
		{GenerateOptions{NumImages: 65}, "GenerateOptions.NumImages is 65"},
	} {
		assert.ErrorContains(t, tc.opts.Validate(), tc.want)
	}

	ok := TrainOptions{Placeholder: "<c>"}
	require.NoError(t, ok.Validate())
	require.NoError(t, TrainOptions{Placeholder: "<c>", Resolution: 100}.Validate(), "the multiple needs the model")
	dir := t.TempDir()
	for _, tc := range []struct {
		opts TrainOptions
		want []string
	}{
		{TrainOptions{}, []string{"TrainOptions.Placeholder"}},
		{TrainOptions{Placeholder: "<c>", Method: "dreambooth"}, []string{`TrainOptions.Method is "dreambooth"`}},
		{TrainOptions{Placeholder: "<c>", MaxTrainSteps: -5}, []string{"TrainOptions.MaxTrainSteps is -5"}},
		{TrainOptions{Placeholder: "<c>", Resolution: -64}, []string{"TrainOptions.Resolution is -64"}},
		{TrainOptions{Placeholder: "<c>", ResumeFrom: filepath.Join(dir, "checkpoint-9")},
			[]string{"TrainOptions.ResumeFrom", "checkpoint-9", "no such file"}},
		{TrainOptions{Placeholder: "<c>", ResumeFrom: "latest", OutputDir: dir},
			[]string{"TrainOptions.ResumeFrom", `resume "latest"`, "nothing to resume"}},
	} {
		err := tc.opts.Validate()
		if assert.Error(t, err, tc.want[0]) {
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		}
	}
	assert.ErrorContains(t, LoadOptions{DType: "int8"}.Validate(), `LoadOptions.DType is "int8"`)
	assert.NoError(t, LoadOptions{}.Validate())
}
