package main

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/neti"
)

// writeImages writes two small PNGs and a text file into a new folder.
func writeImages(t *testing.T) string {
	dir := filepath.Join(t.TempDir(), "images")
	require.NoError(t, os.Mkdir(dir, 0o755))
	for i, c := range []color.NRGBA{{R: 200, A: 255}, {B: 200, G: 90, A: 255}} {
		img := image.NewNRGBA(image.Rect(0, 0, 24, 20))
		for p := 0; p < len(img.Pix); p += 4 {
			img.Pix[p], img.Pix[p+1], img.Pix[p+2], img.Pix[p+3] = c.R, c.G, c.B, c.A
		}
		f, err := os.Create(filepath.Join(dir, string(rune('a'+i))+".png"))
		require.NoError(t, err)
		require.NoError(t, png.Encode(f, img))
		require.NoError(t, f.Close())
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "README.txt"), []byte("photos of my toy"), 0o644))
	return dir
}

// TestTrainCLI trains 2 steps on the tiny model through the CLI and checks the progress line, the note on
// the skipped file, the checkpoint, the loss log and the concept file.
func TestTrainCLI(t *testing.T) {
	images := writeImages(t)
	out := filepath.Join(t.TempDir(), "out")
	stdout, stderr, err := runCLI(t, "train", "--pretrained_model_name_or_path", "../../testdata/tiny-sd1",
		"--train_data_dir", images, "--placeholder_token", "<toy>", "--initializer_token", "good",
		"--resolution", "32", "--max_train_steps", "2", "--train_batch_size", "1", "--gradient_accumulation_steps", "1",
		"--checkpointing_steps", "1", "--checkpoints_total_limit", "1", "--seed", "4", "--output_dir", out)
	require.NoError(t, err, stderr)
	assert.Contains(t, stderr, "step 2/2")
	assert.Contains(t, stderr, "steps/s")
	assert.Contains(t, stderr, "skipped 1 entry of "+images+": README.txt (not PNG or JPEG images)")
	assert.Contains(t, stdout, "wrote "+filepath.Join(out, "toy.safetensors"))
	c, err := neti.LoadConcept(filepath.Join(out, "toy.safetensors"))
	require.NoError(t, err)
	assert.Equal(t, "<toy>", c.Placeholder)
	assert.Equal(t, "good", c.SuperCategory)
	entries, err := os.ReadDir(out)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.ElementsMatch(t, []string{"checkpoint-2", "loss.jsonl", "toy.safetensors"}, names, "limit 1 keeps the last checkpoint")

	// Resuming from a missing checkpoint is an error, never a fresh start.
	_, _, err = runCLI(t, "train", "--pretrained_model_name_or_path", "../../testdata/tiny-sd1",
		"--train_data_dir", images, "--placeholder_token", "<toy>", "--initializer_token", "good",
		"--output_dir", out, "--resume_from_checkpoint", filepath.Join(out, "checkpoint-7"))
	assert.ErrorContains(t, err, "checkpoint-7")

	// Bad data is reported before the model loads (the model path does not even exist).
	_, _, err = runCLI(t, "train", "--pretrained_model_name_or_path", "/nonexistent", "--train_data_dir",
		t.TempDir(), "--placeholder_token", "<toy>")
	assert.ErrorContains(t, err, "no PNG or JPEG image")
}

// TestTrainValidationPromptNeedsConcept: a --validation_prompt without the placeholder (or {}) is refused
// before the model loads.
func TestTrainValidationPromptNeedsConcept(t *testing.T) {
	_, _, err := runCLI(t, "train", "--pretrained_model_name_or_path", "/nonexistent", "--train_data_dir", writeImages(t),
		"--placeholder_token", "<toy>", "--validation_steps", "10", "--validation_prompt", "a <toy> on a table",
		"--validation_prompt", "a dog in the snow")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `--validation_prompt "a dog in the snow" has neither the placeholder "<toy>" nor {}`)
}

// TestTrainNamesSkippedSubfolders: neti train on a folder with a subfolder and a text file prints one
// note naming both (the subfolder with how to include it), before the model loads (the model path does
// not exist).
func TestTrainNamesSkippedSubfolders(t *testing.T) {
	images := writeImages(t)
	require.NoError(t, os.Mkdir(filepath.Join(images, "more"), 0o755))
	_, stderr, err := runCLI(t, "train", "--pretrained_model_name_or_path", "/nonexistent/model",
		"--train_data_dir", images, "--placeholder_token", "<toy>")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "/nonexistent/model")
	sep := string(filepath.Separator)
	assert.Equal(t, 1, strings.Count(stderr, "skipped"), "one note: %s", stderr)
	assert.Contains(t, stderr, "skipped 2 entries of "+images+": README.txt (not PNG or JPEG images); more"+sep+
		" (subfolders: folders are not read recursively; to train on their images too, list them with the folder, "+
		"e.g. --train_data_dir "+images+","+filepath.Join(images, "more")+")\n")
}
