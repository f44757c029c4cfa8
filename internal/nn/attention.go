package nn

import (
	"math"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
)

// Attention is multi-head scaled dot-product attention on already projected queries, keys and values:
// q [batch, Lq, D], k and v [batch, Lk, D] with D = heads·headDim → [batch, Lq, D].
// Scores are q·kᵀ/√headDim; mask, if not nil, is added to the scores and must broadcast to
// [batch, heads, Lq, Lk] (use a large negative value to mask). Scores and softmax are computed in float32
// (diffusers' upcast_attention/upcast_softmax), the result has q's dtype.
func Attention(q, k, v *graph.Node, heads int, mask *graph.Node) *graph.Node {
	batch, lq, d := q.Shape().Dim(0), q.Shape().Dim(1), q.Shape().Dim(2)
	lk := k.Shape().Dim(1)
	if d%heads != 0 {
		panic("nn.Attention: width not divisible by heads")
	}
	headDim := d / heads
	dtype := q.DType()
	split := func(x *graph.Node, l int) *graph.Node {
		// [batch, l, D] → [batch, heads, l, headDim]
		return graph.TransposeAllAxes(graph.Reshape(upcast(x), batch, l, heads, headDim), 0, 2, 1, 3)
	}
	qh, kh, vh := split(q, lq), split(k, lk), split(v, lk)
	// [batch, heads, Lq, Lk]
	scores := graph.DotGeneral(qh, []int{3}, []int{0, 1}, kh, []int{3}, []int{0, 1})
	scores = graph.MulScalar(scores, 1/math.Sqrt(float64(headDim)))
	if mask != nil {
		scores = graph.Add(scores, graph.ConvertDType(mask, dtypes.Float32))
	}
	probs := graph.Softmax(scores, -1)
	// [batch, heads, Lq, headDim]
	out := graph.DotGeneral(probs, []int{3}, []int{0, 1}, vh, []int{2}, []int{0, 1})
	out = graph.Reshape(graph.TransposeAllAxes(out, 0, 2, 1, 3), batch, lq, d)
	return graph.ConvertDType(out, dtype)
}

// CausalMask returns the additive causal mask [1, 1, L, L] of the given dtype: 0 on and below the
// diagonal, a large negative value above it (CLIP's text encoder).
func CausalMask(g *graph.Graph, length int, dtype dtypes.DType) *graph.Node {
	rows := graph.Iota(g, shapesOf(dtypes.Int32, length, length), 0)
	cols := graph.Iota(g, shapesOf(dtypes.Int32, length, length), 1)
	neg := graph.Scalar(g, dtype, -1e9)
	zero := graph.ScalarZero(g, dtype)
	mask := graph.Where(graph.GreaterThan(cols, rows), graph.BroadcastToDims(neg, length, length),
		graph.BroadcastToDims(zero, length, length))
	return graph.Reshape(mask, 1, 1, length, length)
}
