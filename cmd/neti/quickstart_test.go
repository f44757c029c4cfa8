package main

import (
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestQuickstartWritesGrid runs the main job end to end at a tiny scale: testdata/concepts/dot (the tealstar
// images under a super-category the tiny random SD1-like model can tokenize, "the"),
// 2 training steps, then the 3×4 grid (1 denoising step each) and its legend.
func TestQuickstartWritesGrid(t *testing.T) {
	out := filepath.Join(t.TempDir(), "qs")
	stdout, stderr, err := runCLI(t, "quickstart", "--pretrained_model_name_or_path", "../../testdata/tiny-sd1",
		"--examples", "../../testdata/concepts", "--concept", "dot", "--max_train_steps", "2", "--num_inference_steps", "1", "--output_dir", out)
	require.NoError(t, err, stderr)
	assert.Contains(t, stdout, "grid.png")
	assert.Contains(t, stderr, "training <dot>: step 2/2", "progress is shown as it goes")

	f, err := os.Open(filepath.Join(out, "grid.png"))
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	assert.Equal(t, [2]int{4 * 64, 3 * 64}, [2]int{img.Bounds().Dx(), img.Bounds().Dy()}, "3 rows of 4 images")
	var rows []quickstartRow
	data, err := os.ReadFile(filepath.Join(out, "grid.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &rows))
	require.Len(t, rows, 3)
	assert.Equal(t, []int{2, 8, 32, 128}, rows[2].Truncation)
	assert.FileExists(t, filepath.Join(out, "dot.safetensors"))
}

func TestQuickstartUnknownConcept(t *testing.T) {
	_, _, err := runCLI(t, "quickstart", "--concept", "nosuch", "--examples", "../../examples/concepts")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `concept "nosuch"`)
}
