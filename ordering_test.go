package neti

import (
	"testing"

	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNestedDropoutZeroesTail checks that row n keeps units 0..keep[n]-1 exactly and zeroes keep[n]..H-1.
func TestNestedDropoutZeroesTail(t *testing.T) {
	const n, h = 6, 8
	keep := []int32{0, 1, 3, 7, 8, 5}
	x := make([]float32, n*h)
	for i := range x {
		x[i] = float32(i%7) - 2.5 // nonzero
	}
	exec, err := context.NewExec(testBackend(t), nil, func(_ *context.Context, x, keep *graph.Node) *graph.Node {
		return nestedDropout(x, keep)
	})
	require.NoError(t, err)
	out, err := exec.Exec1(tensors.FromFlatDataAndDimensions(x, n, h), tensors.FromFlatDataAndDimensions(keep, n))
	require.NoError(t, err)
	got := tensors.MustCopyFlatData[float32](out)
	for r := range n {
		for u := range h {
			if u < int(keep[r]) {
				assert.Equal(t, x[r*h+u], got[r*h+u], "row %d (keep %d) unit %d is kept", r, keep[r], u)
			} else {
				assert.Zero(t, got[r*h+u], "row %d (keep %d) unit %d is dropped", r, keep[r], u)
			}
		}
	}
}
