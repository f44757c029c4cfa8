package tensortest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/org/neti/internal/safetensors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/x448/float16"
)

func TestLoadFixtureKeepsDTypes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fixture.safetensors")
	half := tensors.FromShape(shapes.Make(dtypes.Float16, 2))
	tensors.MustMutableFlatData(half, func(flat []float16.Float16) {
		flat[0], flat[1] = float16.Fromfloat32(0.5), float16.Fromfloat32(-2)
	})
	want := map[string]*tensors.Tensor{
		"latents":   tensors.FromValue([][]float32{{0.25, -1}, {3, 4.5}}),
		"input_ids": tensors.FromValue([][]int64{{49406, 1125, 49407}}),
		"mask":      tensors.FromValue([]int32{1, 1, 0}),
		"half":      half,
	}
	meta := map[string]string{"model": "tiny-unet", "seed": "0"}
	require.NoError(t, safetensors.Write(path, want, meta))

	got, gotMeta := LoadFixture(t, path)
	assert.Equal(t, meta, gotMeta)
	require.Len(t, got, len(want))
	for name, w := range want {
		g := got[name]
		require.NotNil(t, g, name)
		assert.Equal(t, w.DType(), g.DType(), "%s keeps its dtype", name)
		assert.True(t, w.Equal(g), "%s: want %s, got %s", name, w, g)
	}
	AllClose(t, want["latents"], got["latents"], 0)
}

func TestLoadFixtureFailsTheTest(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.safetensors")
	reached := false
	r := run(t, func(tb testing.TB) {
		LoadFixture(tb, missing)
		reached = true
	})
	assert.True(t, r.failed)
	assert.False(t, reached, "LoadFixture must stop the test on error")
	assert.Contains(t, r.text(), "missing.safetensors")

	corrupt := filepath.Join(dir, "corrupt.safetensors")
	require.NoError(t, os.WriteFile(corrupt, []byte("not a safetensors file"), 0o644))
	r = run(t, func(tb testing.TB) { LoadFixture(tb, corrupt) })
	assert.True(t, r.failed)
	assert.Contains(t, r.text(), "header length")
}
