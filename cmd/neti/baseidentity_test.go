package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGenerateRefusesOtherBaseModel: a concept made on tiny-sd1 given to neti generate with tiny-sd2
// (same text width and layers, another text encoder) is an error naming both models and the flag that
// allows it; with --allow_other_base_model it generates, with a note.
func TestGenerateRefusesOtherBaseModel(t *testing.T) {
	concept := conceptFile(t, "<tiny-toy>")
	out := filepath.Join(t.TempDir(), "x.png")
	args := []string{"generate", "--pretrained_model_name_or_path", "../../testdata/tiny-sd2", "--concept", concept,
		"--num_inference_steps", "1", "--output", out, "a <tiny-toy>"}
	_, _, err := runCLI(t, args...)
	require.Error(t, err)
	for _, want := range []string{"tiny-sd1", "tiny-sd2 is another base model", "--allow_other_base_model"} {
		assert.Contains(t, err.Error(), want)
	}
	assert.NoFileExists(t, out)

	stdout, stderr, err := runCLI(t, append([]string{args[0], "--allow_other_base_model"}, args[1:]...)...)
	require.NoError(t, err, stderr)
	assert.Contains(t, stderr, `note: using concept "<tiny-toy>" on another base model`)
	assert.Contains(t, stdout, "wrote "+out)
}
