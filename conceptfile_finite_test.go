package neti

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/neti/internal/safetensors"
)

// tinyConcept is a valid concept small enough for fuzz seeds (width 4, 4 hidden units, 4 frequencies).
func tinyConcept(t testing.TB) *Concept {
	t.Helper()
	cfg := smallConfig(1)
	cfg.NumFourier, cfg.Hidden, cfg.TextWidth = 4, 4, 4
	c, err := NewConcept(cfg)
	require.NoError(t, err)
	c.Placeholder, c.Truncation = "<tiny>", 4
	return c
}

// poisoned returns c's weights with value v written at index i of tensor name.
func poisoned(t testing.TB, c *Concept, name string, i int, v float32) map[string]*tensors.Tensor {
	t.Helper()
	ts := c.Weights()
	require.Contains(t, ts, name)
	values := tensors.MustCopyFlatData[float32](ts[name])
	values[i] = v
	ts[name] = tensors.FromFlatDataAndDimensions(values, ts[name].Shape().Dimensions...)
	return ts
}

// TestConceptNonFiniteRejected: a concept whose tensors hold NaN or ±Inf is refused on save (the previous
// file is left as it was) and on load (a file written around SaveConcept), with an error naming the tensor,
// where the bad value is, and what to do; Embed refuses it too.
func TestConceptNonFiniteRejected(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		tensor string
		index  int
		value  float32
		want   string
	}{
		{"net.0.weight", 3, float32(math.NaN()), "tensor net.0.weight holds 1 non-finite values of %d (the first, at index 3, is NaN)"},
		{"output_layer.0.bias", 2, float32(math.Inf(1)), "tensor output_layer.0.bias holds 1 non-finite values of %d (the first, at index 2, is +Inf)"},
		{EncoderWeightName, 0, float32(math.Inf(-1)), "tensor encoder.w holds 1 non-finite values of %d (the first, at index 0, is -Inf)"},
	} {
		good := tinyConcept(t)
		tc.want = fmt.Sprintf(tc.want, good.Weights()[tc.tensor].Shape().Size())
		path := filepath.Join(dir, tc.tensor+".safetensors")
		require.NoError(t, SaveConcept(path, good))
		before, err := os.ReadFile(path)
		require.NoError(t, err)

		bad := tinyConcept(t)
		require.NoError(t, bad.SetWeights(poisoned(t, bad, tc.tensor, tc.index, tc.value)))
		err = SaveConcept(path, bad)
		require.Error(t, err, tc.tensor)
		assert.Contains(t, err.Error(), "save concept "+path, tc.tensor)
		assert.Contains(t, err.Error(), tc.want)
		assert.Contains(t, err.Error(), "--learning_rate")
		after, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, before, after, "%s: the refused save leaves the file as it was", tc.tensor)
		assert.NoFileExists(t, path+".prev1", "%s: nothing was moved aside", tc.tensor)

		_, _, err = bad.Embed(0, 0)
		assert.ErrorContains(t, err, tc.want, "Embed refuses the concept too")

		// The same weights written directly, as a damaged file would hold them.
		f, err := safetensors.Open(path)
		require.NoError(t, err)
		meta := f.Metadata()
		require.NoError(t, f.Close())
		damaged := filepath.Join(dir, "damaged.safetensors")
		require.NoError(t, safetensors.Write(damaged, poisoned(t, good, tc.tensor, tc.index, tc.value), meta))
		_, err = LoadConcept(damaged)
		require.Error(t, err, tc.tensor)
		assert.Contains(t, err.Error(), "load concept "+damaged)
		assert.Contains(t, err.Error(), tc.want)
	}
}

// TestConceptNonFiniteSeveral: with several damaged tensors the error names the first by name and lists
// the others.
func TestConceptNonFiniteSeveral(t *testing.T) {
	c := tinyConcept(t)
	ts := poisoned(t, c, "net.2.bias", 0, float32(math.NaN()))
	for _, name := range []string{"output_layer.0.weight", "net.0.bias"} {
		values := tensors.MustCopyFlatData[float32](ts[name])
		for i := range values {
			values[i] = float32(math.Inf(1))
		}
		ts[name] = tensors.FromFlatDataAndDimensions(values, ts[name].Shape().Dimensions...)
	}
	require.NoError(t, c.SetWeights(ts))
	err := c.Validate()
	require.Error(t, err)
	n := ts["net.0.bias"].Shape().Size()
	assert.Contains(t, err.Error(), fmt.Sprintf("tensor net.0.bias holds %d non-finite values of %d (the first, at index 0, is +Inf)", n, n))
	assert.Contains(t, err.Error(), "and 2 more tensors do (net.2.bias, output_layer.0.weight)")
}
