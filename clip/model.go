package clip

import (
	"fmt"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/org/neti/internal/nn"
)

// The graph functions below take the text encoder's component context (the scope holding "text_model",
// e.g. ctx.In("text_encoder") of a pipeline) and create or reuse the variables of transformers'
// CLIPTextModel under it: text_model/embeddings/token_embedding/weight, text_model/encoder/layers/<i>/...,
// text_model/final_layer_norm/{weight,bias}. They panic on shape errors, as all GoMLX graph code.

// textModel is the scope of CLIPTextModel's inner CLIPTextTransformer.
func textModel(ctx *context.Context) *context.Context { return ctx.In("text_model") }

// TokenEmbeddings looks up the token embedding table (text_model.embeddings.token_embedding.weight
// [VocabSize, HiddenSize]): ids [batch, L] int32 → [batch, L, D]. The table's dtype is the context
// parameter nn.ParamDType (float32 by default). Replacing rows of the result (e.g. a placeholder token's
// embedding) before Embeddings is how a computed vector enters the encoder. Ids outside [0, VocabSize),
// such as the placeholder ids Tokenizer.AddTokens appends after the vocabulary, are clamped into it (they
// read row 0 or row VocabSize-1), so that they can be looked up and then replaced.
func TokenEmbeddings(ctx *context.Context, cfg *Config, ids *graph.Node) *graph.Node {
	ids.AssertRank(2)
	ids = graph.MinScalar(graph.MaxScalar(ids, 0), cfg.VocabSize-1)
	return nn.Embedding(textModel(ctx).In("embeddings").In("token_embedding"), ids, cfg.VocabSize, cfg.HiddenSize)
}

// Embeddings adds the position embeddings (text_model.embeddings.position_embedding.weight
// [MaxPositionEmbeddings, HiddenSize], positions 0..L-1) to the token embeddings:
// tokenEmbeds [batch, L, D] → [batch, L, D], the encoder's input (transformers' hidden_states[0]).
func Embeddings(ctx *context.Context, cfg *Config, tokenEmbeds *graph.Node) *graph.Node {
	tokenEmbeds.AssertRank(3)
	length, width := tokenEmbeds.Shape().Dim(1), tokenEmbeds.Shape().Dim(2)
	if length > cfg.MaxPositionEmbeddings {
		panic(fmt.Sprintf("clip.Embeddings: sequence length %d exceeds max_position_embeddings %d",
			length, cfg.MaxPositionEmbeddings))
	}
	if width != cfg.HiddenSize {
		panic(fmt.Sprintf("clip.Embeddings: embedding width %d, expected hidden_size %d", width, cfg.HiddenSize))
	}
	pctx := textModel(ctx).In("embeddings").In("position_embedding")
	table := pctx.VariableWithShape("weight",
		shapes.Make(tokenEmbeds.DType(), cfg.MaxPositionEmbeddings, cfg.HiddenSize)).ValueGraph(tokenEmbeds.Graph())
	// [L, D] → [1, L, D]
	positions := graph.ExpandAxes(graph.Slice(table, graph.AxisRange(0, length)), 0)
	return graph.Add(tokenEmbeds, positions)
}

// EncoderOptions selects what Encoder computes and returns.
type EncoderOptions struct {
	// HiddenStates asks for every layer's output, as transformers' output_hidden_states: element 0 is the
	// encoder's input (the embeddings) and element i the output of layer i (1-based), before the final
	// layer norm.
	HiddenStates bool
	// Layers, if positive, runs only the first Layers transformer layers (at most NumHiddenLayers): the
	// returned last state is then layer Layers' output, e.g. NumHiddenLayers-1 for the penultimate layer
	// ("clip skip"). Zero runs all layers.
	Layers int
	// Recompute keeps only each layer's input for the backward pass and runs the layer again there
	// (activation checkpointing): the forward values are unchanged, the gradients with respect to the
	// encoder's input equal those without it, and the layers' activations are not held while the rest of
	// the backward pass runs, at the cost of a second forward pass. Gradients with respect to the layers'
	// own weights stay correct but come through the forward's values, so the memory is saved only while
	// the text encoder is frozen (as in NeTI, TI and P+ training).
	Recompute bool
}

// Encoder runs CLIP's transformer layers (text_model.encoder.layers.<i>) with the causal mask over
// x [batch, L, D] (the output of Embeddings). It returns the last layer's output [batch, L, D] before the
// final layer norm (apply FinalNorm to get last_hidden_state) and, if opts.HiddenStates, the states
// [embeddings, layer 1, ..., layer n] (n+1 nodes of [batch, L, D]); otherwise hidden is nil.
func Encoder(ctx *context.Context, cfg *Config, x *graph.Node, opts EncoderOptions) (last *graph.Node, hidden []*graph.Node) {
	x.AssertRank(3)
	layers := cfg.NumHiddenLayers
	if opts.Layers > 0 {
		if opts.Layers > cfg.NumHiddenLayers {
			panic(fmt.Sprintf("clip.Encoder: EncoderOptions.Layers %d exceeds num_hidden_layers %d",
				opts.Layers, cfg.NumHiddenLayers))
		}
		layers = opts.Layers
	} else if opts.Layers < 0 {
		panic(fmt.Sprintf("clip.Encoder: EncoderOptions.Layers %d is negative", opts.Layers))
	}
	act := nn.Activation(cfg.HiddenAct)
	if act == nil {
		panic(fmt.Sprintf("clip.Encoder: unsupported hidden_act %q", cfg.HiddenAct))
	}
	// The mask is added in float32 by nn.Attention; building it in float32 keeps -1e9 finite.
	mask := nn.CausalMask(x.Graph(), x.Shape().Dim(1), dtypes.Float32) // [1, 1, L, L]
	layersCtx := textModel(ctx).In("encoder").In("layers")
	h := x
	if opts.HiddenStates {
		hidden = append(hidden, h)
	}
	layer := func(ctx *context.Context, h *graph.Node) *graph.Node { return encoderLayer(ctx, cfg, h, mask, act) }
	for i := range layers {
		if opts.Recompute {
			h = nn.Recompute(layersCtx.In(fmt.Sprint(i)), h, layer)
		} else {
			h = layer(layersCtx.In(fmt.Sprint(i)), h)
		}
		if opts.HiddenStates {
			hidden = append(hidden, h)
		}
	}
	return h, hidden
}

// encoderLayer is CLIPEncoderLayer (pre-norm): h + attn(LN1(h)), then + MLP(LN2(·)).
// h [batch, L, D] → [batch, L, D].
func encoderLayer(ctx *context.Context, cfg *Config, h, mask *graph.Node, act func(*graph.Node) *graph.Node) *graph.Node {
	attnCtx := ctx.In("self_attn")
	normed := nn.LayerNorm(ctx.In("layer_norm1"), h, cfg.LayerNormEps)
	q := nn.Linear(attnCtx.In("q_proj"), normed, cfg.HiddenSize, true)
	k := nn.Linear(attnCtx.In("k_proj"), normed, cfg.HiddenSize, true)
	v := nn.Linear(attnCtx.In("v_proj"), normed, cfg.HiddenSize, true)
	attn := nn.Attention(q, k, v, cfg.NumAttentionHeads, mask) // [batch, L, D]
	h = graph.Add(h, nn.Linear(attnCtx.In("out_proj"), attn, cfg.HiddenSize, true))

	mlpCtx := ctx.In("mlp")
	normed = nn.LayerNorm(ctx.In("layer_norm2"), h, cfg.LayerNormEps)
	inner := act(nn.Linear(mlpCtx.In("fc1"), normed, cfg.IntermediateSize, true)) // [batch, L, intermediate]
	return graph.Add(h, nn.Linear(mlpCtx.In("fc2"), inner, cfg.HiddenSize, true))
}

// FinalNorm applies text_model.final_layer_norm: h [batch, L, D] → [batch, L, D]. Applied to Encoder's
// last state it gives transformers' last_hidden_state (what Stable Diffusion's UNet attends to).
func FinalNorm(ctx *context.Context, cfg *Config, h *graph.Node) *graph.Node {
	return nn.LayerNorm(textModel(ctx).In("final_layer_norm"), h, cfg.LayerNormEps)
}

// Forward is CLIPTextModel's forward pass: ids [batch, L] int32 → last_hidden_state [batch, L, D]
// (after the final layer norm).
func Forward(ctx *context.Context, cfg *Config, ids *graph.Node) *graph.Node {
	x := Embeddings(ctx, cfg, TokenEmbeddings(ctx, cfg, ids))
	last, _ := Encoder(ctx, cfg, x, EncoderOptions{})
	return FinalNorm(ctx, cfg, last)
}

// Pooled is CLIPTextModel's pooler_output: the state of lastHiddenState [batch, L, D] at each sequence's
// end-of-text position, → [batch, D]. As transformers: when cfg.EOSTokenID == 2 (the legacy value in SD
// configs) the position is that of the largest id in ids [batch, L] (the first one if tied), which is
// <|endoftext|> in the real vocabulary; otherwise it is the first position holding EOSTokenID (0 if none).
func Pooled(cfg *Config, ids, lastHiddenState *graph.Node) *graph.Node {
	ids.AssertRank(2)
	lastHiddenState.AssertRank(3)
	g := ids.Graph()
	batch := ids.Shape().Dim(0)
	var pos *graph.Node // [batch] int32
	if cfg.EOSTokenID == 2 {
		pos = graph.ArgMax(ids, -1, dtypes.Int32)
	} else {
		eos := graph.Scalar(g, ids.DType(), cfg.EOSTokenID)
		isEOS := graph.ConvertDType(graph.Equal(ids, eos), dtypes.Int32)
		pos = graph.ArgMax(isEOS, -1, dtypes.Int32)
	}
	rows := graph.Iota(g, shapes.Make(dtypes.Int32, batch), 0)
	// indices [batch, 2] = (b, pos[b]) select lastHiddenState[b, pos[b], :] → [batch, D]
	indices := graph.Stack([]*graph.Node{rows, pos}, -1)
	return graph.Gather(lastHiddenState, indices)
}
