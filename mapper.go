package neti

import (
	"fmt"
	"math"

	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/org/neti/internal/nn"
)

// The neural mapper M(t, ℓ) (paper §3.2; spec §3, §4), graph code only: the (timestep, layer) pair goes
// through random Fourier features, a small MLP whose hidden units nested dropout orders (ordering.go), and
// an output head whose word half (and bypass half) is rescaled to the super-category's norm. Its
// configuration, parameter list and initial weights are in mapperconfig.go.

// Constants of the original's layers (spec §3).
const (
	layerNormEps = 1e-5
	leakySlope   = 0.01
	normalizeEps = 1e-12 // torch.nn.functional.normalize's eps
)

// mapper evaluates M(t, ℓ) for N (timestep, layer) pairs.
//
// ctx is the mapper's scope (variables encoder/w, net/{0,1,2,4,5}/..., output_layer/0/..., named after the
// original state dict); timesteps and layers are [N] floats (raw t in 0..NumTimesteps-1 and ℓ in
// 0..NumLayers-1, as floats: the original feeds them unscaled) in the dtype the mapper runs in; keep [N]
// int32 is the number of leading hidden units nested dropout keeps (cfg.Hidden keeps all; nil = all).
// It returns word [N, TextWidth] and bypass [N, TextWidth] (nil without cfg.Bypass), after the output
// normalisation. It panics on shape errors.
func mapper(ctx *context.Context, cfg *MapperConfig, timesteps, layers, keep *graph.Node) (word, bypass *graph.Node) {
	timesteps.AssertRank(1)
	layers.AssertRank(1)
	n := timesteps.Shape().Dim(0)
	if layers.Shape().Dim(0) != n {
		panic(fmt.Sprintf("neti: mapper: %d timesteps but %d layers: expected one layer per timestep", n, layers.Shape().Dim(0)))
	}
	h := hiddenFeatures(ctx, cfg, timesteps, layers) // [N, Hidden]
	if keep != nil {
		h = nestedDropout(h, keep) // [N, Hidden]: units keep[n].. of row n zeroed
	}
	out := nn.Linear(ctx.In("output_layer").In("0"), h, cfg.OutputWidth(), true) // [N, OutputWidth]
	return normalizeOutput(cfg, out)                                             // [N, TextWidth] each
}

// hiddenFeatures is the mapper up to its output head: Fourier features, the input layer and the two
// hidden blocks, [N] timesteps and layers → [N, Hidden] (before nested dropout).
func hiddenFeatures(ctx *context.Context, cfg *MapperConfig, timesteps, layers *graph.Node) *graph.Node {
	v := fourierFeatures(ctx, cfg, timesteps, layers)                // [N, 2·NumFourier]
	h := nn.Linear(ctx.In("net").In("0"), v, cfg.InputWidth(), true) // [N, TimeAnchors·NumLayers]
	h = mlpBlock(ctx.In("net"), "1", "2", h, cfg.Hidden)             // [N, Hidden]
	return mlpBlock(ctx.In("net"), "4", "5", h, cfg.Hidden)          // [N, Hidden]
}

// fourierFeatures computes the random Fourier features v(t, ℓ) = [sin(Wx); cos(Wx)] / √NumFourier of
// x = (t, ℓ) (spec §3): timesteps, layers [N] → [N, 2·NumFourier], each row of unit norm. W is the fixed,
// non-trainable variable encoder/w [NumFourier, 2], its columns already scaled by σ_t and σ_ℓ.
func fourierFeatures(ctx *context.Context, cfg *MapperConfig, timesteps, layers *graph.Node) *graph.Node {
	dtype := timesteps.DType()
	w := ctx.In("encoder").VariableWithShape("w", shapes.Make(dtype, cfg.NumFourier, 2)).ValueGraph(timesteps.Graph())
	x := graph.Stack([]*graph.Node{timesteps, graph.ConvertDType(layers, dtype)}, -1) // [N, 2]
	// [N, 2] · [F, 2]ᵀ → [N, F]
	wx := graph.DotGeneral(x, []int{1}, nil, w, []int{1}, nil)
	v := graph.Concatenate([]*graph.Node{graph.Sin(wx), graph.Cos(wx)}, -1) // [N, 2F]
	// sin² + cos² = 1 per frequency, so ‖v‖ = √F exactly; the original divides by the computed norm.
	return graph.DivScalar(v, math.Sqrt(float64(cfg.NumFourier)))
}

// mlpBlock is Linear (scope lin) → LayerNorm (scope norm, eps 1e-5) → LeakyReLU(0.01): h [N, in] → [N, width].
func mlpBlock(ctx *context.Context, lin, norm string, h *graph.Node, width int) *graph.Node {
	h = nn.Linear(ctx.In(lin), h, width, true)
	h = nn.LayerNorm(ctx.In(norm), h, layerNormEps)
	return leakyReLU(h, leakySlope)
}

// leakyReLU is x for x ≥ 0 and slope·x otherwise.
func leakyReLU(x *graph.Node, slope float64) *graph.Node {
	return graph.Where(graph.GreaterOrEqual(x, graph.ScalarZero(x.Graph(), x.DType())), x, graph.MulScalar(x, slope))
}

// normalizeOutput splits out [N, OutputWidth] into word and bypass [N, TextWidth] and applies
// cfg.Normalize: x/max(‖x‖, 1e-12)·TargetNorm over the word half or the whole output.
func normalizeOutput(cfg *MapperConfig, out *graph.Node) (word, bypass *graph.Node) {
	scale := func(x *graph.Node) *graph.Node {
		// max(‖x‖, eps) as sqrt(max(‖x‖², eps²)): the same value, and no infinite Sqrt gradient at 0.
		norm := graph.Sqrt(graph.MaxScalar(graph.ReduceAndKeep(graph.Square(x), graph.ReduceSum, -1),
			normalizeEps*normalizeEps)) // [N, 1]
		return graph.MulScalar(graph.Div(x, norm), cfg.TargetNorm)
	}
	if cfg.Normalize == NormalizeConcat {
		out = scale(out)
	}
	d := cfg.TextWidth
	word = graph.Slice(out, graph.AxisRange(), graph.AxisRange(0, d)) // [N, D]
	if cfg.Bypass {
		bypass = graph.Slice(out, graph.AxisRange(), graph.AxisRange(d, 2*d)) // [N, D]
	}
	if cfg.Normalize == NormalizeWord {
		word = scale(word)
	}
	return word, bypass
}
