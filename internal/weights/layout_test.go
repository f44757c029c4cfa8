package weights

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// touch creates the file (and its folders) with the given content.
func touch(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}

func TestResolveLocalFolder(t *testing.T) {
	dir := t.TempDir()
	touch(t, filepath.Join(dir, "model_index.json"), "{}")
	got, err := ResolveModel(dir)
	require.NoError(t, err)
	assert.Equal(t, dir, got)
}

func TestResolveNotDiffusersFolder(t *testing.T) {
	dir := t.TempDir()
	_, err := ResolveModel(dir)
	assert.ErrorContains(t, err, "is not a diffusers pipeline folder: model_index.json is missing (it is empty)")

	touch(t, filepath.Join(dir, "config.json"), "{}")
	touch(t, filepath.Join(dir, "diffusion_pytorch_model.safetensors"), "")
	_, err = ResolveModel(dir)
	assert.ErrorContains(t, err, "it holds config.json, diffusion_pytorch_model.safetensors")
	assert.ErrorContains(t, err, "single component folder")
	assert.ErrorContains(t, err, "expected model_index.json with component folders")

	_, err = ResolveModel(filepath.Join(dir, "config.json"))
	assert.ErrorContains(t, err, "this is a file")

	_, err = ResolveModel(filepath.Join(dir, "no", "such", "dir"))
	assert.ErrorContains(t, err, "not a Hugging Face id")
}

func TestHubCacheDir(t *testing.T) {
	t.Setenv("HF_HUB_CACHE", "/x/hub-cache")
	t.Setenv("HUGGINGFACE_HUB_CACHE", "/x/legacy")
	t.Setenv("HF_HOME", "/x/home")
	t.Setenv("XDG_CACHE_HOME", "/x/xdg")
	assert.Equal(t, "/x/hub-cache", HubCacheDir())
	t.Setenv("HF_HUB_CACHE", "")
	assert.Equal(t, "/x/legacy", HubCacheDir())
	t.Setenv("HUGGINGFACE_HUB_CACHE", "")
	assert.Equal(t, "/x/home/hub", HubCacheDir())
	t.Setenv("HF_HOME", "")
	assert.Equal(t, "/x/xdg/huggingface/hub", HubCacheDir())
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "/x/user")
	assert.Equal(t, "/x/user/.cache/huggingface/hub", HubCacheDir())
}

func TestResolveHubCacheRefsMain(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("HF_HUB_CACHE", cache)
	repo := filepath.Join(cache, "models--tiny-org--tiny-sd")
	touch(t, filepath.Join(repo, "snapshots", "aaa111", "model_index.json"), "{}")
	touch(t, filepath.Join(repo, "snapshots", "bbb222", "model_index.json"), "{}")
	touch(t, filepath.Join(repo, "refs", "main"), "aaa111\n")
	// Make bbb222 the newest so that refs/main, not the modification time, decides.
	future := time.Now().Add(time.Hour)
	require.NoError(t, os.Chtimes(filepath.Join(repo, "snapshots", "bbb222"), future, future))

	got, err := ResolveModel("tiny-org/tiny-sd")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(repo, "snapshots", "aaa111"), got)

	touch(t, filepath.Join(repo, "refs", "main"), "ccc333")
	_, err = ResolveModel("tiny-org/tiny-sd")
	assert.ErrorContains(t, err, "refs/main names revision ccc333")
}

func TestResolveHubCacheNewestSnapshot(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("HF_HUB_CACHE", "")
	t.Setenv("HUGGINGFACE_HUB_CACHE", "")
	t.Setenv("HF_HOME", cache)
	repo := filepath.Join(cache, "hub", "models--org--name")
	touch(t, filepath.Join(repo, "snapshots", "old", "model_index.json"), "{}")
	touch(t, filepath.Join(repo, "snapshots", "new", "model_index.json"), "{}")
	past := time.Now().Add(-time.Hour)
	require.NoError(t, os.Chtimes(filepath.Join(repo, "snapshots", "old"), past, past))

	got, err := ResolveModel("org/name")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(repo, "snapshots", "new"), got)
}

func TestResolveHubCacheMissing(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("HF_HUB_CACHE", cache)
	_, err := ResolveModel("org/absent")
	require.Error(t, err)
	assert.ErrorContains(t, err, "not in the Hugging Face cache")
	assert.ErrorContains(t, err, filepath.Join(cache, "models--org--absent", "snapshots"))
	assert.ErrorContains(t, err, "cannot download")

	// A snapshot that is not a diffusers pipeline.
	touch(t, filepath.Join(cache, "models--org--clip", "snapshots", "r1", "config.json"), "{}")
	_, err = ResolveModel("org/clip")
	assert.ErrorContains(t, err, "is not a diffusers pipeline folder")

	require.NoError(t, os.MkdirAll(filepath.Join(cache, "models--org--empty", "snapshots"), 0o755))
	_, err = ResolveModel("org/empty")
	assert.ErrorContains(t, err, "holds no snapshot")
}

func TestComponentWeights(t *testing.T) {
	dir := t.TempDir()
	unet := filepath.Join(dir, "unet")
	touch(t, filepath.Join(unet, "diffusion_pytorch_model.safetensors"), "")
	touch(t, filepath.Join(unet, "diffusion_pytorch_model.fp16.safetensors"), "")
	touch(t, filepath.Join(dir, "text_encoder", "model.safetensors"), "")
	touch(t, filepath.Join(dir, "vae", "diffusion_pytorch_model.fp16.safetensors"), "")

	for _, tc := range []struct{ component, variant, want string }{
		{"unet", "", "unet/diffusion_pytorch_model.safetensors"},
		{"unet", "fp16", "unet/diffusion_pytorch_model.fp16.safetensors"},
		{"text_encoder", "", "text_encoder/model.safetensors"},
		{"text_encoder", "fp16", "text_encoder/model.safetensors"},  // Falls back to the plain file.
		{"vae", "", "vae/diffusion_pytorch_model.fp16.safetensors"}, // Only the fp16 file exists.
		{"vae", "fp16", "vae/diffusion_pytorch_model.fp16.safetensors"},
	} {
		got, err := ComponentWeights(dir, tc.component, tc.variant)
		require.NoError(t, err, "%s variant %q", tc.component, tc.variant)
		assert.Equal(t, filepath.Join(dir, tc.want), got, "%s variant %q", tc.component, tc.variant)
	}
}

func TestComponentWeightsErrors(t *testing.T) {
	dir := t.TempDir()
	touch(t, filepath.Join(dir, "unet", "diffusion_pytorch_model.bin"), "")
	touch(t, filepath.Join(dir, "unet", "config.json"), "{}")
	touch(t, filepath.Join(dir, "vae", "config.json"), "{}")
	touch(t, filepath.Join(dir, "text_encoder", "model.safetensors.index.json"), "{}")

	_, err := ComponentWeights(dir, "unet", "")
	assert.ErrorContains(t, err, "only PyTorch pickle weights (config.json, diffusion_pytorch_model.bin)")
	assert.ErrorContains(t, err, "never reads pickles")
	assert.ErrorContains(t, err, "safe_serialization=True")

	_, err = ComponentWeights(dir, "vae", "fp16")
	assert.ErrorContains(t, err, "no weights in "+filepath.Join(dir, "vae")+" (it holds config.json)")
	assert.ErrorContains(t, err, "diffusion_pytorch_model[.fp16].safetensors")

	_, err = ComponentWeights(dir, "text_encoder", "")
	assert.ErrorContains(t, err, "sharded checkpoint")

	_, err = ComponentWeights(dir, "controlnet", "")
	assert.ErrorContains(t, err, `component "controlnet"`)
	assert.ErrorContains(t, err, "the pipeline has: text_encoder/, unet/, vae/")
}
