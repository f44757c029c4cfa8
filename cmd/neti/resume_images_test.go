package main

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTrainResumeRefusesEditedImage: after one image of the training folder is rewritten in place (same
// name, other pixels), neti train --resume_from_checkpoint latest is refused, naming the file, the
// checkpoint and the fix.
func TestTrainResumeRefusesEditedImage(t *testing.T) {
	images := writeImages(t)
	out := filepath.Join(t.TempDir(), "out")
	args := func(steps string, extra ...string) []string {
		return append([]string{"train", "--pretrained_model_name_or_path", "../../testdata/tiny-sd1", "--train_data_dir", images,
			"--placeholder_token", "<toy>", "--initializer_token", "good", "--resolution", "32", "--max_train_steps", steps,
			"--train_batch_size", "1", "--gradient_accumulation_steps", "1", "--checkpointing_steps", "1",
			"--output_dir", out}, extra...)
	}
	_, stderr, err := runCLI(t, args("1")...)
	require.NoError(t, err, stderr)

	edited := filepath.Join(images, "b.png")
	img := image.NewNRGBA(image.Rect(0, 0, 24, 20))
	img.Set(3, 3, color.NRGBA{R: 9, A: 255})
	f, err := os.Create(edited)
	require.NoError(t, err)
	require.NoError(t, png.Encode(f, img))
	require.NoError(t, f.Close())

	_, _, err = runCLI(t, args("2", "--resume_from_checkpoint", "latest")...)
	require.Error(t, err)
	for _, want := range []string{"training image " + edited + " changed since the checkpoint",
		filepath.Join(out, "checkpoint-1"), "restore the image as it was", "--output_dir", "--resume_from_checkpoint"} {
		assert.Contains(t, err.Error(), want)
	}
}
