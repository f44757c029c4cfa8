package main

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTrainBuiltinModelDefaults: neti train on the built-in toy model without --preset and
// --initializer_token trains (one step) with --preset toy and the shape the images show (a star for the
// shipped tealstar concept), with a note for each; a given initializer the toy model does not know is
// refused before the model loads, naming the flag and the words to use; another model gets no such
// defaults.
func TestTrainBuiltinModelDefaults(t *testing.T) {
	images, err := filepath.Abs(filepath.Join("..", "..", "examples", "concepts", "tealstar"))
	require.NoError(t, err)
	out := t.TempDir()
	t.Chdir(filepath.Join("..", "..")) // the repository root, where the built-in model is found
	stdout, stderr, err := runCLI(t, "train", "--train_data_dir", images, "--placeholder_token", "<teal>",
		"--max_train_steps", "1", "--output_dir", filepath.Join(out, "a"))
	require.NoError(t, err, stderr)
	assert.Contains(t, stdout, "wrote "+filepath.Join(out, "a"))
	assert.Contains(t, stderr, "note: the built-in toy model: training with --preset toy")
	assert.Contains(t, stderr, "note: the built-in toy model: --initializer_token star, the shape 5 of the 5 training images show")
	assert.Contains(t, stderr, "loaded "+defaultModel)

	// Naming the built-in model's folder is the same; a given preset and initializer get no notes.
	_, stderr, err = runCLI(t, "train", "--pretrained_model_name_or_path", "./models/toymodel/", "--train_data_dir",
		images, "--placeholder_token", "<teal>", "--max_train_steps", "1", "--output_dir", filepath.Join(out, "b"),
		"--preset", "toy", "--initializer_token", "circle")
	require.NoError(t, err, stderr)
	assert.NotContains(t, stderr, "note: the built-in toy model")

	_, stderr, err = runCLI(t, "train", "--pretrained_model_name_or_path", defaultModel, "--train_data_dir", images,
		"--placeholder_token", "<teal>", "--initializer_token", "object", "--output_dir", filepath.Join(out, "c"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `train: --initializer_token "object" is not a word of the built-in toy model`)
	assert.Contains(t, err.Error(), "circle, square, triangle, star")
	assert.NotContains(t, stderr, "loaded", "refused before the model loads")

	assert.True(t, isBuiltinModel(""))
	assert.True(t, isBuiltinModel(defaultModel))
	assert.False(t, isBuiltinModel("testdata/tiny-sd1"))
	assert.False(t, isBuiltinModel("/nonexistent/model"))
}

// TestToyDefaultsNoShape: images without a toy-world object give one error saying which flag to add.
func TestToyDefaultsNoShape(t *testing.T) {
	images := writeImages(t) // plain colour fields, no object
	var files []string
	entries, err := os.ReadDir(images)
	require.NoError(t, err)
	for _, e := range entries {
		files = append(files, filepath.Join(images, e.Name()))
	}
	_, stderr, err := runCLI(t, "train", "--pretrained_model_name_or_path", "/nonexistent/model", "--train_data_dir",
		images, "--placeholder_token", "<toy>")
	require.Error(t, err, stderr)
	assert.NotContains(t, err.Error(), "built-in toy model", "another model gets no toy defaults")

	fs := flag.NewFlagSet("train", flag.ContinueOnError) // nothing given on the command line
	preset, initializer := "", "object"
	_, err = toyDefaults(fs, &preset, &initializer, files)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "needs --initializer_token, the concept's shape")
	assert.Equal(t, "toy", preset)
	assert.Equal(t, "object", initializer, "left as it was")
}
