package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/stretchr/testify/require"

	"github.com/org/neti/internal/tensortest"
)

// TestDotGeneralVJPMatchesGoMLX: the two-dot gradient of DotGeneral equals GoMLX's own (broadcast, multiply
// and sum) on float64 operands, for the layouts the models use (linear layers, attention with batch and head
// axes) and awkward ones (batch axes not first, several contracting axes in different orders, no cross
// axes).
func TestDotGeneralVJPMatchesGoMLX(t *testing.T) {
	cases := []struct {
		lhs, rhs               []int
		lhsC, lhsB, rhsC, rhsB []int
	}{
		{[]int{3, 5, 4}, []int{6, 4}, []int{2}, nil, []int{1}, nil},                          // x·Wᵀ (Linear)
		{[]int{2, 3, 5, 4}, []int{2, 3, 7, 4}, []int{3}, []int{0, 1}, []int{3}, []int{0, 1}}, // Q·Kᵀ per head
		{[]int{2, 3, 5, 7}, []int{2, 3, 7, 4}, []int{3}, []int{0, 1}, []int{2}, []int{0, 1}}, // A·V per head
		{[]int{4, 2, 3}, []int{3, 5, 2}, []int{2}, []int{1}, []int{0}, []int{2}},             // batch axes elsewhere
		{[]int{3, 4, 5}, []int{5, 2, 3}, []int{0, 2}, nil, []int{2, 0}, nil},                 // two contractions, swapped
		{[]int{4, 6}, []int{6, 4}, []int{0, 1}, nil, []int{1, 0}, nil},                       // no cross axes
		{[]int{2, 6}, []int{2, 6, 3}, []int{1}, []int{0}, []int{1}, []int{0}},                // lhs without cross axes
	}
	rng := rand.New(rand.NewPCG(7, 7))
	random := func(dims []int) *tensors.Tensor {
		n := 1
		for _, d := range dims {
			n *= d
		}
		v := make([]float64, n)
		for i := range v {
			v[i] = rng.NormFloat64()
		}
		return tensors.FromFlatDataAndDimensions(v, dims...)
	}
	gradients := func(t *testing.T, be backends.Backend, c int, lhs, rhs, weight *tensors.Tensor) []*tensors.Tensor {
		k := cases[c]
		exec, err := graph.NewExec(be, func(lhs, rhs, weight *graph.Node) []*graph.Node {
			out := graph.DotGeneral(lhs, k.lhsC, k.lhsB, rhs, k.rhsC, k.rhsB)
			loss := graph.ReduceAllSum(graph.Mul(out, weight))
			return graph.Gradient(loss, lhs, rhs)
		})
		require.NoError(t, err)
		out, err := exec.Exec(lhs, rhs, weight)
		require.NoError(t, err)
		return out
	}
	for c, k := range cases {
		t.Run(fmt.Sprint(c), func(t *testing.T) {
			be := testBackend(t)
			lhs, rhs := random(k.lhs), random(k.rhs)
			probe, err := graph.NewExec(be, func(lhs, rhs *graph.Node) *graph.Node {
				return graph.DotGeneral(lhs, k.lhsC, k.lhsB, rhs, k.rhsC, k.rhsB)
			})
			require.NoError(t, err)
			outs, err := probe.Exec(lhs, rhs)
			require.NoError(t, err)
			weight := random(outs[0].Shape().Dimensions)

			ours := gradients(t, be, c, lhs, rhs, weight)
			saved := graph.VJPRegistration[graph.NodeTypeDotGeneral]
			graph.VJPRegistration[graph.NodeTypeDotGeneral] = goMLXDotGeneralVJP
			theirs := gradients(t, be, c, lhs, rhs, weight)
			graph.VJPRegistration[graph.NodeTypeDotGeneral] = saved
			for i, name := range []string{"lhs", "rhs"} {
				tensortest.AllClose(t, theirs[i], ours[i], 1e-12, "case %d %s gradient", c, name)
			}
		})
	}
}
