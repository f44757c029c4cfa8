package nn

import (
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/context/initializers"
)

// GroupNorm is torch.nn.GroupNorm with an affine transform: x [batch, C, ...] is normalised over each group
// of C/groups channels and all spatial positions. Variables in ctx: "weight" [C] (initialised to 1) and
// "bias" [C]. Statistics are computed in float32 even for half-precision x.
func GroupNorm(ctx *context.Context, x *graph.Node, groups int, eps float64) *graph.Node {
	dims := x.Shape().Dimensions
	batch, channels := dims[0], dims[1]
	if channels%groups != 0 {
		panic("nn.GroupNorm: channels not divisible by groups")
	}
	dtype := x.DType()
	xf := upcast(x)
	// [batch, groups, C/groups · spatial]
	grouped := graph.Reshape(xf, batch, groups, -1)
	mean := graph.ReduceAndKeep(grouped, graph.ReduceMean, -1)
	centered := graph.Sub(grouped, mean)
	variance := graph.ReduceAndKeep(graph.Square(centered), graph.ReduceMean, -1)
	// Div by Sqrt rather than Mul by Rsqrt: GoMLX v0.26 defines no gradient for Rsqrt.
	normed := graph.Div(centered, graph.Sqrt(graph.AddScalar(variance, eps)))
	normed = graph.ConvertDType(graph.Reshape(normed, dims...), dtype)
	return affine(ctx, normed, 1, channels)
}

// LayerNorm is torch.nn.LayerNorm over the last axis of x [..., D], with "weight" [D] (initialised to 1)
// and "bias" [D]. Statistics are computed in float32 even for half-precision x.
func LayerNorm(ctx *context.Context, x *graph.Node, eps float64) *graph.Node {
	dtype := x.DType()
	xf := upcast(x)
	mean := graph.ReduceAndKeep(xf, graph.ReduceMean, -1)
	centered := graph.Sub(xf, mean)
	variance := graph.ReduceAndKeep(graph.Square(centered), graph.ReduceMean, -1)
	// Div by Sqrt rather than Mul by Rsqrt: GoMLX v0.26 defines no gradient for Rsqrt.
	normed := graph.ConvertDType(graph.Div(centered, graph.Sqrt(graph.AddScalar(variance, eps))), dtype)
	return affine(ctx, normed, x.Rank()-1, x.Shape().Dim(-1))
}

// affine multiplies by "weight" and adds "bias", both [n], along axis of x.
func affine(ctx *context.Context, x *graph.Node, axis, n int) *graph.Node {
	g := x.Graph()
	w := ctx.WithInitializer(initializers.One).VariableWithShape("weight", shapes.Make(x.DType(), n)).ValueGraph(g)
	b := ctx.WithInitializer(initializers.Zero).VariableWithShape("bias", shapes.Make(x.DType(), n)).ValueGraph(g)
	bcast := make([]int, x.Rank())
	for i := range bcast {
		bcast[i] = 1
	}
	bcast[axis] = n
	return graph.Add(graph.Mul(x, graph.Reshape(w, bcast...)), graph.Reshape(b, bcast...))
}

// upcast converts half-precision x to float32 for numerically sensitive reductions.
func upcast(x *graph.Node) *graph.Node {
	if x.DType() == dtypes.Float16 || x.DType() == dtypes.BFloat16 {
		return graph.ConvertDType(x, dtypes.Float32)
	}
	return x
}

// dtypeOrFloat32 is the dtype variables are created with when the input gives none (integer ids):
// the context parameter "dtype" if set, else float32.
func dtypeOrFloat32(ctx *context.Context) dtypes.DType {
	return context.GetParamOr(ctx, ParamDType, dtypes.Float32)
}

// ParamDType is the context parameter (a dtypes.DType) that selects the dtype of variables whose shape is
// not derived from a floating-point input, such as embedding tables. Default float32.
const ParamDType = "neti_dtype"
