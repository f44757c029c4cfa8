// Package tensortest holds test helpers shared by the neti packages: tolerance comparison of tensors
// (AllClose) and loading of safetensors fixtures (LoadFixture).
//
// It is imported only by _test.go files.
package tensortest

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes/bfloat16"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/stretchr/testify/assert"
	"github.com/x448/float16"
)

// AllClose checks that want and got have the same dimensions and that max |want - got| <= atol, elementwise.
// On success it logs the measured max |Δ| (visible with go test -v), so parity margins can be reported.
//
// The dtypes may differ (e.g. a float16 result against a float32 reference): values are compared as float64.
// Two NaNs at the same position are equal; a NaN against a number, or infinities of different sign, count as
// |Δ| = +Inf. On failure it reports (with t.Errorf, through testify) the dimensions and dtypes, max |Δ|, the worst
// flat index and its multi-dimensional index, and the two values there. It returns whether the check passed.
func AllClose(t testing.TB, want, got *tensors.Tensor, atol float64, msgAndArgs ...any) bool {
	t.Helper()
	if want == nil || got == nil {
		return assert.Fail(t, fmt.Sprintf("AllClose: nil tensor (want=%v, got=%v)", want != nil, got != nil),
			msgAndArgs...)
	}
	wantDims, gotDims := want.Shape().Dimensions, got.Shape().Dimensions
	if !slices.Equal(wantDims, gotDims) {
		return assert.Fail(t, fmt.Sprintf("AllClose: shapes differ: want %s, got %s", want.Shape(), got.Shape()),
			msgAndArgs...)
	}
	wantFlat, err := Float64s(want)
	if err != nil {
		return assert.Fail(t, "AllClose: want: "+err.Error(), msgAndArgs...)
	}
	gotFlat, err := Float64s(got)
	if err != nil {
		return assert.Fail(t, "AllClose: got: "+err.Error(), msgAndArgs...)
	}
	worst, maxDelta := maxAbsDiff(wantFlat, gotFlat)
	if maxDelta <= atol {
		t.Logf("AllClose %s: max |Δ| = %.3g (atol %.3g)", describe(msgAndArgs), maxDelta, atol)
		return true
	}
	msg := fmt.Sprintf("AllClose: max |Δ| = %.6g > atol %.3g; shape want %s, got %s; worst at flat index %d = %v: "+
		"want %.8g, got %.8g", maxDelta, atol, want.Shape(), got.Shape(), worst, MultiIndex(wantDims, worst),
		wantFlat[worst], gotFlat[worst])
	return assert.Fail(t, msg, msgAndArgs...)
}

// AllCloseFloats is AllClose for flat float32 slices: it checks the lengths match and max |want - got| <= atol.
// On failure it reports the length, max |Δ|, the worst index and the values there.
func AllCloseFloats(t testing.TB, want, got []float32, atol float64, msgAndArgs ...any) bool {
	t.Helper()
	if len(want) != len(got) {
		return assert.Fail(t, fmt.Sprintf("AllCloseFloats: lengths differ: want %d, got %d", len(want), len(got)),
			msgAndArgs...)
	}
	w := make([]float64, len(want))
	g := make([]float64, len(got))
	for i := range want {
		w[i], g[i] = float64(want[i]), float64(got[i])
	}
	worst, maxDelta := maxAbsDiff(w, g)
	if maxDelta <= atol {
		t.Logf("AllCloseFloats %s: max |Δ| = %.3g (atol %.3g)", describe(msgAndArgs), maxDelta, atol)
		return true
	}
	msg := fmt.Sprintf("AllCloseFloats: max |Δ| = %.6g > atol %.3g; length %d; worst at index %d: want %.8g, got %.8g",
		maxDelta, atol, len(want), worst, w[worst], g[worst])
	return assert.Fail(t, msg, msgAndArgs...)
}

// describe renders testify-style msgAndArgs (a message, or a format and its arguments) for logs.
func describe(msgAndArgs []any) string {
	if len(msgAndArgs) == 0 {
		return ""
	}
	if format, ok := msgAndArgs[0].(string); ok {
		return fmt.Sprintf(format, msgAndArgs[1:]...)
	}
	return fmt.Sprint(msgAndArgs...)
}

// maxAbsDiff returns the index and value of the largest |want[i] - got[i]| (NaN handling as in AllClose).
// For empty inputs it returns (0, 0).
func maxAbsDiff(want, got []float64) (worst int, maxDelta float64) {
	for i := range want {
		d := absDiff(want[i], got[i])
		if d > maxDelta {
			worst, maxDelta = i, d
		}
	}
	return worst, maxDelta
}

// absDiff is |a - b|, with NaN == NaN, Inf == Inf of the same sign, and +Inf for any other NaN/Inf case.
func absDiff(a, b float64) float64 {
	aNaN, bNaN := math.IsNaN(a), math.IsNaN(b)
	switch {
	case aNaN && bNaN:
		return 0
	case aNaN || bNaN:
		return math.Inf(1)
	case a == b: // Covers equal infinities.
		return 0
	}
	d := math.Abs(a - b)
	if math.IsNaN(d) {
		return math.Inf(1)
	}
	return d
}

// MultiIndex converts a row-major flat index into the index along each axis of dims, e.g. dims [2, 3] and
// flat 4 give [1, 1].
func MultiIndex(dims []int, flat int) []int {
	idx := make([]int, len(dims))
	for axis := len(dims) - 1; axis >= 0; axis-- {
		if dims[axis] == 0 {
			return idx
		}
		idx[axis] = flat % dims[axis]
		flat /= dims[axis]
	}
	return idx
}

// Float64s returns a copy of the tensor's values as float64, for any float, integer or bool dtype.
func Float64s(t *tensors.Tensor) ([]float64, error) {
	var out []float64
	var convErr error
	err := t.ConstFlatData(func(flat any) {
		out, convErr = toFloat64s(flat)
	})
	if err != nil {
		return nil, err
	}
	return out, convErr
}

// toFloat64s converts a flat slice of any supported element type.
func toFloat64s(flat any) ([]float64, error) {
	switch f := flat.(type) {
	case []float32:
		return convert(f, func(v float32) float64 { return float64(v) }), nil
	case []float64:
		return slices.Clone(f), nil
	case []float16.Float16:
		return convert(f, func(v float16.Float16) float64 { return float64(v.Float32()) }), nil
	case []bfloat16.BFloat16:
		return convert(f, func(v bfloat16.BFloat16) float64 { return float64(v.Float32()) }), nil
	case []int8:
		return convert(f, func(v int8) float64 { return float64(v) }), nil
	case []int16:
		return convert(f, func(v int16) float64 { return float64(v) }), nil
	case []int32:
		return convert(f, func(v int32) float64 { return float64(v) }), nil
	case []int64:
		return convert(f, func(v int64) float64 { return float64(v) }), nil
	case []uint8:
		return convert(f, func(v uint8) float64 { return float64(v) }), nil
	case []uint16:
		return convert(f, func(v uint16) float64 { return float64(v) }), nil
	case []uint32:
		return convert(f, func(v uint32) float64 { return float64(v) }), nil
	case []uint64:
		return convert(f, func(v uint64) float64 { return float64(v) }), nil
	case []bool:
		return convert(f, func(v bool) float64 {
			if v {
				return 1
			}
			return 0
		}), nil
	}
	return nil, fmt.Errorf("unsupported element type %T", flat)
}

// convert maps fn over a slice.
func convert[T any](in []T, fn func(T) float64) []float64 {
	out := make([]float64, len(in))
	for i, v := range in {
		out[i] = fn(v)
	}
	return out
}

// MaxDelta returns max |want − got| over the elements of two same-sized tensors of any float dtypes (NaN
// handling as in AllClose), failing the test if they cannot be read or differ in size.
func MaxDelta(t testing.TB, want, got *tensors.Tensor) float64 {
	t.Helper()
	w, err := Float64s(want)
	if err != nil {
		t.Fatalf("MaxDelta: want: %v", err)
	}
	g, err := Float64s(got)
	if err != nil {
		t.Fatalf("MaxDelta: got: %v", err)
	}
	if len(w) != len(g) {
		t.Fatalf("MaxDelta: want has %d values, got %d", len(w), len(g))
	}
	_, d := maxAbsDiff(w, g)
	return d
}

// MaxDeltaFloats is MaxDelta for flat float32 slices of the same length.
func MaxDeltaFloats(want, got []float32) float64 {
	m := 0.0
	for i := range want {
		m = max(m, absDiff(float64(want[i]), float64(got[i])))
	}
	return m
}
