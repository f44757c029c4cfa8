package nn

import (
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// Downsample2D is diffusers' Downsample2D with a conv (scope "conv" of ctx): a 3x3 stride-2 conv keeping the
// channels. With padding 0 the input first gets one zero row at the bottom and one zero column at the right
// (diffusers' F.pad(x, (0, 1, 0, 1)), used by the VAE and by UNets with downsample_padding 0); otherwise the
// conv pads symmetrically. x [batch, C, H, W] → [batch, C, H/2, W/2] for even sizes.
//
// The asymmetric pad concatenates zero blocks rather than using graph.Pad: Concatenate (and its gradient, a
// Slice) runs on every backend, Pad on plain SimpleGo only through internal/backend's adapter.
func Downsample2D(ctx *context.Context, x *graph.Node, padding int) *graph.Node {
	x.AssertRank(4)
	channels := x.Shape().Dim(1)
	if padding == 0 {
		b, c, h, w := x.Shape().Dim(0), x.Shape().Dim(1), x.Shape().Dim(2), x.Shape().Dim(3)
		zero := graph.ScalarZero(x.Graph(), x.DType())
		x = graph.Concatenate([]*graph.Node{x, graph.BroadcastToDims(zero, b, c, h, 1)}, 3)   // [b, c, h, w+1]
		x = graph.Concatenate([]*graph.Node{x, graph.BroadcastToDims(zero, b, c, 1, w+1)}, 2) // [b, c, h+1, w+1]
	}
	return Conv2D(ctx.In("conv"), x, channels, 3, 2, padding)
}

// Upsample2D is diffusers' Upsample2D with a conv (scope "conv" of ctx): nearest-neighbour 2x, then a 3x3
// conv keeping the channels. x [batch, C, H, W] → [batch, C, 2H, 2W].
func Upsample2D(ctx *context.Context, x *graph.Node) *graph.Node {
	return Conv2D(ctx.In("conv"), UpsampleNearest2x(x), x.Shape().Dim(1), 3, 1, 1)
}
