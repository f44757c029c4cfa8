package tensortest

import (
	"fmt"
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/x448/float16"
)

// recorder is a testing.TB that records failures instead of failing the real test.
// FailNow stops the calling goroutine, so code under test must run through run().
type recorder struct {
	testing.TB
	failed bool
	msgs   []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.failed = true
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	r.FailNow()
}

func (r *recorder) Fail()        { r.failed = true }
func (r *recorder) Failed() bool { return r.failed }
func (r *recorder) FailNow() {
	r.failed = true
	runtime.Goexit()
}

// run calls fn with a fresh recorder in its own goroutine (so FailNow can stop it) and returns the recorder.
func run(t *testing.T, fn func(tb testing.TB)) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(r)
	}()
	<-done
	return r
}

func (r *recorder) text() string { return strings.Join(r.msgs, "\n") }

func TestAllClosePasses(t *testing.T) {
	want := tensors.FromValue([][]float32{{1, 2, 3}, {4, 5, 6}})
	got := tensors.FromValue([][]float32{{1, 2, 3.00005}, {4, 5, 6}})
	var ok bool
	r := run(t, func(tb testing.TB) { ok = AllClose(tb, want, got, 1e-4) })
	assert.True(t, ok, "messages: %s", r.text())
	assert.False(t, r.failed)
}

func TestAllCloseReportsWorstIndex(t *testing.T) {
	want := tensors.FromValue([][]float32{{1, 2, 3}, {4, 5, 6}})
	got := tensors.FromValue([][]float32{{1, 2.01, 3}, {4, 5.5, 6}})
	var ok bool
	r := run(t, func(tb testing.TB) { ok = AllClose(tb, want, got, 1e-4, "layer %s", "conv_in") })
	assert.False(t, ok)
	require.True(t, r.failed)
	msg := r.text()
	assert.Contains(t, msg, "max |Δ| = 0.5 ")
	assert.Contains(t, msg, "flat index 4 = [1 1]")
	assert.Contains(t, msg, "want 5, got 5.5")
	assert.Contains(t, msg, "(Float32)[2 3]")
	assert.Contains(t, msg, "layer conv_in")
}

func TestAllCloseShapeMismatch(t *testing.T) {
	want := tensors.FromValue([][]float32{{1, 2, 3}, {4, 5, 6}})
	got := tensors.FromValue([][]float32{{1, 2}, {3, 4}, {5, 6}})
	var ok bool
	r := run(t, func(tb testing.TB) { ok = AllClose(tb, want, got, 1) })
	assert.False(t, ok)
	assert.Contains(t, r.text(), "shapes differ")
	assert.Contains(t, r.text(), "[2 3]")
	assert.Contains(t, r.text(), "[3 2]")
}

func TestAllCloseMixedDTypes(t *testing.T) {
	want := tensors.FromValue([]float32{0.5, -1.25, 3})
	got := tensors.FromFlatDataAndDimensions([]float16.Float16{
		float16.Fromfloat32(0.5), float16.Fromfloat32(-1.25), float16.Fromfloat32(3)}, 3)
	r := run(t, func(tb testing.TB) { AllClose(tb, want, got, 0) })
	assert.False(t, r.failed, r.text())

	ints := tensors.FromValue([]int64{1, 2, 4})
	r = run(t, func(tb testing.TB) { AllClose(tb, tensors.FromValue([]int32{1, 2, 3}), ints, 0.5) })
	assert.True(t, r.failed)
	assert.Contains(t, r.text(), "flat index 2 = [2]")
}

func TestAllCloseNaN(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	r := run(t, func(tb testing.TB) {
		AllClose(tb, tensors.FromValue([]float32{nan, inf, 1}), tensors.FromValue([]float32{nan, inf, 1}), 0)
	})
	assert.False(t, r.failed, "NaN==NaN and Inf==Inf at the same positions: %s", r.text())

	r = run(t, func(tb testing.TB) {
		AllClose(tb, tensors.FromValue([]float32{1, 2}), tensors.FromValue([]float32{1, nan}), 1e9)
	})
	assert.True(t, r.failed, "a NaN must fail whatever the tolerance")
	assert.Contains(t, r.text(), "+Inf")

	r = run(t, func(tb testing.TB) {
		AllClose(tb, tensors.FromValue([]float32{inf}), tensors.FromValue([]float32{-inf}), 1e9)
	})
	assert.True(t, r.failed, "opposite infinities must fail")
}

func TestAllCloseScalar(t *testing.T) {
	r := run(t, func(tb testing.TB) { AllClose(tb, tensors.FromScalar(float32(1)), tensors.FromScalar(float32(2)), 0.1) })
	assert.True(t, r.failed)
	assert.Contains(t, r.text(), "flat index 0 = []")
}

func TestAllCloseFloats(t *testing.T) {
	r := run(t, func(tb testing.TB) { AllCloseFloats(tb, []float32{1, 2, 3}, []float32{1, 2, 3.00001}, 1e-4) })
	assert.False(t, r.failed, r.text())

	r = run(t, func(tb testing.TB) { AllCloseFloats(tb, []float32{1, 2, 3}, []float32{1, 2.5, 3}, 1e-4) })
	assert.True(t, r.failed)
	assert.Contains(t, r.text(), "worst at index 1: want 2, got 2.5")

	r = run(t, func(tb testing.TB) { AllCloseFloats(tb, []float32{1, 2, 3}, []float32{1, 2}, 1e-4) })
	assert.True(t, r.failed)
	assert.Contains(t, r.text(), "lengths differ: want 3, got 2")
}

func TestMultiIndex(t *testing.T) {
	for _, tc := range []struct {
		dims []int
		flat int
		want []int
	}{
		{[]int{2, 3}, 4, []int{1, 1}},
		{[]int{2, 3, 4}, 23, []int{1, 2, 3}},
		{[]int{5}, 3, []int{3}},
		{[]int{}, 0, []int{}},
	} {
		assert.Equal(t, tc.want, MultiIndex(tc.dims, tc.flat), "dims %v flat %d", tc.dims, tc.flat)
	}
}
