package neti

import (
	"fmt"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/org/neti/clip"
)

// The textual bypass (paper §3.3; spec §5.1–5.2), graph code only. A concept acts on the text encoder
// twice: its mapper's word replaces the placeholder's input token embedding, and its bypass vector adds a
// residual to the encoder's output at the placeholder, before the final layer norm, for the
// cross-attention values only (the keys see the word alone).
//
// The graph works on R rows (conditioning.go lays them out), each with P placeholder slots (P ≥ 1), each
// slot with its own concept: positions [R, P] int32 is the token position of slot j in row r, or -1 where
// the row has no such slot (its states are then those of plain CLIP there).

// DefaultBypassAlpha is the weight α of the textual bypass (the original hard-codes 0.2; spec §5.2, §13 #4).
const DefaultBypassAlpha = 0.2

// encodeConditioning runs the text encoder with the placeholders' words injected and returns the
// cross-attention keys and values of each row: ids [R, L] int32, positions [R, P], words [R, P, D]; bypass
// [R, P, D] with alpha (one weight per slot), or nil for no bypass. keys = FinalNorm(H) and values =
// FinalNorm(textualBypass(H)), both [R, L, D]; without bypass values is keys. textCtx is the text
// encoder's component scope (the one holding text_model).
func encodeConditioning(textCtx *context.Context, textCfg *clip.Config, ids, positions, words, bypass *graph.Node,
	alpha []float64) (keys, values *graph.Node) {
	tokens := clip.TokenEmbeddings(textCtx, textCfg, ids)                              // [R, L, D]
	tokens = injectWords(tokens, positions, graph.ConvertDType(words, tokens.DType())) // [R, L, D]
	// Recompute: the 12 layers of up to 32 rows would otherwise keep their activations for the whole backward
	// pass of a training step (≈ 1.2 GiB at SD 1.5 size); the text encoder is frozen.
	last, _ := clip.Encoder(textCtx, textCfg, clip.Embeddings(textCtx, textCfg, tokens), clip.EncoderOptions{Recompute: true})
	keys = clip.FinalNorm(textCtx, textCfg, last) // [R, L, D]: H, the states before the final norm, normalised
	if bypass == nil {
		return keys, keys
	}
	bypassed := textualBypass(last, positions, graph.ConvertDType(bypass, last.DType()), alpha) // [R, L, D]
	values = clip.FinalNorm(textCtx, textCfg, bypassed)                                         // [R, L, D]
	// Away from the placeholders the values are the keys, exactly: the norm of the same states computed twice
	// may round differently (XLA on a GPU fuses the two copies apart), so take them from the keys.
	hit := graph.ReduceSum(placeholderOneHot(positions, last.Shape().Dim(1), dtypes.Float32), 1) // [R, L]
	return keys, graph.Where(graph.GreaterThan(hit, graph.ScalarZero(hit.Graph(), dtypes.Float32)), values, keys)
}

// injectWords replaces the input token embeddings of the placeholders by the mappers' words (spec §5.1):
// tokenEmbeds [R, L, D] (clip.TokenEmbeddings), positions [R, P], words [R, P, D] → [R, L, D]. Other
// positions are passed through exactly.
func injectWords(tokenEmbeds, positions, words *graph.Node) *graph.Node {
	tokenEmbeds.AssertRank(3)
	words.AssertRank(3)
	onehot := placeholderOneHot(positions, tokenEmbeds.Shape().Dim(1), tokenEmbeds.DType()) // [R, P, L]
	hit := graph.ReduceSum(onehot, 1)                                                       // [R, L]: 1 at placeholders
	// The condition [R, L] is a prefix of [R, L, D]: Where broadcasts it over D.
	kept := graph.Where(graph.GreaterThan(hit, graph.ScalarZero(hit.Graph(), hit.DType())),
		graph.ZerosLike(tokenEmbeds), tokenEmbeds) // [R, L, D]
	// Σ_j onehot[r, j, l] · words[r, j, :] → [R, L, D]
	return graph.Add(kept, graph.Einsum("rjl,rjd->rld", onehot, words))
}

// textualBypass adds the bypass residual to the encoder's last states before the final layer norm: for
// each slot j at p with state h = H[p] and bypass vector b, h′ = h + α_j · b/‖b‖ · ‖h‖. states [R, L, D],
// positions [R, P], bypass [R, P, D], alpha one weight per slot (len P) → [R, L, D], equal to states
// except at the placeholders. A zero bypass vector (a concept without bypass) or position -1 leaves the
// row unchanged.
func textualBypass(states, positions, bypass *graph.Node, alpha []float64) *graph.Node {
	states.AssertRank(3)
	bypass.AssertRank(3)
	p := positions.Shape().Dim(1)
	if len(alpha) != p || bypass.Shape().Dim(1) != p {
		panic(fmt.Sprintf("neti: textual bypass: %d placeholder positions, %d bypass vectors and %d alphas: "+
			"expected one of each per placeholder", p, bypass.Shape().Dim(1), len(alpha)))
	}
	dtype := states.DType()
	work := states
	if dtype == dtypes.Float16 || dtype == dtypes.BFloat16 { // norms in float32; the round trip is exact
		work = graph.ConvertDType(states, dtypes.Float32)
	}
	wt := work.DType()
	onehot := placeholderOneHot(positions, states.Shape().Dim(1), wt) // [R, P, L]
	h := graph.Einsum("rjl,rld->rjd", onehot, work)                   // [R, P, D]: H at each placeholder
	hNorm := safeNorm(h)                                              // [R, P, 1]
	unit := graph.L2Normalize(graph.ConvertDType(bypass, wt), -1)     // [R, P, D]; zero stays zero
	// [1, P, 1]: α of each slot
	weights := graph.Reshape(graph.ConvertDType(graph.Const(states.Graph(), alpha), wt), 1, p, 1)
	delta := graph.Mul(graph.Mul(unit, hNorm), weights)                 // [R, P, D]: α·‖h‖·b̂
	out := graph.Add(work, graph.Einsum("rjl,rjd->rld", onehot, delta)) // [R, L, D]
	return graph.ConvertDType(out, dtype)
}

// placeholderOneHot returns the one-hot positions [R, P, L] (dtype) of positions [R, P] over length L;
// -1 (or any position outside 0..L-1) gives a zero row.
func placeholderOneHot(positions *graph.Node, length int, dtype dtypes.DType) *graph.Node {
	positions.AssertRank(2)
	return graph.OneHot(graph.ConvertDType(positions, dtypes.Int32), length, dtype)
}

// safeNorm is ‖x‖ over the last axis, kept as an axis of size 1, with a zero (not NaN) gradient where
// x is all zeros (empty placeholder slots).
func safeNorm(x *graph.Node) *graph.Node {
	sq := graph.ReduceAndKeep(graph.Square(x), graph.ReduceSum, -1)
	empty := graph.IsZero(sq)
	root := graph.Sqrt(graph.Where(empty, graph.OnesLike(sq), sq))
	return graph.Where(empty, graph.ZerosLike(sq), root)
}
