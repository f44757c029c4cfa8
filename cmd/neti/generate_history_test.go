package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGenerateKeepsEarlierOutput: neti generate into an existing --output keeps the earlier image as
// FILE.prev1, then FILE.prev2, with a note line each time; the new image replaces FILE.
func TestGenerateKeepsEarlierOutput(t *testing.T) {
	out := filepath.Join(t.TempDir(), "neti.png")
	gen := func(seed string) (string, []byte) {
		t.Helper()
		_, stderr, err := runCLI(t, "generate", "--pretrained_model_name_or_path", tinyModel, "--num_inference_steps",
			"1", "--seed", seed, "--output", out, "a happy day")
		require.NoError(t, err, stderr)
		data, err := os.ReadFile(out)
		require.NoError(t, err)
		return stderr, data
	}
	stderr, first := gen("1")
	assert.NotContains(t, stderr, "note:", "nothing to keep the first time")
	assert.NoFileExists(t, out+".prev1")

	stderr, second := gen("2")
	require.NotEqual(t, first, second, "another seed, another image")
	assert.Contains(t, stderr, "note: the earlier "+out+" is kept as "+out+".prev1\n")
	kept, err := os.ReadFile(out + ".prev1")
	require.NoError(t, err)
	assert.Equal(t, first, kept, "the first image is kept")

	stderr, third := gen("3")
	assert.Contains(t, stderr, "note: the earlier "+out+" is kept as "+out+".prev2\n")
	kept, err = os.ReadFile(out + ".prev2")
	require.NoError(t, err)
	assert.Equal(t, second, kept, "the second image is kept")
	kept, err = os.ReadFile(out + ".prev1")
	require.NoError(t, err)
	assert.Equal(t, first, kept, "older history untouched")
	current, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, third, current)
}
