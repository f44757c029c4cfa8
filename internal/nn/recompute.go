package nn

import (
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// Recompute returns layer(ctx, x) whose gradient with respect to x is computed by running the layer again
// in the backward pass (activation checkpointing): of the layer's values only x is kept from the forward
// pass. The second run reads the same variables (ctx in Reuse mode) and depends on the output's adjoint
// (see after), so XLA runs it when the backward pass reaches this layer and cannot merge it with the
// forward's values. Gradients with respect to anything else the layer reads (its weights) are GoMLX's own,
// through the forward's values: correct, but they keep those values alive, so the memory is saved only
// while the layer's weights are not trained. The layer's output has x's dtype.
func Recompute(ctx *context.Context, x *graph.Node, layer func(ctx *context.Context, x *graph.Node) *graph.Node) *graph.Node {
	y := layer(ctx, graph.StopGradient(x))
	return withGradient(y, []*graph.Node{x}, func(dy *graph.Node) []*graph.Node {
		input := after(x, dy)
		return graph.Gradient(graph.ReduceAllSum(graph.Mul(layer(ctx.Reuse(), input), dy)), input)
	})
}
