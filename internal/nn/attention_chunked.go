package nn

import (
	"math"

	"github.com/gomlx/gomlx/pkg/core/graph"
)

// chunkedAttention is attentionHeads without a mask (q [B, H, Lq, hd], k and v [B, H, Lk, hd] →
// [B, H, Lq, hd]), computed rows query rows at a time, with a backward pass that recomputes each chunk's
// probabilities instead of keeping them: the scores it holds at once are [B, H, rows, Lk], forward and
// backward, not [B, H, Lq, Lk] per layer kept for the backward pass. This is memory-efficient attention
// (Rabe & Staats 2021; FlashAttention's recomputation) at the granularity of query chunks, in the graph.
//
// GoMLX's automatic differentiation would keep every chunk's probabilities for the backward pass, so the
// forward runs on stopped gradients and the gradient is supplied by hand: a zero-valued carrier
// (q − q, k − k, v − v, packed) is added to the output through an identity whose custom VJP receives the
// output's adjoint dO and returns the chunked backward's dq, dk and dv, which then flow into q, k and v
// through the carrier's subtractions.
func chunkedAttention(qh, kh, vh *graph.Node, rows int) *graph.Node {
	q, k, v := graph.StopGradient(qh), graph.StopGradient(kh), graph.StopGradient(vh)
	out := chunkedForward(q, k, v, rows) // [B, H, Lq, hd]
	outDims := out.Shape().Dimensions
	nq := qh.Shape().Size()
	flat := func(x *graph.Node) *graph.Node { return graph.Reshape(x, x.Shape().Size()) }
	// [nq + 2·nk], all zeros
	packed := graph.Concatenate([]*graph.Node{
		flat(graph.Sub(qh, q)), flat(graph.Sub(kh, k)), flat(graph.Sub(vh, v))}, 0)
	carrier := graph.IdentityWithCustomGradient(packed, func(_, adjoint *graph.Node) *graph.Node {
		dOut := graph.Reshape(graph.Slice(adjoint, graph.AxisRange(0, nq)), outDims...)
		dq, dk, dv := chunkedBackward(q, k, v, out, dOut, rows)
		return graph.Concatenate([]*graph.Node{flat(dq), flat(dk), flat(dv)}, 0)
	})
	return graph.Add(out, graph.Reshape(graph.Slice(carrier, graph.AxisRange(0, nq)), outDims...))
}

// queryChunks calls fn with the bounds [start, end) of each chunk of rows query rows out of lq.
func queryChunks(lq, rows int, fn func(start, end int)) {
	for start := 0; start < lq; start += rows {
		fn(start, min(start+rows, lq))
	}
}

// rowsOf slices query rows [start, end) of x [B, H, L, ·].
func rowsOf(x *graph.Node, start, end int) *graph.Node {
	return graph.SliceAxis(x, 2, graph.AxisRange(start, end))
}

// chunkedForward is attentionHeads(q, k, v, nil), rows query rows at a time. → [B, H, Lq, hd].
func chunkedForward(q, k, v *graph.Node, rows int) *graph.Node {
	var outs []*graph.Node
	queryChunks(q.Shape().Dim(2), rows, func(start, end int) {
		outs = append(outs, attentionHeads(rowsOf(q, start, end), k, v, nil))
	})
	return graph.Concatenate(outs, 2)
}

// chunkedBackward returns the gradients of attention's output out = softmax(q·kᵀ/√hd)·v with respect to q,
// k and v given the output's adjoint dOut, recomputing the probabilities P of rows query rows at a time:
// dv = Σ Pᵀ·dO, dP = dO·vᵀ, dS = P ⊙ (dP − rowsum(dO ⊙ out)), dq = dS·k/√hd, dk = Σ dSᵀ·q/√hd.
// q, out, dOut [B, H, Lq, hd]; k, v [B, H, Lk, hd].
func chunkedBackward(q, k, v, out, dOut *graph.Node, rows int) (dq, dk, dv *graph.Node) {
	scale := 1 / math.Sqrt(float64(q.Shape().Dim(3)))
	var dqs []*graph.Node
	queryChunks(q.Shape().Dim(2), rows, func(start, end int) {
		qc, dOc := rowsOf(q, start, end), rowsOf(dOut, start, end)
		// [B, H, C, Lk]
		probs := graph.Softmax(headScores(qc, k), -1)
		// [B, H, Lk, hd]
		dvc := graph.DotGeneral(probs, []int{2}, []int{0, 1}, dOc, []int{2}, []int{0, 1})
		// [B, H, C, Lk]
		dProbs := graph.DotGeneral(dOc, []int{3}, []int{0, 1}, v, []int{3}, []int{0, 1})
		// [B, H, C, 1]
		delta := graph.ReduceAndKeep(graph.Mul(dOc, rowsOf(out, start, end)), graph.ReduceSum, -1)
		dScores := graph.MulScalar(graph.Mul(probs, graph.Sub(dProbs, delta)), scale)
		// [B, H, C, hd]
		dqs = append(dqs, graph.DotGeneral(dScores, []int{3}, []int{0, 1}, k, []int{2}, []int{0, 1}))
		// [B, H, Lk, hd]
		dkc := graph.DotGeneral(dScores, []int{2}, []int{0, 1}, qc, []int{2}, []int{0, 1})
		if dk == nil {
			dk, dv = dkc, dvc
		} else {
			dk, dv = graph.Add(dk, dkc), graph.Add(dv, dvc)
		}
	})
	return graph.Concatenate(dqs, 2), dk, dv
}
