package nn

import (
	"math"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
)

// ScoresBudget is the most bytes of float32 attention scores Attention materialises at once: above it the
// queries are processed in chunks (see chunkedAttention). 32 MiB splits an SD 1.5 self-attention at 64×64
// latents (4096² scores × 8 heads × 2 images = 1 GiB) into 32 chunks and one at 32×32 (64 MiB) into 2, and
// leaves every test-size model and every text encoder on the single-pass path. In an SD 1.5 NeTI step at
// 512 px (fp32, XLA CPU) it took XLA's temporary memory from 6.2 GiB (128 MiB budget) to 5.5 GiB.
var ScoresBudget = 32 << 20

// Attention is multi-head scaled dot-product attention on already projected queries, keys and values:
// q [batch, Lq, D], k and v [batch, Lk, D] with D = heads·headDim → [batch, Lq, D].
// Scores are q·kᵀ/√headDim; mask, if not nil, is added to the scores and must broadcast to
// [batch, heads, Lq, Lk] (use a large negative value to mask). Scores and softmax are computed in float32
// (diffusers' upcast_attention/upcast_softmax), the result has q's dtype.
//
// When the scores would take more than ScoresBudget bytes (and there is no mask), the attention never
// materialises them whole: see chunkedAttention.
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
		return graph.TransposeAllAxes(graph.Reshape(x, batch, l, heads, headDim), 0, 2, 1, 3)
	}
	qh, kh, vh := split(q, lq), split(k, lk), split(v, lk)
	var out *graph.Node // [batch, heads, Lq, headDim]
	if rows := chunkRows(batch*heads, lq, lk); mask == nil && rows < lq {
		out = chunkedAttention(qh, kh, vh, rows) // upcasts chunk by chunk
	} else {
		out = attentionHeads(upcast(qh), upcast(kh), upcast(vh), mask)
	}
	out = graph.Reshape(graph.TransposeAllAxes(out, 0, 2, 1, 3), batch, lq, d)
	return graph.ConvertDType(out, dtype)
}

// attentionHeads is softmax(q·kᵀ/√headDim + mask)·v on float32 heads: q [B, H, Lq, hd], k and v
// [B, H, Lk, hd] → [B, H, Lq, hd]; mask may be nil.
func attentionHeads(qh, kh, vh, mask *graph.Node) *graph.Node {
	scores := headScores(qh, kh)
	if mask != nil {
		scores = graph.Add(scores, graph.ConvertDType(mask, dtypes.Float32))
	}
	probs := graph.Softmax(scores, -1)
	// [B, H, Lq, hd]
	return graph.DotGeneral(probs, []int{3}, []int{0, 1}, vh, []int{2}, []int{0, 1})
}

// headScores is q·kᵀ/√headDim: q [B, H, Lq, hd], k [B, H, Lk, hd] → [B, H, Lq, Lk].
func headScores(qh, kh *graph.Node) *graph.Node {
	scores := graph.DotGeneral(qh, []int{3}, []int{0, 1}, kh, []int{3}, []int{0, 1})
	return graph.MulScalar(scores, 1/math.Sqrt(float64(qh.Shape().Dim(3))))
}

// chunkRows is the number of query rows whose float32 scores against lk keys, for batchHeads
// (batch × heads) maps, fit in ScoresBudget: lq when all do, at least 1.
func chunkRows(batchHeads, lq, lk int) int {
	perRow := 4 * batchHeads * lk
	rows := ScoresBudget / perRow
	if rows >= lq {
		return lq
	}
	return max(rows, 1)
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
