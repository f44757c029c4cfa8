package neti

import (
	stdcontext "context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// editImage rewrites one pixel of a PNG in place, keeping its name and size.
func editImage(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	img, err := png.Decode(f)
	require.NoError(t, f.Close())
	require.NoError(t, err)
	edited := image.NewNRGBA(img.Bounds())
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
			edited.Set(x, y, img.At(x, y))
		}
	}
	edited.Set(0, 0, color.NRGBA{R: 1, G: 2, B: 3, A: 255})
	f, err = os.Create(path)
	require.NoError(t, err)
	require.NoError(t, png.Encode(f, edited))
	require.NoError(t, f.Close())
}

// TestResumeRefusesEditedImage: a checkpoint records the SHA-256 of each training image; resuming after
// one was edited in place (same name) is refused, naming the checkpoint, the file and the fix, while a
// checkpoint of an older version without hashes still resumes, with a note.
func TestResumeRefusesEditedImage(t *testing.T) {
	p := loadTiny(t)
	dir := t.TempDir()
	images := writeTestImages(t, filepath.Join(dir, "images"), 2)
	out := filepath.Join(dir, "out")
	_, err := TrainConcept(stdcontext.Background(), p, []string{images}, resumeTrainOptions(out, 2))
	require.NoError(t, err)
	statePath := filepath.Join(out, "checkpoint-2", checkpointJSON)
	data, err := os.ReadFile(statePath)
	require.NoError(t, err)
	var st checkpointState
	require.NoError(t, json.Unmarshal(data, &st))
	require.Len(t, st.Images, 2)
	assert.Equal(t, "b.png", st.Images[1].File)
	assert.Len(t, st.Images[1].SHA256, 64, "hex SHA-256")

	edited := filepath.Join(images, "b.png")
	editImage(t, edited)
	o := resumeTrainOptions(out, 3)
	o.ResumeFrom = "latest"
	_, err = TrainConcept(stdcontext.Background(), p, []string{images}, o)
	require.Error(t, err)
	for _, want := range []string{filepath.Join(out, "checkpoint-2"), "training image " + edited + " changed since the checkpoint",
		"SHA-256 " + st.Images[1].SHA256[:12], "restore the image as it was", "--output_dir"} {
		assert.Contains(t, err.Error(), want)
	}
	steps, err := checkpoints(out)
	require.NoError(t, err)
	assert.Equal(t, []int{2}, steps, "nothing trained")

	// A checkpoint without hashes (an older version's) resumes on the file names alone, with a note.
	var raw map[string]any
	require.NoError(t, json.Unmarshal(data, &raw))
	delete(raw, "images_sha256")
	old, err := json.Marshal(raw)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(statePath, old, 0o644))
	var notes []string
	o.OnNote = func(n string) { notes = append(notes, n) }
	_, err = TrainConcept(stdcontext.Background(), p, []string{images}, o)
	require.NoError(t, err)
	assert.Contains(t, notes, "note: checkpoint "+filepath.Join(out, "checkpoint-2")+" records no image hashes (written "+
		"by an older neti): the training images' names are checked, not their contents")
}
