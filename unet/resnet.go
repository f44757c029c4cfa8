package unet

import (
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/org/neti/internal/nn"
)

// resnet is diffusers' ResnetBlock2D with the "default" time-scale shift: x [batch, in, H, W] and
// temb [batch, timeDim] → [batch, out, H, W]. Scopes: norm1, conv1, time_emb_proj, norm2, conv2 and, when
// in ≠ out, conv_shortcut (1x1). The sum of shortcut and residual is divided by scale.
func resnet(ctx *context.Context, cfg *Config, x, temb *graph.Node, out int, scale float64) *graph.Node {
	act := nn.Activation(cfg.ActFn)
	batch, in := x.Shape().Dim(0), x.Shape().Dim(1)
	h := act(nn.GroupNorm(ctx.In("norm1"), x, cfg.NormNumGroups, cfg.NormEps))
	h = nn.Conv2D(ctx.In("conv1"), h, out, 3, 1, 1)
	// [batch, timeDim] → [batch, out, 1, 1]
	t := nn.Linear(ctx.In("time_emb_proj"), act(temb), out, true)
	h = graph.Add(h, graph.Reshape(t, batch, out, 1, 1))
	h = act(nn.GroupNorm(ctx.In("norm2"), h, cfg.NormNumGroups, cfg.NormEps))
	h = nn.Conv2D(ctx.In("conv2"), h, out, 3, 1, 1)
	if in != out {
		x = nn.Conv2D(ctx.In("conv_shortcut"), x, out, 1, 1, 0)
	}
	y := graph.Add(x, h)
	if scale != 1 {
		y = graph.Div(y, graph.Scalar(y.Graph(), y.DType(), scale))
	}
	return y
}

// downsample is diffusers' Downsample2D with a conv (scope "conv"): a 3x3 stride-2 conv with
// cfg.DownsamplePadding on every side, or, for padding 0, one zero row and column added at the bottom and
// right first. x [batch, C, H, W] → [batch, C, ⌈H/2⌉, ⌈W/2⌉].
func downsample(ctx *context.Context, cfg *Config, x *graph.Node) *graph.Node {
	channels := x.Shape().Dim(1)
	if cfg.DownsamplePadding == 0 {
		x = padBottomRight(x)
	}
	return nn.Conv2D(ctx.In("conv"), x, channels, 3, 2, cfg.DownsamplePadding)
}

// padBottomRight appends one zero row and one zero column: x [batch, C, H, W] → [batch, C, H+1, W+1].
// (Concatenation instead of graph.Pad, which SimpleGo only gets through the backend adapter.)
func padBottomRight(x *graph.Node) *graph.Node {
	g := x.Graph()
	b, c, h, w := x.Shape().Dim(0), x.Shape().Dim(1), x.Shape().Dim(2), x.Shape().Dim(3)
	zero := graph.ScalarZero(g, x.DType())
	x = graph.Concatenate([]*graph.Node{x, graph.BroadcastToDims(zero, b, c, h, 1)}, 3)
	return graph.Concatenate([]*graph.Node{x, graph.BroadcastToDims(zero, b, c, 1, w+1)}, 2)
}

// upsample is diffusers' Upsample2D with a conv (scope "conv"): nearest-neighbour 2x then a 3x3 conv.
// x [batch, C, H, W] → [batch, C, 2H, 2W].
func upsample(ctx *context.Context, x *graph.Node) *graph.Node {
	return nn.Conv2D(ctx.In("conv"), nn.UpsampleNearest2x(x), x.Shape().Dim(1), 3, 1, 1)
}
