package neti

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/neti/clip"
	"github.com/org/neti/diffusion/vae"
	"github.com/org/neti/internal/backend"
	"github.com/org/neti/internal/safetensors"
	"github.com/org/neti/unet"
)

// weightFiles are the safetensors file of each component in a diffusers folder.
var weightFiles = map[string]string{
	"text_encoder": "model.safetensors",
	"unet":         "diffusion_pytorch_model.safetensors",
	"vae":          "diffusion_pytorch_model.safetensors",
}

// writeRandomModel assembles in dst a diffusers folder from the configuration folder src (model_index,
// scheduler, component and tokenizer configurations, as testdata/configs has them) with random float32
// weights, each tensor named and shaped as the networks declare them: normal with std 1/√fan-in for
// matrices and kernels, ones for normalisation scales, zeros for other vectors. The tokenizer's vocab.json
// and merges.txt come from tokenizer when src has none. For benchmarks at real sizes (SD 1.5: 4 GB).
func writeRandomModel(tb testing.TB, src, tokenizer, dst string) {
	tb.Helper()
	require.NoError(tb, os.CopyFS(dst, os.DirFS(src)))
	for _, f := range []string{"vocab.json", "merges.txt"} {
		if _, err := os.Stat(filepath.Join(dst, "tokenizer", f)); err == nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join(tokenizer, f))
		require.NoError(tb, err)
		require.NoError(tb, os.WriteFile(filepath.Join(dst, "tokenizer", f), data, 0o644))
	}
	text, err := clip.LoadConfig(filepath.Join(dst, "text_encoder", "config.json"))
	require.NoError(tb, err)
	u, err := unet.LoadConfig(filepath.Join(dst, "unet", "config.json"))
	require.NoError(tb, err)
	v, err := vae.LoadConfig(filepath.Join(dst, "vae", "config.json"))
	require.NoError(tb, err)
	be, err := backend.New("go") // only builds graphs to list the variables
	require.NoError(tb, err)
	defer be.Finalize()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range components(text, u, v) {
		var list []safetensors.Named
		for _, w := range expectedVariables(be, c, dtypes.Float32) {
			values := make([]float32, w.Shape.Size())
			dims := w.Shape.Dimensions
			switch {
			case len(dims) >= 2:
				std := 1 / math.Sqrt(float64(w.Shape.Size()/dims[0]))
				for i := range values {
					values[i] = float32(rng.NormFloat64() * std)
				}
			case strings.HasSuffix(w.Name, "weight") && strings.Contains(w.Name, "norm"):
				for i := range values {
					values[i] = 1
				}
			}
			list = append(list, safetensors.Named{Name: w.Name, Tensor: tensors.FromFlatDataAndDimensions(values, dims...)})
		}
		require.NoError(tb, safetensors.WriteList(filepath.Join(dst, c.name, weightFiles[c.name]), list, nil))
	}
}

// TestWriteRandomModel: a random model written from tiny-sd1's configurations loads (every tensor the
// networks expect, correctly shaped) and generates a finite image.
func TestWriteRandomModel(t *testing.T) {
	src := t.TempDir()
	require.NoError(t, os.CopyFS(src, os.DirFS(filepath.Join("testdata", "tiny-sd1"))))
	for _, c := range []string{"text_encoder", "unet", "vae"} {
		require.NoError(t, os.Remove(filepath.Join(src, c, weightFiles[c])))
	}
	dst := filepath.Join(t.TempDir(), "model")
	writeRandomModel(t, src, "", dst)
	p, err := LoadPipeline(dst, LoadOptions{})
	require.NoError(t, err)
	defer p.Close()
	out, err := p.Generate(t.Context(), "a photo of a cat", GenerateOptions{Steps: 2})
	require.NoError(t, err)
	require.Len(t, out, 1)
	assert.Equal(t, 64, out[0].Bounds().Dx())
}
