package history

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestKeep numbers kept versions after the highest already there, leaves older history (and a
// legacy ".prev") untouched, copies or moves as asked, and does nothing for a missing path.
func TestKeep(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.safetensors")
	kept, err := Keep(path, false)
	require.NoError(t, err)
	assert.Empty(t, kept, "nothing to keep")
	for name, data := range map[string]string{"c.safetensors": "v4", "c.safetensors.prev": "legacy",
		"c.safetensors.prev1": "v1", "c.safetensors.prev3": "v3", "c.safetensors.prevx": "other"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644))
	}
	kept, err = Keep(path, false)
	require.NoError(t, err)
	assert.Equal(t, path+".prev4", kept, "after the highest number, gaps left alone")
	for name, want := range map[string]string{"c.safetensors": "v4", "c.safetensors.prev4": "v4",
		"c.safetensors.prev": "legacy", "c.safetensors.prev1": "v1", "c.safetensors.prev3": "v3"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		assert.Equal(t, want, string(data), name)
	}
	sub := filepath.Join(dir, "validation")
	require.NoError(t, os.Mkdir(sub, 0o755))
	kept, err = Keep(sub, true)
	require.NoError(t, err)
	assert.Equal(t, sub+".prev1", kept)
	assert.NoDirExists(t, sub, "moved")
	assert.DirExists(t, kept)
}

// TestNext numbers after the highest kept version, ignoring names that only start like one.
func TestNext(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "neti.png")
	next, err := Next(path)
	require.NoError(t, err)
	assert.Equal(t, path+".prev1", next)
	for _, name := range []string{"neti.png.prev2", "neti.png.prev10x", "neti.png.prev-3", "other.png.prev7"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), nil, 0o644))
	}
	next, err = Next(path)
	require.NoError(t, err)
	assert.Equal(t, path+".prev3", next)
	_, err = Next(filepath.Join(dir, "missing", "neti.png"))
	assert.Error(t, err, "the folder does not exist")
}
