package nn

import (
	"math"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
)

// chunkedAttention is attentionHeads without a mask (q [B, H, Lq, hd], k and v [B, H, Lk, hd] →
// [B, H, Lq, hd]), computed rows query rows at a time, with a backward pass that recomputes each chunk's
// probabilities instead of keeping them: the scores it holds at once are [B, H, rows, Lk], forward and
// backward, not [B, H, Lq, Lk] per layer kept for the backward pass. This is memory-efficient attention
// (Rabe & Staats 2021; FlashAttention's recomputation) at the granularity of query chunks, in the graph.
//
// GoMLX's automatic differentiation would keep every chunk's probabilities for the backward pass, so the
// forward runs on stopped gradients and withGradient supplies dq, dk and dv from chunkedBackward.
//
// q, k and v may be half precision: they are kept in it for the backward pass and converted to float32 a
// chunk at a time (the scores and softmax are float32, as in attentionHeads); the output has their dtype.
func chunkedAttention(qh, kh, vh *graph.Node, rows int) *graph.Node {
	dtype := qh.DType()
	q, k, v := graph.StopGradient(qh), graph.StopGradient(kh), graph.StopGradient(vh)
	out := graph.ConvertDType(chunkedForward(q, k, v, rows), dtype) // [B, H, Lq, hd]
	return withGradient(out, []*graph.Node{qh, kh, vh}, func(dOut *graph.Node) []*graph.Node {
		dq, dk, dv := chunkedBackward(q, k, v, out, dOut, rows)
		return []*graph.Node{graph.ConvertDType(dq, dtype), graph.ConvertDType(dk, dtype), graph.ConvertDType(dv, dtype)}
	})
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

// chunkedForward is attentionHeads(q, k, v, nil), rows query rows at a time, each chunk after the
// previous one. → [B, H, Lq, hd].
func chunkedForward(q, k, v *graph.Node, rows int) *graph.Node {
	var outs []*graph.Node
	k, v = upcast(k), upcast(v)
	queryChunks(q.Shape().Dim(2), rows, func(start, end int) {
		qc := upcast(rowsOf(q, start, end))
		if len(outs) > 0 {
			qc = after(qc, outs[len(outs)-1])
		}
		outs = append(outs, attentionHeads(qc, k, v, nil))
	})
	return graph.Concatenate(outs, 2)
}

// chunkedBackward returns the gradients of attention's output out = softmax(q·kᵀ/√hd)·v with respect to q,
// k and v given the output's adjoint dOut, recomputing the probabilities P of rows query rows at a time:
// dv = Σ Pᵀ·dO, dP = dO·vᵀ, dS = P ⊙ (dP − rowsum(dO ⊙ out)), dq = dS·k/√hd, dk = Σ dSᵀ·q/√hd.
// q, out, dOut [B, H, Lq, hd]; k, v [B, H, Lk, hd].
//
// The probabilities are recomputed transposed, Pᵀ [B, H, Lk, C] (k·qᵀ, softmax over the query axis's
// complement, i.e. axis 2): the forward's P = softmax(q·kᵀ) would be the same expression, and XLA's common
// subexpression elimination would then keep the forward's probabilities of every chunk alive for the backward
// pass, which is the memory this function exists to save.
func chunkedBackward(q, k, v, out, dOut *graph.Node, rows int) (dq, dk, dv *graph.Node) {
	scale := 1 / math.Sqrt(float64(q.Shape().Dim(3)))
	var dqs []*graph.Node
	if k.DType() != dtypes.Float32 {
		// Half-precision inputs are converted again here, after the output's adjoint: sharing the forward
		// pass's float32 copies would keep them alive from one pass to the other.
		k, v = upcast(after(k, dOut)), upcast(after(v, dOut))
	}
	out, dOut = upcast(out), upcast(dOut)
	queryChunks(q.Shape().Dim(2), rows, func(start, end int) {
		// Each chunk after the output's adjoint (so not during the forward pass) and after the previous chunk.
		qc, dOc := rowsOf(q, start, end), rowsOf(dOut, start, end)
		if dk == nil {
			qc = upcast(after(qc, dOc))
		} else {
			qc = upcast(after(qc, dk))
		}
		// Pᵀ [B, H, Lk, C]
		probsT := graph.Softmax(graph.MulScalar(
			graph.DotGeneral(k, []int{3}, []int{0, 1}, qc, []int{3}, []int{0, 1}), scale), 2)
		// [B, H, Lk, hd]
		dvc := graph.DotGeneral(probsT, []int{3}, []int{0, 1}, dOc, []int{2}, []int{0, 1})
		// dPᵀ [B, H, Lk, C]
		dProbsT := graph.DotGeneral(v, []int{3}, []int{0, 1}, dOc, []int{3}, []int{0, 1})
		// [B, H, 1, C]
		delta := graph.InsertAxes(graph.ReduceSum(graph.Mul(dOc, rowsOf(out, start, end)), -1), 2)
		// dSᵀ [B, H, Lk, C]
		dScoresT := graph.MulScalar(graph.Mul(probsT, graph.Sub(dProbsT, delta)), scale)
		// [B, H, C, hd]
		dqs = append(dqs, graph.DotGeneral(dScoresT, []int{2}, []int{0, 1}, k, []int{2}, []int{0, 1}))
		// [B, H, Lk, hd]
		dkc := graph.DotGeneral(dScoresT, []int{3}, []int{0, 1}, qc, []int{2}, []int{0, 1})
		if dk == nil {
			dk, dv = dkc, dvc
		} else {
			dk, dv = graph.Add(dk, dkc), graph.Add(dv, dvc)
		}
	})
	return graph.Concatenate(dqs, 2), dk, dv
}
