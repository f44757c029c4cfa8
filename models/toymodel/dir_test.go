package toymodel

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEmbedMatchesSource: the embedded files are the source folder's model files, byte for byte, with
// none left out (a directory pattern of go:embed skips names starting with "." or "_"), and every
// component model_index.json names has its folder. A few MB in all.
func TestEmbedMatchesSource(t *testing.T) {
	var total int64
	for _, top := range []string{"model_index.json", "scheduler", "text_encoder", "tokenizer", "unet", "vae"} {
		require.NoError(t, filepath.WalkDir(top, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err)
			got, err := fs.ReadFile(FS(), filepath.ToSlash(path))
			require.NoError(t, err, "%s is not embedded", path)
			assert.True(t, bytes.Equal(want, got), "%s differs from its embedded copy", path)
			total += int64(len(got))
			return nil
		}))
	}
	t.Logf("embedded model: %.1f MB", float64(total)/1e6)
	assert.Less(t, total, int64(64<<20), "the embedded model is meant to be small")

	var index map[string]any
	data, err := fs.ReadFile(FS(), "model_index.json")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &index))
	for name, v := range index {
		pair, ok := v.([]any)
		if strings.HasPrefix(name, "_") || !ok || len(pair) != 2 || pair[0] == nil {
			continue
		}
		st, err := fs.Stat(FS(), name)
		if assert.NoError(t, err, "component %s of model_index.json is not embedded: add it to the go:embed line", name) {
			assert.True(t, st.IsDir(), name)
		}
	}
}

// TestDirIsSource: a test binary (built without -trimpath, run in the clone) finds the source folder.
func TestDirIsSource(t *testing.T) {
	t.Setenv("NETI_CACHE", t.TempDir())
	dir, err := DirErr()
	require.NoError(t, err)
	wd, err := os.Getwd()
	require.NoError(t, err)
	assert.Equal(t, wd, dir)
	assert.Equal(t, dir, Dir())
	entries, err := os.ReadDir(os.Getenv("NETI_CACHE"))
	require.NoError(t, err)
	assert.Empty(t, entries, "nothing is extracted when the source folder is there")
}

// TestCacheRoot: $NETI_CACHE, else $XDG_CACHE_HOME/neti, else ~/.cache/neti, made absolute.
func TestCacheRoot(t *testing.T) {
	t.Setenv("NETI_CACHE", "/x/neti-cache")
	t.Setenv("XDG_CACHE_HOME", "/x/xdg")
	t.Setenv("HOME", "/x/home")
	root, err := cacheRoot()
	require.NoError(t, err)
	assert.Equal(t, "/x/neti-cache", root)
	t.Setenv("NETI_CACHE", "")
	root, err = cacheRoot()
	require.NoError(t, err)
	assert.Equal(t, "/x/xdg/neti", root)
	t.Setenv("XDG_CACHE_HOME", "")
	root, err = cacheRoot()
	require.NoError(t, err)
	assert.Equal(t, "/x/home/.cache/neti", root)
	t.Setenv("NETI_CACHE", "rel")
	root, err = cacheRoot()
	require.NoError(t, err)
	assert.True(t, filepath.IsAbs(root), root)
}

// TestExtract: the embedded model lands in root/toymodel/<content hash>, byte for byte; a second call
// reuses it (no file rewritten) and leaves no temporary folder.
func TestExtract(t *testing.T) {
	root := t.TempDir()
	dir, err := extract(FS(), root)
	require.NoError(t, err)
	hash, err := contentHash(FS())
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(root, "toymodel", hash), dir)
	require.NoError(t, fs.WalkDir(FS(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		want, _ := fs.ReadFile(FS(), path)
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(path)))
		require.NoError(t, err)
		assert.True(t, bytes.Equal(want, got), path)
		return nil
	}))

	index := filepath.Join(dir, "model_index.json")
	before, err := os.Stat(index)
	require.NoError(t, err)
	again, err := extract(FS(), root)
	require.NoError(t, err)
	assert.Equal(t, dir, again)
	after, err := os.Stat(index)
	require.NoError(t, err)
	assert.True(t, os.SameFile(before, after) && before.ModTime().Equal(after.ModTime()), "reused, not rewritten")
	assertOnly(t, filepath.Join(root, "toymodel"), hash)
}

// TestExtractRepairsDamaged: an extraction with a missing or truncated file is replaced whole.
func TestExtractRepairsDamaged(t *testing.T) {
	root := t.TempDir()
	dir, err := extract(FS(), root)
	require.NoError(t, err)
	weights := filepath.Join(dir, "unet", "diffusion_pytorch_model.safetensors")
	require.NoError(t, os.Truncate(weights, 100))
	require.NoError(t, os.Remove(filepath.Join(dir, "tokenizer", "vocab.json")))
	again, err := extract(FS(), root)
	require.NoError(t, err)
	assert.Equal(t, dir, again)
	require.NoError(t, complete(FS(), dir))
	assertOnly(t, filepath.Join(root, "toymodel"), filepath.Base(dir))
}

// TestExtractConcurrent: many extractions at once into one cache all return the same folder, and a
// watcher never sees that folder incomplete: it appears whole or not at all.
func TestExtractConcurrent(t *testing.T) {
	root := t.TempDir()
	hash, err := contentHash(FS())
	require.NoError(t, err)
	dir := filepath.Join(root, "toymodel", hash)
	var done atomic.Bool
	var partial atomic.Int32
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for !done.Load() {
			if _, err := os.Stat(dir); err == nil && complete(FS(), dir) != nil {
				partial.Add(1)
			}
		}
	}()
	var wg sync.WaitGroup
	dirs := make([]string, 8)
	errs := make([]error, 8)
	for i := range dirs {
		wg.Go(func() { dirs[i], errs[i] = extract(FS(), root) })
	}
	wg.Wait()
	done.Store(true)
	<-watched
	for i := range dirs {
		require.NoError(t, errs[i])
		assert.Equal(t, dir, dirs[i])
	}
	assert.Zero(t, partial.Load(), "a half-written model was visible")
	require.NoError(t, complete(FS(), dir))
	assertOnly(t, filepath.Join(root, "toymodel"), hash)
}

// TestContentHashNaming: the folder's name changes with any file's content or name, so a retrained model
// is extracted beside an old one instead of reusing it; the same files give the same name.
func TestContentHashNaming(t *testing.T) {
	model := func(weights string) fstest.MapFS {
		return fstest.MapFS{
			"model_index.json":   {Data: []byte(`{"unet": ["diffusers", "UNet2DConditionModel"]}`)},
			"unet/config.json":   {Data: []byte(`{}`)},
			"unet/w.safetensors": {Data: []byte(weights)},
		}
	}
	root := t.TempDir()
	old, err := extract(model("old weights"), root)
	require.NoError(t, err)
	same, err := extract(model("old weights"), root)
	require.NoError(t, err)
	assert.Equal(t, old, same)
	retrained, err := extract(model("new weights"), root)
	require.NoError(t, err)
	assert.NotEqual(t, old, retrained)
	got, err := os.ReadFile(filepath.Join(retrained, "unet", "w.safetensors"))
	require.NoError(t, err)
	assert.Equal(t, "new weights", string(got))
	got, err = os.ReadFile(filepath.Join(old, "unet", "w.safetensors"))
	require.NoError(t, err)
	assert.Equal(t, "old weights", string(got), "the old extraction is left alone")

	renamed := model("old weights")
	renamed["unet/v.safetensors"] = renamed["unet/w.safetensors"]
	delete(renamed, "unet/w.safetensors")
	h1, err := contentHash(model("old weights"))
	require.NoError(t, err)
	h2, err := contentHash(renamed)
	require.NoError(t, err)
	assert.NotEqual(t, h1, h2)
	assert.Regexp(t, `^[0-9a-f]{16}$`, h1)
}

// TestExtractUnwritable: a cache that cannot be written is an error naming the folder and $NETI_CACHE;
// the path returned is the folder it meant to create.
func TestExtractUnwritable(t *testing.T) {
	root := filepath.Join(t.TempDir(), "a-file")
	require.NoError(t, os.WriteFile(root, nil, 0o644))
	dir, err := extract(FS(), root)
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(dir, root), dir)
	assert.Contains(t, err.Error(), dir)
	assert.Contains(t, err.Error(), "NETI_CACHE")
}

// assertOnly checks that folder holds exactly the named entry (no temporary or damaged copies left).
func assertOnly(t *testing.T, folder, name string) {
	t.Helper()
	entries, err := os.ReadDir(folder)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.Equal(t, []string{name}, names)
}
