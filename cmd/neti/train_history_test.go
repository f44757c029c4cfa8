package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/neti"
)

// TestTrainThirdRunKeepsHistory runs neti train three times into one --output_dir (no checkpoints, so
// each run is a new one): no concept is lost (toy.safetensors.prev1 and .prev2 hold the first two, each
// loadable), no loss log is overwritten (loss.jsonl.prev1, .prev2), and the third run's notes say where
// the second run's files went.
func TestTrainThirdRunKeepsHistory(t *testing.T) {
	images := writeImages(t)
	out := filepath.Join(t.TempDir(), "out")
	final := neti.FinalConceptPath(out, "<toy>")
	var stderr string
	for run := range 3 {
		var err error
		_, stderr, err = runCLI(t, "train", "--pretrained_model_name_or_path", "../../testdata/tiny-sd1",
			"--train_data_dir", images, "--placeholder_token", "<toy>", "--initializer_token", "good",
			"--resolution", "32", "--max_train_steps", "1", "--train_batch_size", "1", "--gradient_accumulation_steps", "1",
			"--checkpointing_steps", "-1", "--seed", string(rune('1'+run)), "--output_dir", out)
		require.NoError(t, err, "run %d: %s", run+1, stderr)
	}
	assert.Contains(t, stderr, "note: loss.jsonl of an earlier run in "+out+" is kept as "+filepath.Join(out, "loss.jsonl.prev2")+"\n")
	assert.Contains(t, stderr, "\nnote: the earlier "+final+" is kept as "+final+".prev2\n", "on its own line after the progress")
	for i, path := range []string{final + ".prev1", final + ".prev2", final} {
		c, err := neti.LoadConcept(path)
		require.NoError(t, err, path)
		assert.Contains(t, string(c.Training), `"seed":`+string(rune('1'+i)), "%s is run %d's concept", path, i+1)
	}
	for _, name := range []string{"loss.jsonl.prev1", "loss.jsonl.prev2", "loss.jsonl"} {
		data, err := os.ReadFile(filepath.Join(out, name))
		require.NoError(t, err)
		assert.Equal(t, 1, strings.Count(string(data), "\n"), "%s: one step logged", name)
	}
}
