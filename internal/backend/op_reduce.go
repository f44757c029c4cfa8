package backend

import (
	"reflect"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// ReduceSum forwards to SimpleGo, except for float32/float64 sums whose reduced axes (ignoring size-1
// axes) end with the last axis: that trailing run is summed as a DotGeneral of x reshaped to [M, K] with
// ones[K] (K the run's size) into [M], and any reduced axes before it are then summed by SimpleGo on the
// K-times smaller result. SimpleGo's own ReduceSum walks a per-element output iterator. The sums are the
// same up to floating-point summation order.
func (b *builder) ReduceSum(x backends.Op, axes ...int) (backends.Op, error) {
	if !fastBroadcast {
		return b.Builder.ReduceSum(x, axes...)
	}
	shape, err := b.OpShape(x)
	if err != nil {
		return nil, err
	}
	if (shape.DType != dtypes.Float32 && shape.DType != dtypes.Float64) || len(axes) == 0 || shape.Size() < minRewriteSize {
		return b.Builder.ReduceSum(x, axes...)
	}
	reduced := make([]bool, shape.Rank())
	for _, a := range axes {
		if a < 0 || a >= shape.Rank() || reduced[a] {
			return b.Builder.ReduceSum(x, axes...) // Let SimpleGo report the error.
		}
		reduced[a] = true
	}
	// The last run of reduced axes: [first, end), extended over size-1 axes; every axis in it reduced
	// or of size 1 (a kept size-1 axis inside the run is left where it is, in the result).
	end := shape.Rank()
	for end > 0 && !reduced[end-1] {
		end--
	}
	first := end
	for first > 0 && (reduced[first-1] || shape.Dimensions[first-1] == 1) {
		first--
	}
	m1, k, m2 := product(shape.Dimensions[:first]), product(shape.Dimensions[first:end]),
		product(shape.Dimensions[end:])
	// The result of summing the run: x's dims without the run's reduced axes; the remaining reduced
	// axes renumbered.
	var runOut, rest []int
	for i, d := range shape.Dimensions {
		switch {
		case i >= first && i < end && reduced[i]:
		case reduced[i]:
			rest = append(rest, len(runOut))
			runOut = append(runOut, d)
		default:
			runOut = append(runOut, d)
		}
	}
	var y backends.Op
	switch {
	case k == 1: // Only size-1 axes in the run.
		y = x
	case m2 == 1: // Trailing run.
		p, ok := sumBatches(m1, 1)
		if !ok {
			return b.Builder.ReduceSum(x, axes...)
		}
		if y, err = b.sumRun(x, m1, k, 1, p, shape.DType); err != nil {
			return nil, err
		}
	default:
		// A run with kept axes after it: SimpleGo's DotGeneral either copies x through a per-element
		// transpose (x [m1, k, m2], no batch) or pays per-batch-element overhead (batch m1), both
		// measured slower than its ReduceSum (BenchmarkBroadcastOps/SumLead).
		return b.Builder.ReduceSum(x, axes...)
	}
	if y, err = b.Reshape(y, runOut...); err != nil {
		return nil, err
	}
	if len(rest) == 0 {
		return y, nil
	}
	return b.ReduceSum(y, rest...)
}

// sumRun sums x (of m1·k·m2 elements, row-major [m1, k, m2]) over its k axis: DotGeneral of
// x [p, m1/p, k, m2] and ones [p, k] with batch axis p (see sumBatches) and contracting axis k →
// [m1, m2].
func (b *builder) sumRun(x backends.Op, m1, k, m2, p int, dtype dtypes.DType) (backends.Op, error) {
	// Axes of size 1 are left out: SimpleGo copies operands not already laid out as [batch, cross,
	// contracting] through its per-element transpose.
	var xDims, onesDims, batch []int
	if p > 1 {
		xDims, onesDims, batch = append(xDims, p), append(onesDims, p), []int{0}
	}
	if m1/p > 1 {
		xDims = append(xDims, m1/p)
	}
	contracting := len(xDims)
	xDims, onesDims = append(xDims, k), append(onesDims, k)
	if m2 > 1 {
		xDims = append(xDims, m2)
	}
	y, err := b.Reshape(x, xDims...)
	if err != nil {
		return nil, err
	}
	ones, err := b.ones(dtype, onesDims...)
	if err != nil {
		return nil, err
	}
	// [p, m1/p, m2] without its size-1 axes.
	if y, err = b.DotGeneral(ones, []int{len(onesDims) - 1}, batch, y, []int{contracting}, batch); err != nil {
		return nil, err
	}
	return b.Reshape(y, m1, m2)
}

// maxSumCross bounds the cross size (output elements per batch element) of sumRun's DotGeneral so that
// SimpleGo takes its direct kernel: above 16 blocks (16·64² in float32, 16·32² in float64) it takes its
// blocked kernel, which pads the size-1 cross axis of the ones to a whole block and runs slower than
// SimpleGo's ReduceSum; one batch element per output row instead is slower too (per-element overhead).
const maxSumCross = 16 * 32 * 32

// sumBatches returns the number p of batch elements sumRun splits [m1, k, m2] into: the smallest divisor
// of m1 with (m1/p)·m2 ≤ maxSumCross; ok=false when there is none.
func sumBatches(m1, m2 int) (p int, ok bool) {
	if m2 > maxSumCross {
		return 0, false
	}
	for p = max(1, m1*m2/maxSumCross); p <= m1; p++ {
		if m1%p == 0 && (m1/p)*m2 <= maxSumCross {
			return p, true
		}
	}
	return 0, false
}

// ones returns ones shaped dims of dtype (float32 or float64: a Go conversion of 1.0 to bfloat16's
// uint16 would not give one), filled at run time from a scalar constant.
func (b *builder) ones(dtype dtypes.DType, dims ...int) (backends.Op, error) {
	flat := reflect.MakeSlice(reflect.SliceOf(dtype.GoType()), 1, 1)
	flat.Index(0).Set(reflect.ValueOf(1.0).Convert(dtype.GoType()))
	one, err := b.Constant(flat.Interface())
	if err != nil {
		return nil, err
	}
	return b.Builder.BroadcastInDim(one, shapes.Make(dtype, dims...), nil)
}
