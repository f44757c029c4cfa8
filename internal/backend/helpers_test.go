package backend

import (
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/stretchr/testify/require"
)

// newCPU returns the adapted CPU backend, as tests of other packages get it.
func newCPU(t testing.TB) backends.Backend {
	t.Helper()
	b, err := New(CPUName)
	require.NoError(t, err, "New(%q)", CPUName)
	return b
}

// newPlainSimpleGo returns SimpleGo without the adapter.
func newPlainSimpleGo(t testing.TB) backends.Backend {
	t.Helper()
	b, err := simplego.New("")
	require.NoError(t, err, "simplego.New")
	return b
}

// randomFlat returns n values uniform in [-1, 1) from a fixed seed.
func randomFlat(seed uint64, n int) []float64 {
	rng := rand.New(rand.NewPCG(seed, 7))
	out := make([]float64, n)
	for i := range out {
		out[i] = 2*rng.Float64() - 1
	}
	return out
}

// size is the product of dims.
func size(dims []int) int {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return n
}

// strides returns the row-major strides of dims.
func strides(dims []int) []int {
	s := make([]int, len(dims))
	acc := 1
	for i := len(dims) - 1; i >= 0; i-- {
		s[i] = acc
		acc *= dims[i]
	}
	return s
}

// flatOf copies a float64 tensor's values.
func flatOf(t testing.TB, x *tensors.Tensor) []float64 {
	t.Helper()
	flat, err := tensors.CopyFlatData[float64](x)
	require.NoError(t, err, "reading tensor %s", x.Shape())
	return flat
}

// flatOf32 copies a float32 tensor's values.
func flatOf32(t testing.TB, x *tensors.Tensor) []float32 {
	t.Helper()
	flat, err := tensors.CopyFlatData[float32](x)
	require.NoError(t, err, "reading tensor %s", x.Shape())
	return flat
}

// maxAbsDiff returns max |a_i - b_i| and its index; a and b must have the same length.
func maxAbsDiff(a, b []float64) (float64, int) {
	worst, at := 0.0, -1
	for i := range a {
		d := a[i] - b[i]
		if d < 0 {
			d = -d
		}
		if d > worst || at < 0 {
			worst, at = d, i
		}
	}
	return worst, at
}
