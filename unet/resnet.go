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
