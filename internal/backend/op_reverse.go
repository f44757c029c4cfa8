package backend

import (
	"fmt"
	"slices"

	"github.com/gomlx/gomlx/backends"
)

// Reverse returns x with the given axes reversed: out[..., i, ...] = x[..., n-1-i, ...].
// SimpleGo v0.26.0 does not implement it; it is built as one Gather per axis of size > 1, whose constant
// start indices are n-1, ..., 0.
func (b *builder) Reverse(x backends.Op, axes ...int) (backends.Op, error) {
	shape, err := b.OpShape(x)
	if err != nil {
		return nil, fmt.Errorf("Reverse: %w", err)
	}
	rank := shape.Rank()
	seen := make([]bool, rank)
	for _, axis := range axes {
		if axis < 0 || axis >= rank {
			return nil, fmt.Errorf("Reverse: axis %d out of range for x shaped %s: expected axes in [0, %d); "+
				"pass non-negative axes of x", axis, shape, rank)
		}
		if seen[axis] {
			return nil, fmt.Errorf("Reverse: axis %d given twice in %v for x shaped %s: expected distinct axes",
				axis, axes, shape)
		}
		seen[axis] = true
	}
	out := x
	for _, axis := range axes {
		n := shape.Dimensions[axis]
		if n <= 1 {
			continue // Nothing to reverse.
		}
		indices := make([]int32, n) // [n, 1]: n-1, ..., 0
		for i := range indices {
			indices[i] = int32(n - 1 - i)
		}
		idx, err := b.Constant(indices, n, 1)
		if err != nil {
			return nil, fmt.Errorf("Reverse: creating the index constant: %w", err)
		}
		// Each index picks a slice of x of size 1 on axis (collapsed) and full on the other axes; the
		// gather's batch axis (the n indices) is placed at position axis of the output.
		sliceSizes := slices.Clone(shape.Dimensions)
		sliceSizes[axis] = 1
		offsetAxes := make([]int, 0, rank-1)
		for i := range rank {
			if i != axis {
				offsetAxes = append(offsetAxes, i)
			}
		}
		out, err = b.Gather(out, idx, 1, offsetAxes, []int{axis}, []int{axis}, sliceSizes, false)
		if err != nil {
			return nil, fmt.Errorf("Reverse: gather on axis %d of x shaped %s: %w", axis, shape, err)
		}
	}
	if len(axes) == 0 || out == x {
		return b.Identity(x)
	}
	return out, nil
}
