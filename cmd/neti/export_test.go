package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/neti"
	"github.com/org/neti/internal/safetensors"
)

const tinyModel = "../../testdata/tiny-sd1"

// conceptFile writes a random-mapper concept for the tiny model and returns its path.
func conceptFile(t *testing.T, placeholder string) string {
	t.Helper()
	p, err := neti.LoadPipeline(tinyModel, neti.LoadOptions{})
	require.NoError(t, err)
	defer p.Close()
	c, err := p.InitConcept(placeholder, "happy", 7)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "concept.safetensors")
	require.NoError(t, neti.SaveConcept(path, c))
	return path
}

func TestExportCLI(t *testing.T) {
	concept := conceptFile(t, "<tiny-toy>")
	dir := t.TempDir()
	out := filepath.Join(dir, "learned.safetensors")
	stdout, stderr, err := runCLI(t, "export", "--concept", concept, "--format", "diffusers", "--output", out,
		"--steps", "5", "--layers", "0,15")
	require.NoError(t, err, stderr)
	assert.Contains(t, stdout, "wrote "+out)
	f, err := safetensors.Open(out)
	require.NoError(t, err)
	got, err := f.Tensor("<tiny-toy>", dtypes.Float32)
	require.NoError(t, err)
	assert.Equal(t, []int{32}, got.Shape().Dimensions)
	assert.Equal(t, "999,799,599,400,200", f.Metadata()["timesteps"])
	assert.Equal(t, "0,15", f.Metadata()["layers"])
	f.Close()
	c, err := neti.LoadConcept(concept)
	require.NoError(t, err)
	want, err := neti.ExportEmbedding(c, neti.ExportOptions{Steps: 5, Layers: []int{0, 15}})
	require.NoError(t, err)
	assert.Equal(t, want, tensors.MustCopyFlatData[float32](got), "the CLI writes ExportEmbedding's vector")

	// a1111: the default file name is the placeholder without brackets (the web UI's prompt word).
	t.Chdir(dir)
	_, stderr, err = runCLI(t, "export", "--concept", concept, "--format", "a1111", "--truncation", "3")
	require.NoError(t, err, stderr)
	f, err = safetensors.Open(filepath.Join(dir, "tiny-toy.safetensors"))
	require.NoError(t, err)
	defer f.Close()
	assert.Equal(t, []string{"emb_params"}, f.Names())
	info, _ := f.Info("emb_params")
	assert.Equal(t, []int{1, 32}, info.Shape)
	assert.Equal(t, "3", f.Metadata()["truncation"])

	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"no concept":  {[]string{"export"}, "--concept is required"},
		"bad format":  {[]string{"export", "--concept", concept, "--format", "ckpt"}, `Format is "ckpt"`},
		"bad layers":  {[]string{"export", "--concept", concept, "--layers", "1,x"}, "comma-separated integers"},
		"not concept": {[]string{"export", "--concept", filepath.Join(dir, "tiny-toy.safetensors")}, "not a neti concept file"},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := runCLI(t, tc.args...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestGenerateWithConceptCLI(t *testing.T) {
	concept := conceptFile(t, "<tiny-toy>")
	out := filepath.Join(t.TempDir(), "toy.png")
	stdout, stderr, err := runCLI(t, "generate", "--pretrained_model_name_or_path", tinyModel, "--concept", concept,
		"--truncation", "4", "--num_inference_steps", "2", "--output", out, "a photo of <tiny-toy>")
	require.NoError(t, err, stderr)
	assert.Contains(t, stdout, "wrote "+out)
	_, err = os.Stat(out)
	require.NoError(t, err)

	_, _, err = runCLI(t, "generate", "--pretrained_model_name_or_path", tinyModel, "--concept", concept,
		"--num_inference_steps", "2", "--output", out, "a photo of a cat")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `does not contain the placeholder "<tiny-toy>"`)
	_, _, err = runCLI(t, "generate", "--pretrained_model_name_or_path", tinyModel, "--concept", "/nonexistent.safetensors",
		"a photo of <tiny-toy>")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "/nonexistent.safetensors")
}

func TestInspectConceptFile(t *testing.T) {
	concept := conceptFile(t, "<tiny-toy>")
	stdout, stderr, err := runCLI(t, "inspect", concept)
	require.NoError(t, err, stderr)
	// The default mapper at text width 32 (spec §3): net.0 2048→160, net.1 160→128, net.2 LayerNorm,
	// net.4 128→128, net.5 LayerNorm, output 128→2·32; W is 1024×2.
	params := 2048*160 + 160 + 160*128 + 128 + 2*128 + 128*128 + 128 + 2*128 + 128*64 + 64
	for _, want := range []string{"<tiny-toy>", `"happy"`, "method          neti", "text width      32",
		"16 IN01", "σ_t 0.03, σ_ℓ 2, seed 7", "α 0.2", "truncation      128 of 128",
		fmt.Sprintf("%d trainable + 2048 fixed", params)} {
		assert.Contains(t, stdout, want)
	}
	stdout, _, err = runCLI(t, "inspect", "--json", concept)
	require.NoError(t, err)
	var r conceptReport
	require.NoError(t, json.Unmarshal([]byte(stdout), &r))
	assert.Equal(t, "<tiny-toy>", r.Placeholder)
	assert.Equal(t, 128, r.Mapper.Hidden)
	assert.Len(t, r.LayerNames, 16)

	// Other safetensors files: metadata and tensors.
	out := filepath.Join(t.TempDir(), "emb.safetensors")
	_, _, err = runCLI(t, "export", "--concept", concept, "--format", "a1111", "--output", out)
	require.NoError(t, err)
	stdout, _, err = runCLI(t, "inspect", out)
	require.NoError(t, err)
	assert.Contains(t, stdout, "not a neti concept file")
	assert.Contains(t, stdout, "tensor    emb_params float32 [1 32]")
	assert.Contains(t, stdout, "metadata  name = <tiny-toy>")
}
