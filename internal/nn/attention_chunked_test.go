package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/neti/internal/tensortest"
)

// TestChunkedAttentionMatches: with a ScoresBudget small enough to split the queries into uneven chunks,
// Attention's output and its gradients with respect to q, k and v (of Σ out ⊙ w) equal the single-pass
// attention's to float32 rounding, for self-attention (Lk = Lq) and cross-attention (Lk ≠ Lq), on the test
// binary's backend ($GOMLX_BACKEND).
func TestChunkedAttentionMatches(t *testing.T) {
	const batch, heads, hd = 2, 3, 4
	const d = heads * hd
	rng := rand.New(rand.NewPCG(3, 5))
	random := func(dims ...int) *tensors.Tensor {
		return tensors.FromFlatDataAndDimensions(randFloats(rng, batch*dims[0]*d), batch, dims[0], d)
	}
	be := tensortest.Backend(t)
	for _, c := range []struct{ lq, lk, rows int }{{37, 37, 5}, {37, 11, 8}, {9, 30, 1}} {
		t.Run(fmt.Sprintf("Lq%d_Lk%d_rows%d", c.lq, c.lk, c.rows), func(t *testing.T) {
			q, k, v, w := random(c.lq), random(c.lk), random(c.lk), random(c.lq)
			results := func(budget int) []*tensors.Tensor {
				saved := ScoresBudget
				ScoresBudget = budget
				defer func() { ScoresBudget = saved }()
				require.Equal(t, min(c.lq, max(budget/(4*batch*heads*c.lk), 1)), chunkRows(batch*heads, c.lq, c.lk))
				exec, err := graph.NewExec(be, func(q, k, v, w *graph.Node) []*graph.Node {
					out := Attention(q, k, v, heads, nil)
					loss := graph.ReduceAllSum(graph.Mul(out, w))
					return append([]*graph.Node{out}, graph.Gradient(loss, q, k, v)...)
				})
				require.NoError(t, err)
				outs, err := exec.Exec(q, k, v, w)
				require.NoError(t, err)
				return outs
			}
			whole := results(1 << 30)
			chunked := results(c.rows * 4 * batch * heads * c.lk)
			for i, name := range []string{"output", "dq", "dk", "dv"} {
				tensortest.AllClose(t, whole[i], chunked[i], 2e-6, "%s, chunks of %d rows", name, c.rows)
			}
			// The gradients are not trivially zero (the carrier's custom gradient is what flows).
			assert.Greater(t, maxAbs(tensors.MustCopyFlatData[float32](chunked[2])), float32(1e-3), "dk")
		})
	}
}

// maxAbs is the largest |x|.
func maxAbs(xs []float32) float32 {
	var m float32
	for _, x := range xs {
		m = max(m, x, -x)
	}
	return m
}
