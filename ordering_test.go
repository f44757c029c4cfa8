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
		return NestedDropout(x, keep)
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

// TestNestedDropoutSampler checks the original's sampling (one coin per call, k ~ U{0..H-1} per sample)
// and that a saved state resumes the same draws.
func TestNestedDropoutSampler(t *testing.T) {
	const calls, perCall, hidden = 4000, 2, 128
	s := NewNestedDropoutSampler(9, DefaultNestedDropoutProb, hidden)
	keep := s.Draw(calls, perCall)
	require.Len(t, keep, calls*perCall)
	dropped, full, zero := 0, 0, 0
	seen := make(map[int32]bool)
	for c := range calls {
		k := keep[c*perCall : (c+1)*perCall]
		if k[0] == hidden {
			require.Equal(t, int32(hidden), k[1], "call %d: the coin is shared by the call's samples", c)
			full++
			continue
		}
		dropped++
		for _, v := range k {
			require.True(t, v >= 0 && v < hidden, "call %d: k = %d outside 0..%d", c, v, hidden-1)
			seen[v] = true
			if v == 0 {
				zero++
			}
		}
	}
	assert.InDelta(t, 0.5, float64(dropped)/calls, 0.04, "fraction of calls with nested dropout")
	assert.Len(t, seen, hidden, "every k in 0..127 occurs")
	assert.Positive(t, zero, "k = 0 (drop all) occurs")

	state, err := s.MarshalBinary()
	require.NoError(t, err)
	next := s.Draw(16, 2)
	require.NoError(t, s.UnmarshalBinary(state))
	assert.Equal(t, next, s.Draw(16, 2), "draws after restoring the state")
	other := NewNestedDropoutSampler(9, DefaultNestedDropoutProb, hidden)
	assert.Equal(t, keep, other.Draw(calls, perCall), "same seed, same draws")
	assert.Error(t, s.UnmarshalBinary([]byte("junk")))
	assert.Equal(t, []int32{5, 5, 5}, Truncations(3, 5))
}
