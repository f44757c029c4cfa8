package backend

import (
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// Speed, not correctness: SimpleGo v0.26.0 runs element-wise binary ops whose operands differ in shape
// (other than a size-1 operand), and BroadcastInDim of a non-scalar, through a per-element broadcast
// iterator; in a UNet training step that is about half of the CPU time. The adapter materialises the
// broadcast operand with block copies (Concatenate of doubling copies along each broadcast axis, which
// SimpleGo runs as memmoves) and then calls the inner op with equal shapes, which takes its flat loop.
// Values are only moved, so results are bit-identical to the inner op's. (An outer product with ones
// through DotGeneral, with a size-1 contracting axis, measured 8-20x slower than these copies on
// BenchmarkBroadcastOps.)

// fastBroadcast enables the rewrites of this file and of op_reduce.go; tests turn it off to compare.
var fastBroadcast = true

// fastDType reports whether the rewrites apply to dtype: floating point only; integers and bool are left
// to SimpleGo (they are rare and small in neti's graphs).
func fastDType(dtype dtypes.DType) bool {
	return dtype == dtypes.Float32 || dtype == dtypes.Float64 || dtype == dtypes.BFloat16
}

// broadcastOperands returns lhs and rhs materialised to their common (output) shape when exactly one
// differs from it by size-1 axes of the same rank, so the inner op runs without its broadcast iterator.
// It returns them unchanged when that does not apply (equal shapes, a size-1 operand, which SimpleGo
// handles fast, different ranks, non-float dtypes).
func (b *builder) broadcastOperands(lhs, rhs backends.Op) (backends.Op, backends.Op, error) {
	if !fastBroadcast {
		return lhs, rhs, nil
	}
	ls, err := b.OpShape(lhs)
	if err != nil {
		return nil, nil, err
	}
	rs, err := b.OpShape(rhs)
	if err != nil {
		return nil, nil, err
	}
	if ls.Equal(rs) || ls.Rank() != rs.Rank() || ls.DType != rs.DType || !fastDType(ls.DType) ||
		ls.Size() <= 1 || rs.Size() <= 1 {
		return lhs, rhs, nil
	}
	out := make([]int, ls.Rank())
	for i := range out {
		l, r := ls.Dimensions[i], rs.Dimensions[i]
		switch {
		case l == r, r == 1:
			out[i] = l
		case l == 1:
			out[i] = r
		default:
			return lhs, rhs, nil // Incompatible: let the inner op report it.
		}
	}
	if product(out) < minRewriteSize {
		return lhs, rhs, nil
	}
	if _, _, ok := collapseBroadcast(ls.Dimensions, out); !ok {
		return lhs, rhs, nil
	}
	if _, _, ok := collapseBroadcast(rs.Dimensions, out); !ok {
		return lhs, rhs, nil
	}
	if lhs, err = b.materialize(lhs, ls, out); err != nil {
		return nil, nil, err
	}
	if rhs, err = b.materialize(rhs, rs, out); err != nil {
		return nil, nil, err
	}
	return lhs, rhs, nil
}

// minRepeatBlock is the fewest output elements per copied outer block (a broadcast run's size times the
// kept size after it) for which materialising with Concatenate beats SimpleGo's broadcast iterator: below
// it the memmoves are too small (softmax's [B, H, L, 1] → [B, H, L, L] with a short L, say).
// A variable so tests can exercise the rewrite on tiny shapes.
var minRepeatBlock = 64

// minRewriteSize is the fewest output elements for which the broadcast and sum rewrites are used: on
// smaller tensors the extra ops (copies, reshapes, the ones) cost more than SimpleGo's iterators. A
// variable so tests can exercise the rewrites on tiny shapes.
var minRewriteSize = 1 << 14

// collapseBroadcast returns the dims of x (shaped xDims, each equal to outDims' or 1) and of the output
// with runs of kept axes and runs of broadcast axes each collapsed into one axis (size-1 output axes
// dropped), and whether materialize should be used: every broadcast run times the kept size after it is
// at least minRepeatBlock.
func collapseBroadcast(xDims, outDims []int) (xRuns, outRuns []int, ok bool) {
	lastBroadcast := -1 // -1 before any axis, 0 kept run, 1 broadcast run.
	for i, d := range outDims {
		if d == 1 {
			continue
		}
		bcast := 0
		if xDims[i] == 1 {
			bcast = 1
		}
		if bcast == lastBroadcast {
			n := len(outRuns) - 1
			outRuns[n] *= d
			xRuns[n] *= xDims[i]
			continue
		}
		lastBroadcast = bcast
		outRuns = append(outRuns, d)
		xRuns = append(xRuns, xDims[i])
	}
	for axis := range outRuns {
		if xRuns[axis] != outRuns[axis] && outRuns[axis]*product(outRuns[axis+1:]) < minRepeatBlock {
			return xRuns, outRuns, false
		}
	}
	return xRuns, outRuns, true
}

// materialize returns x (shaped xShape, same rank as outDims, each dimension equal to outDims' or 1)
// broadcast to outDims with block copies: x is reshaped to its collapsed runs (see collapseBroadcast),
// every broadcast run is expanded by Concatenate of doubling copies, and the result is reshaped to
// outDims. The caller checked collapseBroadcast's ok.
func (b *builder) materialize(x backends.Op, xShape shapes.Shape, outDims []int) (backends.Op, error) {
	if product(xShape.Dimensions) == product(outDims) {
		return x, nil
	}
	xDims, tDims, _ := collapseBroadcast(xShape.Dimensions, outDims)
	y, err := b.Reshape(x, xDims...)
	if err != nil {
		return nil, err
	}
	for axis := range tDims {
		if xDims[axis] == tDims[axis] {
			continue
		}
		if y, err = b.repeatAxis(y, axis, tDims[axis]); err != nil {
			return nil, err
		}
	}
	return b.Reshape(y, outDims...)
}

// repeatAxis repeats x (size 1 on axis) n times along axis: Concatenate of doubling copies
// (x, xx, xxxx, ...) and one Concatenate of those whose bits are set in n.
func (b *builder) repeatAxis(x backends.Op, axis, n int) (backends.Op, error) {
	var parts []backends.Op
	power := x
	for bit := 1; ; bit <<= 1 {
		if n&bit != 0 {
			parts = append(parts, power)
		}
		if bit<<1 > n {
			break
		}
		var err error
		if power, err = b.Concatenate(axis, power, power); err != nil {
			return nil, err
		}
	}
	if len(parts) == 1 {
		return parts[0], nil
	}
	return b.Concatenate(axis, parts...)
}

// BroadcastInDim forwards to SimpleGo, except for a float non-scalar operand whose axes keep their order
// (broadcastAxes increasing), which is reshaped to the output rank and materialised with block copies.
func (b *builder) BroadcastInDim(x backends.Op, outputShape shapes.Shape, broadcastAxes []int) (backends.Op, error) {
	if !fastBroadcast {
		return b.Builder.BroadcastInDim(x, outputShape, broadcastAxes)
	}
	xShape, err := b.OpShape(x)
	if err != nil {
		return nil, err
	}
	ok := fastDType(xShape.DType) && xShape.DType == outputShape.DType && xShape.Size() > 1 &&
		outputShape.Size() >= minRewriteSize &&
		len(broadcastAxes) == xShape.Rank() && xShape.Rank() <= outputShape.Rank()
	for i, axis := range broadcastAxes {
		if !ok {
			break
		}
		ok = axis >= 0 && axis < outputShape.Rank() && (i == 0 || axis > broadcastAxes[i-1]) &&
			(xShape.Dimensions[i] == 1 || xShape.Dimensions[i] == outputShape.Dimensions[axis])
	}
	var dims []int // x's dims at the output axes, 1 elsewhere.
	if ok {
		dims = make([]int, outputShape.Rank())
		for i := range dims {
			dims[i] = 1
		}
		for i, axis := range broadcastAxes {
			dims[axis] = xShape.Dimensions[i]
		}
		_, _, ok = collapseBroadcast(dims, outputShape.Dimensions)
	}
	if !ok {
		return b.Builder.BroadcastInDim(x, outputShape, broadcastAxes)
	}
	y, err := b.Reshape(x, dims...)
	if err != nil {
		return nil, err
	}
	return b.materialize(y, shapes.Make(xShape.DType, dims...), outputShape.Dimensions)
}

// Add forwards to SimpleGo with broadcast operands materialised (see broadcastOperands).
func (b *builder) Add(lhs, rhs backends.Op) (backends.Op, error) {
	lhs, rhs, err := b.broadcastOperands(lhs, rhs)
	if err != nil {
		return nil, err
	}
	return b.Builder.Add(lhs, rhs)
}

// Sub forwards to SimpleGo with broadcast operands materialised (see broadcastOperands).
func (b *builder) Sub(lhs, rhs backends.Op) (backends.Op, error) {
	lhs, rhs, err := b.broadcastOperands(lhs, rhs)
	if err != nil {
		return nil, err
	}
	return b.Builder.Sub(lhs, rhs)
}

// Mul forwards to SimpleGo with broadcast operands materialised (see broadcastOperands).
func (b *builder) Mul(lhs, rhs backends.Op) (backends.Op, error) {
	lhs, rhs, err := b.broadcastOperands(lhs, rhs)
	if err != nil {
		return nil, err
	}
	return b.Builder.Mul(lhs, rhs)
}

// Div forwards to SimpleGo with broadcast operands materialised (see broadcastOperands).
func (b *builder) Div(lhs, rhs backends.Op) (backends.Op, error) {
	lhs, rhs, err := b.broadcastOperands(lhs, rhs)
	if err != nil {
		return nil, err
	}
	return b.Builder.Div(lhs, rhs)
}

// Max forwards to SimpleGo with broadcast operands materialised (see broadcastOperands).
func (b *builder) Max(lhs, rhs backends.Op) (backends.Op, error) {
	lhs, rhs, err := b.broadcastOperands(lhs, rhs)
	if err != nil {
		return nil, err
	}
	return b.Builder.Max(lhs, rhs)
}

// Min forwards to SimpleGo with broadcast operands materialised (see broadcastOperands).
func (b *builder) Min(lhs, rhs backends.Op) (backends.Op, error) {
	lhs, rhs, err := b.broadcastOperands(lhs, rhs)
	if err != nil {
		return nil, err
	}
	return b.Builder.Min(lhs, rhs)
}

// Pow forwards to SimpleGo with broadcast operands materialised (see broadcastOperands).
func (b *builder) Pow(lhs, rhs backends.Op) (backends.Op, error) {
	lhs, rhs, err := b.broadcastOperands(lhs, rhs)
	if err != nil {
		return nil, err
	}
	return b.Builder.Pow(lhs, rhs)
}
