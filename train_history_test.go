package neti

import (
	stdcontext "context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTrainKeepsEarlierRuns trains three runs (no checkpoints, one validation image each) into one
// folder: the final concept of each earlier run is kept as toy.safetensors.prev1 and .prev2, their loss
// logs as loss.jsonl.prev1 and .prev2 and their validation images as validation.prev1 and .prev2; the
// current files are the third run's, and notes say what was kept where.
func TestTrainKeepsEarlierRuns(t *testing.T) {
	p := loadTiny(t)
	dir := t.TempDir()
	images := writeTestImages(t, filepath.Join(dir, "images"), 2)
	out := filepath.Join(dir, "out")
	final := FinalConceptPath(out, "<toy>")
	var seeds []uint64
	var notes []string
	for run := range 3 {
		o := tinyTrainOptions(out, 1+run) // run r logs 1+r lines
		o.CheckpointEvery, o.Seed = -1, uint64(10+run)
		o.ValidateEvery, o.ValidationInferenceSteps, o.ValidationSeeds = 1, 1, []uint64{0}
		o.ValidationPrompts = []string{"a {}"}
		o.OnNote = func(n string) { notes = append(notes, n) }
		c, err := TrainConcept(stdcontext.Background(), p, []string{images}, o)
		require.NoError(t, err, "run %d", run+1)
		seeds = append(seeds, c.Mapper.Seed)
	}
	for i, path := range []string{final + ".prev1", final + ".prev2", final} {
		c, err := LoadConcept(path)
		require.NoError(t, err)
		assert.Equal(t, seeds[i], c.Mapper.Seed, "%s holds run %d's concept", path, i+1)
		assert.Contains(t, string(c.Training), `"steps":`+string(rune('1'+i)), "%s: run %d's steps", path, i+1)
	}
	for i, name := range []string{lossLogName + ".prev1", lossLogName + ".prev2", lossLogName} {
		data, err := os.ReadFile(filepath.Join(out, name))
		require.NoError(t, err)
		assert.Len(t, strings.Split(strings.TrimSpace(string(data)), "\n"), i+1, "%s holds run %d's log", name, i+1)
	}
	for i, name := range []string{validationDir + ".prev1", validationDir + ".prev2", validationDir} {
		assert.DirExists(t, filepath.Join(out, name, "step-"+string(rune('1'+i))), "%s holds run %d's images", name, i+1)
	}
	assert.Contains(t, notes, "note: the earlier "+final+" is kept as "+final+".prev2")
	assert.Contains(t, notes, "note: loss.jsonl of an earlier run in "+out+" is kept as "+filepath.Join(out, "loss.jsonl.prev2"))
	assert.Contains(t, notes, "note: validation of an earlier run in "+out+" is kept as "+filepath.Join(out, "validation.prev2"))
}
