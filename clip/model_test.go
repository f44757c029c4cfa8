package clip

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/org/neti/internal/tensortest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// transformersNames lists CLIPTextModel's state-dict names and shapes for cfg (without the position_ids
// buffer), as a reference independent of the graph code.
func transformersNames(cfg *Config) map[string][]int {
	d, f := cfg.HiddenSize, cfg.IntermediateSize
	names := map[string][]int{
		"text_model.embeddings.token_embedding.weight":    {cfg.VocabSize, d},
		"text_model.embeddings.position_embedding.weight": {cfg.MaxPositionEmbeddings, d},
		"text_model.final_layer_norm.weight":              {d},
		"text_model.final_layer_norm.bias":                {d},
	}
	for i := range cfg.NumHiddenLayers {
		p := fmt.Sprintf("text_model.encoder.layers.%d.", i)
		for _, proj := range []string{"q_proj", "k_proj", "v_proj", "out_proj"} {
			names[p+"self_attn."+proj+".weight"] = []int{d, d}
			names[p+"self_attn."+proj+".bias"] = []int{d}
		}
		for _, ln := range []string{"layer_norm1", "layer_norm2"} {
			names[p+ln+".weight"] = []int{d}
			names[p+ln+".bias"] = []int{d}
		}
		names[p+"mlp.fc1.weight"] = []int{f, d}
		names[p+"mlp.fc1.bias"] = []int{f}
		names[p+"mlp.fc2.weight"] = []int{d, f}
		names[p+"mlp.fc2.bias"] = []int{d}
	}
	return names
}

func TestVariablePathsMirrorTransformers(t *testing.T) {
	cfg := tinyConfig()
	root := context.New()
	ctx := root.In("text_encoder")
	ids := ids77(998, 999, 999, []int32{5, 6, 7})
	out := execute(t, ctx, func(ctx *context.Context, in []*graph.Node) []*graph.Node {
		return []*graph.Node{Forward(ctx, cfg, in[0])}
	}, ids)
	assert.Equal(t, []int{1, 77, cfg.HiddenSize}, out[0].Shape().Dimensions)

	got := map[string][]int{}
	for v := range ctx.IterVariablesInScope() {
		got[v.ScopeAndName()] = v.Shape().Dimensions
	}
	want := map[string][]int{}
	for name, dims := range transformersNames(cfg) {
		want["/text_encoder/"+replaceDots(name)] = dims
	}
	assert.Equal(t, want, got, "variables of Forward for config %+v", *cfg)
	assert.Contains(t, got, "/text_encoder/text_model/encoder/layers/0/self_attn/q_proj/weight")
}

// replaceDots turns a dotted tensor name into a scope path.
func replaceDots(name string) string {
	b := []byte(name)
	for i, c := range b {
		if c == '.' {
			b[i] = '/'
		}
	}
	return string(b)
}

func TestCausalMask(t *testing.T) {
	cfg := tinyConfig()
	ctx := context.New()
	// Two sequences that differ only from position 6 on.
	a := ids77(998, 999, 999, []int32{10, 11, 12, 13, 14, 15, 16, 17})
	b := ids77(998, 999, 999, []int32{10, 11, 12, 13, 14, 500, 501, 17})
	const changed = 6
	ids := [][]int32{a[0], b[0]}
	out := execute(t, ctx, func(ctx *context.Context, in []*graph.Node) []*graph.Node {
		x := Embeddings(ctx, cfg, TokenEmbeddings(ctx, cfg, in[0]))
		last, hidden := Encoder(ctx, cfg, x, EncoderOptions{HiddenStates: true})
		return append(hidden, FinalNorm(ctx, cfg, last))
	}, ids)
	require.Len(t, out, cfg.NumHiddenLayers+2)
	d := cfg.HiddenSize
	for i, state := range out {
		v := flat(t, state) // [2, 77, D]
		seq0, seq1 := v[:77*d], v[77*d:]
		tensortest.AllCloseFloats(t, seq0[:changed*d], seq1[:changed*d], 0,
			"state %d: positions before the change must be identical", i)
		assert.False(t, slices.Equal(seq0[changed*d:(changed+1)*d], seq1[changed*d:(changed+1)*d]),
			"state %d: position %d must change with its token", i, changed)
		if i > 0 {
			// Later positions attend to the changed token: they change too.
			assert.False(t, slices.Equal(seq0[(changed+3)*d:(changed+4)*d], seq1[(changed+3)*d:(changed+4)*d]),
				"state %d: position %d attends to position %d", i, changed+3, changed)
		}
	}
}

func TestEncoderComposition(t *testing.T) {
	cfg := tinyConfig()
	ctx := context.New()
	ids := ids77(998, 999, 999, []int32{3, 4, 5}, []int32{7})
	L := cfg.NumHiddenLayers
	out := execute(t, ctx, func(ctx *context.Context, in []*graph.Node) []*graph.Node {
		tok := TokenEmbeddings(ctx, cfg, in[0])
		x := Embeddings(ctx, cfg, tok)
		last, hidden := Encoder(ctx, cfg, x, EncoderOptions{HiddenStates: true})
		penultimate, none := Encoder(ctx.Reuse(), cfg, x, EncoderOptions{Layers: L - 1})
		if none != nil {
			panic("hidden states returned without HiddenStates")
		}
		normed := FinalNorm(ctx, cfg, last)
		forward := Forward(ctx.Reuse(), cfg, in[0])
		return append([]*graph.Node{x, last, normed, forward, penultimate, tok}, hidden...)
	}, ids)
	x, last, normed, forward, penultimate, tok := out[0], out[1], out[2], out[3], out[4], out[5]
	hidden := out[6:]
	require.Len(t, hidden, L+1, "hidden states: embeddings + one per layer")
	tensortest.AllClose(t, x, hidden[0], 0, "hidden_states[0] is the embeddings")
	tensortest.AllClose(t, last, hidden[L], 0, "hidden_states[L] is the last layer before final LN")
	tensortest.AllClose(t, hidden[L-1], penultimate, 1e-6, "Layers: L-1 stops at the penultimate layer")
	tensortest.AllClose(t, normed, forward, 1e-6, "Forward = FinalNorm(Encoder(Embeddings(TokenEmbeddings)))")
	assert.Equal(t, []int{2, 77, cfg.HiddenSize}, forward.Shape().Dimensions)

	// TokenEmbeddings is the table lookup and Embeddings adds position rows 0..76.
	vars := map[string]*tensors.Tensor{}
	for v := range ctx.IterVariables() {
		val, err := v.Value()
		require.NoError(t, err)
		vars[v.ScopeAndName()] = val
	}
	table := flat(t, vars["/text_model/embeddings/token_embedding/weight"])
	pos := flat(t, vars["/text_model/embeddings/position_embedding/weight"])
	tokV, xV := flat(t, tok), flat(t, x)
	d := cfg.HiddenSize
	for b, row := range ids {
		for l, id := range row {
			off := (b*77 + l) * d
			tensortest.AllCloseFloats(t, table[int(id)*d:(int(id)+1)*d], tokV[off:off+d], 0, "token row b=%d l=%d", b, l)
			for k := range d {
				assert.InDelta(t, table[int(id)*d+k]+pos[l*d+k], xV[off+k], 1e-6, "embedding b=%d l=%d k=%d", b, l, k)
			}
		}
	}
	// Normalised states have zero mean per position (final LN at its initial weight 1, bias 0).
	nv := flat(t, normed)
	var mean float64
	for k := range d {
		mean += float64(nv[k])
	}
	assert.InDelta(t, 0, mean/float64(d), 1e-5)
}

func TestReplacedTokenEmbedding(t *testing.T) {
	// Replacing the token embedding at one position by another token's table row must give the same
	// states as encoding that other token: the path NeTI uses to inject a computed embedding.
	cfg := tinyConfig()
	ctx := context.New()
	const pos, placeholder, word = 3, 990, 42
	withPlaceholder := ids77(998, 999, 999, []int32{5, 6, placeholder, 8})
	withWord := ids77(998, 999, 999, []int32{5, 6, word, 8})
	out := execute(t, ctx, func(ctx *context.Context, in []*graph.Node) []*graph.Node {
		ids := in[0]
		tok := TokenEmbeddings(ctx, cfg, ids) // [1, 77, D]
		wordEmb := TokenEmbeddings(ctx.Reuse(), cfg, graph.Const(ids.Graph(), [][]int32{{word}}))
		onehot := graph.OneHot(graph.Const(ids.Graph(), []int32{pos}), 77, tok.DType()) // [1, 77]
		sel := graph.ExpandAxes(onehot, -1)                                             // [1, 77, 1]
		replaced := graph.Add(graph.Mul(tok, graph.OneMinus(sel)), graph.Mul(wordEmb, sel))
		last, _ := Encoder(ctx, cfg, Embeddings(ctx, cfg, replaced), EncoderOptions{})
		return []*graph.Node{FinalNorm(ctx, cfg, last), Forward(ctx.Reuse(), cfg, in[1])}
	}, withPlaceholder, withWord)
	tensortest.AllClose(t, out[1], out[0], 1e-6, "replaced embedding vs real token")
}

func TestPooled(t *testing.T) {
	// Legacy rule (eos_token_id 2): position of the largest id; otherwise the first eos_token_id.
	rows := [][]int32{
		{5, 999, 7, 999, 1},  // max 999 first at 1
		{5, 6, 7, 8, 2},      // max 8 at 3; first 2 at 4
		{2, 900, 2, 950, 3},  // max 950 at 3; first 2 at 0
		{4, 4, 4, 4, 4},      // ties: 0; no 2: 0
		{10, 20, 30, 20, 10}, // max at 2; no 2: 0
	}
	lastHidden := make([][][]float32, len(rows)) // [5, 5, 3]
	for b := range rows {
		lastHidden[b] = make([][]float32, 5)
		for l := range 5 {
			lastHidden[b][l] = []float32{float32(b), float32(l), float32(10*b + l)}
		}
	}
	for _, tc := range []struct {
		eos  int
		want []int
	}{
		{2, []int{1, 3, 3, 0, 2}},
		{999, []int{1, 0, 0, 0, 0}},
		{4, []int{0, 0, 0, 0, 0}},
		{20, []int{0, 0, 0, 0, 1}},
	} {
		cfg := tinyConfig()
		cfg.EOSTokenID = tc.eos
		out := execute(t, context.New(), func(_ *context.Context, in []*graph.Node) []*graph.Node {
			return []*graph.Node{Pooled(cfg, in[0], in[1])}
		}, rows, lastHidden)
		got := out[0].Value().([][]float32)
		for b, pos := range tc.want {
			assert.Equal(t, lastHidden[b][pos], got[b], "eos_token_id %d, row %d %v: want position %d", tc.eos, b,
				rows[b], pos)
		}
	}
}

// panicMessage runs fn and returns what it panicked with, formatted ("" if it did not panic).
func panicMessage(fn func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	fn()
	return ""
}

func TestEncoderPanics(t *testing.T) {
	cfg := tinyConfig()
	build := func(fn func(ctx *context.Context, ids *graph.Node)) string {
		return panicMessage(func() {
			g := graph.NewGraph(cpuBackend(t), "panics")
			fn(context.New(), graph.Parameter(g, "ids", shapes.Make(dtypes.Int32, 1, cfg.MaxPositionEmbeddings+1)))
		})
	}
	assert.Contains(t, build(func(ctx *context.Context, ids *graph.Node) { Forward(ctx, cfg, ids) }),
		"exceeds max_position_embeddings", "sequence of 78 tokens")
	assert.Contains(t, build(func(ctx *context.Context, ids *graph.Node) {
		x := Embeddings(ctx, cfg, TokenEmbeddings(ctx, cfg, graph.Slice(ids, graph.AxisRange(), graph.AxisRange(0, 5))))
		Encoder(ctx, cfg, x, EncoderOptions{Layers: cfg.NumHiddenLayers + 1})
	}), "exceeds num_hidden_layers", "more layers than the config has")
	bad := *cfg
	bad.HiddenAct = "relu6"
	assert.Contains(t, build(func(ctx *context.Context, ids *graph.Node) {
		Forward(ctx, &bad, graph.Slice(ids, graph.AxisRange(), graph.AxisRange(0, 5)))
	}), `unsupported hidden_act "relu6"`, "unknown activation")
}

func TestTokenEmbeddingsClampIDs(t *testing.T) {
	// Placeholder ids after the vocabulary (AddTokens) read the last row instead of failing.
	cfg := tinyConfig()
	out := execute(t, context.New(), func(ctx *context.Context, in []*graph.Node) []*graph.Node {
		return []*graph.Node{TokenEmbeddings(ctx, cfg, in[0])}
	}, [][]int32{{999, 1000, 1001, 0, -3}})
	v, d := flat(t, out[0]), cfg.HiddenSize
	tensortest.AllCloseFloats(t, v[0:d], v[d:2*d], 0, "id 1000 = row 999")
	tensortest.AllCloseFloats(t, v[0:d], v[2*d:3*d], 0, "id 1001 = row 999")
	tensortest.AllCloseFloats(t, v[3*d:4*d], v[4*d:5*d], 0, "id -3 = row 0")
	assert.False(t, slices.Equal(v[0:d], v[3*d:4*d]), "rows 999 and 0 differ")
}

// TestEncoderRecompute: with EncoderOptions.Recompute the encoder's output and its gradient with respect
// to the input embeddings equal those of the plain encoder (the layers run again in the backward pass).
func TestEncoderRecompute(t *testing.T) {
	cfg := tinyConfig()
	ctx := context.New()
	ids := ids77(998, 999, 999, []int32{3, 4, 5}, []int32{7})
	out := execute(t, ctx, func(ctx *context.Context, in []*graph.Node) []*graph.Node {
		x := Embeddings(ctx, cfg, TokenEmbeddings(ctx, cfg, in[0])) // [2, 77, D]
		var res []*graph.Node
		for i, recompute := range []bool{false, true} {
			layerCtx := ctx
			if i > 0 {
				layerCtx = ctx.Reuse()
			}
			last, _ := Encoder(layerCtx, cfg, x, EncoderOptions{Recompute: recompute})
			// A loss whose gradient differs per position and feature.
			weights := graph.Sin(graph.Iota(x.Graph(), shapes.Make(last.DType(), last.Shape().Dimensions...), 2))
			loss := graph.ReduceAllSum(graph.Mul(graph.Mul(last, last), weights))
			res = append(res, last, graph.Gradient(loss, x)[0])
		}
		return res
	}, ids)
	// Float32 rounding only: the two graphs fuse their operations differently (relative 1e-5 of the largest
	// value; the gradients reach 10⁴ here).
	scale := func(x *tensors.Tensor) float64 {
		var m float64
		for _, v := range flat(t, x) {
			m = max(m, math.Abs(float64(v)))
		}
		return m
	}
	tensortest.AllClose(t, out[0], out[2], 1e-5*scale(out[0]), "output with Recompute")
	tensortest.AllClose(t, out[1], out[3], 1e-5*scale(out[1]), "gradient with respect to the input with Recompute")
	assert.Greater(t, scale(out[3]), 1.0, "the gradient is not zero")
}
