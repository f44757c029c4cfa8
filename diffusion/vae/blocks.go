package vae

import (
	"strconv"

	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/org/neti/internal/nn"
)

// normEps is the epsilon of every GroupNorm of diffusers' Encoder and Decoder (resnet_eps).
const normEps = 1e-6

// builder holds what every block needs: the configuration's groups and activation.
type builder struct {
	groups int
	act    func(*graph.Node) *graph.Node
}

// newBuilder returns the builder for cfg, panicking (graph-code style) on an invalid config.
func newBuilder(cfg Config) builder {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	act := nn.Activation(cfg.ActFn)
	if act == nil {
		panic("vae: act_fn " + strconv.Quote(cfg.ActFn) + " has no internal/nn activation")
	}
	return builder{groups: cfg.NormNumGroups, act: act}
}

// at returns ctx.In(name).In(index): a ModuleList entry such as "resnets.0".
func at(ctx *context.Context, name string, index int) *context.Context {
	return ctx.In(name).In(strconv.Itoa(index))
}

// resnet is diffusers' ResnetBlock2D without a time embedding (time_embedding_norm "default", temb None,
// output_scale_factor 1): x [B, Cin, H, W] → [B, outChannels, H, W]. Scopes: norm1, conv1, norm2, conv2 and,
// when Cin ≠ outChannels, the 1x1 conv_shortcut.
func (b builder) resnet(ctx *context.Context, x *graph.Node, outChannels int) *graph.Node {
	h := b.act(nn.GroupNorm(ctx.In("norm1"), x, b.groups, normEps))
	h = nn.Conv2D(ctx.In("conv1"), h, outChannels, 3, 1, 1)
	h = b.act(nn.GroupNorm(ctx.In("norm2"), h, b.groups, normEps))
	h = nn.Conv2D(ctx.In("conv2"), h, outChannels, 3, 1, 1)
	shortcut := x
	if x.Shape().Dim(1) != outChannels {
		shortcut = nn.Conv2D(ctx.In("conv_shortcut"), x, outChannels, 1, 1, 0)
	}
	return graph.Add(shortcut, h)
}

// attention is the mid block's single-head spatial self-attention (diffusers' Attention built with
// _from_deprecated_attn_block, residual_connection and rescale_output_factor 1): group_norm, Linear
// to_q/to_k/to_v over the channels of each position, softmax(q·kᵀ/√C)·v, Linear to_out.0, plus the input.
// x [B, C, H, W] → [B, C, H, W].
func (b builder) attention(ctx *context.Context, x *graph.Node) *graph.Node {
	dims := x.Shape().Dimensions
	batch, channels, height, width := dims[0], dims[1], dims[2], dims[3]
	h := nn.GroupNorm(ctx.In("group_norm"), x, b.groups, normEps)
	// [B, C, H, W] → [B, H·W, C]
	h = graph.TransposeAllAxes(graph.Reshape(h, batch, channels, height*width), 0, 2, 1)
	q := nn.Linear(ctx.In("to_q"), h, channels, true)
	k := nn.Linear(ctx.In("to_k"), h, channels, true)
	v := nn.Linear(ctx.In("to_v"), h, channels, true)
	// [B, H·W, C]
	h = nn.Attention(q, k, v, 1, nil)
	h = nn.Linear(at(ctx, "to_out", 0), h, channels, true)
	// [B, H·W, C] → [B, C, H, W]
	h = graph.Reshape(graph.TransposeAllAxes(h, 0, 2, 1), batch, channels, height, width)
	return graph.Add(h, x)
}

// midBlock is diffusers' UNetMidBlock2D without a time embedding: resnets.0, then (if withAttention)
// attentions.0, then resnets.1; x [B, C, H, W] → [B, C, H, W].
func (b builder) midBlock(ctx *context.Context, x *graph.Node, withAttention bool) *graph.Node {
	channels := x.Shape().Dim(1)
	x = b.resnet(at(ctx, "resnets", 0), x, channels)
	if withAttention {
		x = b.attention(at(ctx, "attentions", 0), x)
	}
	return b.resnet(at(ctx, "resnets", 1), x, channels)
}
