package nn

import (
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/context/initializers"
)

// Linear applies y = x·Wᵀ + b over the last axis of x, as torch.nn.Linear.
// x: [..., in] → [..., outDim]. Variables in ctx: "weight" [outDim, in] and, if bias, "bias" [outDim].
func Linear(ctx *context.Context, x *graph.Node, outDim int, bias bool) *graph.Node {
	inDim := x.Shape().Dim(-1)
	dtype := x.DType()
	w := ctx.VariableWithShape("weight", shapes.Make(dtype, outDim, inDim)).ValueGraph(x.Graph())
	// [..., in] · [out, in]ᵀ → [..., out]
	y := graph.DotGeneral(x, []int{x.Rank() - 1}, nil, w, []int{1}, nil)
	if bias {
		b := ctx.WithInitializer(initializers.Zero).
			VariableWithShape("bias", shapes.Make(dtype, outDim)).ValueGraph(x.Graph())
		y = graph.Add(y, graph.ExpandLeftToRank(b, y.Rank()))
	}
	return y
}

// Embedding looks up rows of the table "weight" [num, dim] for integer ids of any shape:
// ids [...] → [..., dim], as torch.nn.Embedding.
func Embedding(ctx *context.Context, ids *graph.Node, num, dim int) *graph.Node {
	table := ctx.VariableWithShape("weight", shapes.Make(dtypeOrFloat32(ctx), num, dim)).ValueGraph(ids.Graph())
	return graph.Gather(table, graph.ExpandAxes(ids, -1))
}

// shapesOf is shapes.Make, named for use next to graph code.
func shapesOf(dtype dtypes.DType, dims ...int) shapes.Shape { return shapes.Make(dtype, dims...) }
