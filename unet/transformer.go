package unet

import (
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/org/neti/internal/nn"
)

// transformerNormEps is the epsilon of Transformer2DModel's group norm (diffusers hard-codes 1e-6).
const transformerNormEps = 1e-6

// layerNormEps is the epsilon of BasicTransformerBlock's layer norms (diffusers' norm_eps default).
const layerNormEps = 1e-5

// transformer2D is diffusers' Transformer2DModel with one BasicTransformerBlock (scope
// "transformer_blocks/0"): x [batch, C, H, W] → [batch, C, H, W]. keys and values [batch, seq, crossDim]
// are the encoder states of its cross-attention. proj_in/proj_out are 1x1 convs, or Linear layers with
// cfg.UseLinearProjection.
func transformer2D(ctx *context.Context, cfg *Config, x *graph.Node, heads int, keys, values *graph.Node) *graph.Node {
	b, c, hgt, wid := x.Shape().Dim(0), x.Shape().Dim(1), x.Shape().Dim(2), x.Shape().Dim(3)
	h := nn.GroupNorm(ctx.In("norm"), x, cfg.NormNumGroups, transformerNormEps)
	// tokens: [batch, C, H, W] → [batch, H·W, C]
	tokens := func(n *graph.Node) *graph.Node {
		return graph.Reshape(graph.TransposeAllAxes(n, 0, 2, 3, 1), b, hgt*wid, c)
	}
	// image: [batch, H·W, C] → [batch, C, H, W]
	image := func(n *graph.Node) *graph.Node {
		return graph.TransposeAllAxes(graph.Reshape(n, b, hgt, wid, c), 0, 3, 1, 2)
	}
	if cfg.UseLinearProjection {
		h = nn.Linear(ctx.In("proj_in"), tokens(h), c, true)
	} else {
		h = tokens(nn.Conv2D(ctx.In("proj_in"), h, c, 1, 1, 0))
	}
	h = transformerBlock(ctx.In("transformer_blocks").In("0"), h, heads, keys, values)
	if cfg.UseLinearProjection {
		h = image(nn.Linear(ctx.In("proj_out"), h, c, true))
	} else {
		h = nn.Conv2D(ctx.In("proj_out"), image(h), c, 1, 1, 0)
	}
	return graph.Add(h, x)
}

// transformerBlock is diffusers' BasicTransformerBlock: self-attention (attn1), cross-attention (attn2)
// and a GEGLU feed-forward (ff), each after a layer norm (norm1..3) and with a residual connection.
// h [batch, L, D] → [batch, L, D].
func transformerBlock(ctx *context.Context, h *graph.Node, heads int, keys, values *graph.Node) *graph.Node {
	n := nn.LayerNorm(ctx.In("norm1"), h, layerNormEps)
	h = graph.Add(h, attention(ctx.In("attn1"), n, n, n, heads))
	n = nn.LayerNorm(ctx.In("norm2"), h, layerNormEps)
	h = graph.Add(h, attention(ctx.In("attn2"), n, keys, values, heads))
	// The feed-forward runs again in the backward pass (nn.Recompute): its 4D-wide hidden values (for
	// SD 1.5 at 512 px, [2, 4096, 1280] several times per block, in float32 on the CPU) are not held while
	// the rest of the backward pass runs.
	ff := nn.Recompute(ctx, h, func(ctx *context.Context, h *graph.Node) *graph.Node {
		return feedForward(ctx.In("ff"), nn.LayerNorm(ctx.In("norm3"), h, layerNormEps))
	})
	return graph.Add(h, ff)
}

// attention is diffusers' Attention with its default processor: queries from x [batch, L, D], keys from
// keyStates and values from valueStates [batch, S, Dkv]; to_q/to_k/to_v have no bias, to_out.0 has one.
// → [batch, L, D].
func attention(ctx *context.Context, x, keyStates, valueStates *graph.Node, heads int) *graph.Node {
	d := x.Shape().Dim(-1)
	q := nn.Linear(ctx.In("to_q"), x, d, false)
	k := nn.Linear(ctx.In("to_k"), keyStates, d, false)
	v := nn.Linear(ctx.In("to_v"), valueStates, d, false)
	// Scores and softmax in float32 (upcast_attention / upcast_softmax) inside nn.Attention.
	o := nn.Attention(q, k, v, heads, nil)
	return nn.Linear(ctx.In("to_out").In("0"), o, d, true)
}

// feedForward is diffusers' FeedForward with GEGLU (mult 4): net.0.proj [D → 8D] split into hidden and gate,
// hidden·GELU(gate), then net.2 [4D → D]. x [batch, L, D] → [batch, L, D].
func feedForward(ctx *context.Context, x *graph.Node) *graph.Node {
	d := x.Shape().Dim(-1)
	inner := 4 * d
	net := ctx.In("net")
	proj := nn.Linear(net.In("0").In("proj"), x, 2*inner, true)
	hidden := graph.SliceAxis(proj, -1, graph.AxisRange(0, inner))
	gate := graph.SliceAxis(proj, -1, graph.AxisRange(inner, 2*inner))
	return nn.Linear(net.In("2"), graph.Mul(hidden, nn.GELU(gate)), d, true)
}
