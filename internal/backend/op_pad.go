package backend

import (
	"fmt"
	"slices"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// Pad pads x with the scalar fill: for each axis, Start values before, End values after and Interior
// values between consecutive elements. Negative Start/End crop instead (XLA semantics). Axes without a
// PadAxis are not padded.
//
// SimpleGo v0.26.0 does not implement it (the gradient of Slice needs it). Per axis it is built as:
// interior padding by reshaping x[..., n, ...] to [..., n, 1, ...], concatenating a fill block
// [..., n, k, ...] on the new axis, reshaping to [..., n*(k+1), ...] and slicing off the last k; then edge
// padding by concatenating fill blocks (BroadcastInDim of the scalar), or a Slice for negative values.
func (b *builder) Pad(x, fill backends.Op, axesConfig ...backends.PadAxis) (backends.Op, error) {
	shape, err := b.OpShape(x)
	if err != nil {
		return nil, fmt.Errorf("Pad: %w", err)
	}
	fillShape, err := b.OpShape(fill)
	if err != nil {
		return nil, fmt.Errorf("Pad: fill value: %w", err)
	}
	if fillShape.Rank() != 0 || fillShape.DType != shape.DType {
		return nil, fmt.Errorf("Pad: fill value shaped %s for x shaped %s: expected a scalar of dtype %s",
			fillShape, shape, shape.DType)
	}
	if len(axesConfig) > shape.Rank() {
		return nil, fmt.Errorf("Pad: %d PadAxis given for x shaped %s: expected at most rank %d",
			len(axesConfig), shape, shape.Rank())
	}
	for axis, cfg := range axesConfig {
		if cfg.Interior < 0 {
			return nil, fmt.Errorf("Pad: axis %d has negative interior padding %d (x shaped %s): expected >= 0",
				axis, cfg.Interior, shape)
		}
		n := shape.Dimensions[axis]
		if n > 0 {
			n += (n - 1) * cfg.Interior
		}
		if n+cfg.Start+cfg.End < 0 {
			return nil, fmt.Errorf("Pad: axis %d of x shaped %s with %+v would have negative size %d: "+
				"expected Start+End >= -%d", axis, shape, cfg, n+cfg.Start+cfg.End, n)
		}
	}
	out := x
	for axis, cfg := range axesConfig {
		if out, err = b.padInterior(out, fill, axis, cfg.Interior); err != nil {
			return nil, fmt.Errorf("Pad: interior padding of axis %d (x shaped %s): %w", axis, shape, err)
		}
		if out, err = b.padEdges(out, fill, axis, cfg.Start, cfg.End); err != nil {
			return nil, fmt.Errorf("Pad: edge padding of axis %d (x shaped %s): %w", axis, shape, err)
		}
	}
	if out == x {
		return b.Identity(x)
	}
	return out, nil
}

// padInterior inserts k fill values between consecutive elements of x along axis.
func (b *builder) padInterior(x, fill backends.Op, axis, k int) (backends.Op, error) {
	shape, err := b.OpShape(x)
	if err != nil {
		return nil, err
	}
	n := shape.Dimensions[axis]
	if k == 0 || n <= 1 {
		return x, nil
	}
	// [..., n, ...] -> [..., n, 1, ...]
	expanded := slices.Insert(slices.Clone(shape.Dimensions), axis+1, 1)
	xe, err := b.Reshape(x, expanded...)
	if err != nil {
		return nil, err
	}
	// [..., n, k, ...] of fill, concatenated after each element.
	blockDims := slices.Clone(expanded)
	blockDims[axis+1] = k
	block, err := b.fillBlock(fill, blockDims)
	if err != nil {
		return nil, err
	}
	joined, err := b.Concatenate(axis+1, xe, block) // [..., n, 1+k, ...]
	if err != nil {
		return nil, err
	}
	flatDims := slices.Clone(shape.Dimensions)
	flatDims[axis] = n * (1 + k)
	flat, err := b.Reshape(joined, flatDims...) // [..., n*(1+k), ...]
	if err != nil {
		return nil, err
	}
	return b.sliceAxis(flat, axis, 0, n*(1+k)-k) // [..., n+(n-1)*k, ...]
}

// padEdges adds start fill values before and end after x along axis; negative values crop instead.
func (b *builder) padEdges(x, fill backends.Op, axis, start, end int) (backends.Op, error) {
	shape, err := b.OpShape(x)
	if err != nil {
		return nil, err
	}
	// Crop first (negative start/end).
	if start < 0 || end < 0 {
		n := shape.Dimensions[axis]
		x, err = b.sliceAxis(x, axis, max(-start, 0), n-max(-end, 0))
		if err != nil {
			return nil, err
		}
		if shape, err = b.OpShape(x); err != nil {
			return nil, err
		}
	}
	parts := make([]backends.Op, 0, 3)
	if start > 0 {
		if parts, err = b.appendFill(parts, fill, shape.Dimensions, axis, start); err != nil {
			return nil, err
		}
	}
	parts = append(parts, x)
	if end > 0 {
		if parts, err = b.appendFill(parts, fill, shape.Dimensions, axis, end); err != nil {
			return nil, err
		}
	}
	if len(parts) == 1 {
		return x, nil
	}
	return b.Concatenate(axis, parts...)
}

// appendFill appends to parts a fill block shaped like dims but with size on axis.
func (b *builder) appendFill(parts []backends.Op, fill backends.Op, dims []int, axis, size int) ([]backends.Op, error) {
	blockDims := slices.Clone(dims)
	blockDims[axis] = size
	block, err := b.fillBlock(fill, blockDims)
	if err != nil {
		return nil, err
	}
	return append(parts, block), nil
}

// sliceAxis returns x[..., from:to, ...] on axis.
func (b *builder) sliceAxis(x backends.Op, axis, from, to int) (backends.Op, error) {
	shape, err := b.OpShape(x)
	if err != nil {
		return nil, err
	}
	if from == 0 && to == shape.Dimensions[axis] {
		return x, nil
	}
	starts := make([]int, shape.Rank())
	limits := slices.Clone(shape.Dimensions)
	strides := make([]int, shape.Rank())
	for i := range strides {
		strides[i] = 1
	}
	starts[axis], limits[axis] = from, to
	return b.Slice(x, starts, limits, strides)
}

// fillBlock broadcasts the scalar fill to dims.
func (b *builder) fillBlock(fill backends.Op, dims []int) (backends.Op, error) {
	fillShape, err := b.OpShape(fill)
	if err != nil {
		return nil, err
	}
	return b.BroadcastInDim(fill, shapes.Make(fillShape.DType, dims...), nil)
}
