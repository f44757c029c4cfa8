package neti

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/neti/internal/safetensors"
)

// exportConcept is a small random concept with a placeholder.
func exportConcept(t *testing.T) *Concept {
	t.Helper()
	c, err := NewConcept(smallConfig(8))
	require.NoError(t, err)
	c.Placeholder, c.SuperCategory, c.BaseModel = "<toy>", "toy", "tiny-sd1"
	return c
}

func TestInferenceTimesteps(t *testing.T) {
	ts := inferenceTimesteps(1000, 50)
	require.Len(t, ts, 50)
	assert.Equal(t, []int{999, 979, 959}, ts[:3])
	assert.Equal(t, []int{519, 500, 480}, ts[24:27], "499.5 rounds to even, as numpy")
	assert.Equal(t, 20, ts[49])
	assert.Equal(t, []int{999, 799, 599, 400, 200}, inferenceTimesteps(1000, 5))
}

// TestExportEmbeddingIsTheMean checks the average against Embed evaluated pair by pair.
func TestExportEmbeddingIsTheMean(t *testing.T) {
	c := exportConcept(t)
	timesteps, layers := []int{999, 500, 20}, []int{0, 7, 15}
	got, err := ExportEmbedding(c, ExportOptions{Timesteps: timesteps, Layers: layers, Truncation: 9})
	require.NoError(t, err)
	want := make([]float64, c.Mapper.TextWidth)
	for _, ts := range timesteps {
		for _, l := range layers {
			w, _, err := c.EmbedTruncated(ts, l, 9)
			require.NoError(t, err)
			for i, v := range w {
				want[i] += float64(v) / 9
			}
		}
	}
	require.Len(t, got, len(want))
	for i := range want {
		assert.InDelta(t, want[i], got[i], 1e-6, "element %d", i)
	}

	full, err := ExportEmbedding(c, ExportOptions{Timesteps: timesteps, Layers: layers})
	require.NoError(t, err)
	assert.NotEqual(t, got, full, "truncation 9 vs the concept's %d", c.Truncation)
	def, err := ExportEmbedding(c, ExportOptions{})
	require.NoError(t, err)
	all, err := ExportEmbedding(c, ExportOptions{Timesteps: inferenceTimesteps(1000, 50),
		Layers: []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, Truncation: c.Truncation})
	require.NoError(t, err)
	assert.Equal(t, all, def, "defaults: 50 DPM timesteps × 16 layers at the concept's truncation")
	assert.NotEqual(t, full, def)
}

// TestExportConstantMapper exports a mapper whose word output is the same vector at every (t, ℓ): the
// export must be that vector (the normalised output bias).
func TestExportConstantMapper(t *testing.T) {
	c := exportConcept(t)
	ws := c.Weights()
	w := tensors.MustCopyFlatData[float32](ws["output_layer.0.weight"])
	clear(w)
	ws["output_layer.0.weight"] = tensors.FromFlatDataAndDimensions(w, ws["output_layer.0.weight"].Shape().Dimensions...)
	require.NoError(t, c.SetWeights(ws))
	bias := tensors.MustCopyFlatData[float32](ws["output_layer.0.bias"])[:c.Mapper.TextWidth]
	got, err := ExportEmbedding(c, ExportOptions{})
	require.NoError(t, err)
	n := norm(bias)
	for i, b := range bias {
		assert.InDelta(t, float64(b)/n*c.Mapper.TargetNorm, got[i], 1e-6, "element %d", i)
	}
}

// TestExportFormats round-trips both file layouts through internal/safetensors.
func TestExportFormats(t *testing.T) {
	c := exportConcept(t)
	vec, err := ExportEmbedding(c, ExportOptions{Steps: 10})
	require.NoError(t, err)
	for _, tc := range []struct {
		format ExportFormat
		tensor string
		dims   []int
	}{
		{FormatDiffusers, "<toy>", []int{32}},
		{FormatA1111, "emb_params", []int{1, 32}},
	} {
		t.Run(string(tc.format), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "toy.safetensors")
			require.NoError(t, ExportConcept(path, c, ExportOptions{Format: tc.format, Steps: 10}))
			f, err := safetensors.Open(path)
			require.NoError(t, err)
			defer f.Close()
			assert.Equal(t, []string{tc.tensor}, f.Names(), "a single tensor, as both loaders expect")
			got, err := f.Tensor(tc.tensor, dtypes.Float32)
			require.NoError(t, err)
			assert.Equal(t, tc.dims, got.Shape().Dimensions)
			assert.Equal(t, vec, tensors.MustCopyFlatData[float32](got))
			md := f.Metadata()
			assert.Equal(t, "<toy>", md["name"])
			assert.Equal(t, "toy", md["super_category"])
			assert.Equal(t, "32", md["truncation"])
			assert.Equal(t, "999,899,799,699,599,500,400,300,200,100", md["timesteps"])
		})
	}
}

func TestExportErrors(t *testing.T) {
	c := exportConcept(t)
	for name, tc := range map[string]struct {
		opts ExportOptions
		want string
	}{
		"format":     {ExportOptions{Format: "ckpt"}, `Format is "ckpt"`},
		"timestep":   {ExportOptions{Timesteps: []int{1000}}, "Timesteps has 1000"},
		"layer":      {ExportOptions{Layers: []int{16}}, "Layers has 16"},
		"truncation": {ExportOptions{Truncation: 33}, "Truncation is 33"},
		"steps":      {ExportOptions{Steps: 1001}, "Steps is 1001"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ExportEmbedding(c, tc.opts)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			err = ExportConcept(filepath.Join(t.TempDir(), "x.safetensors"), c, tc.opts)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestExportKeepsEarlierFile: exporting twice to one path keeps the first file as path.prev1, byte for byte,
// and the new file replaces it (here another format, so the contents differ).
func TestExportKeepsEarlierFile(t *testing.T) {
	c := exportConcept(t)
	path := filepath.Join(t.TempDir(), "toy.safetensors")
	require.NoError(t, ExportConcept(path, c, ExportOptions{Format: FormatDiffusers, Steps: 10}))
	first, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, ExportConcept(path, c, ExportOptions{Format: FormatA1111, Steps: 10}))
	kept, err := os.ReadFile(path + ".prev1")
	require.NoError(t, err, "the first export is kept")
	assert.Equal(t, first, kept)
	second, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.NotEqual(t, first, second, "the new export replaced it")
}
