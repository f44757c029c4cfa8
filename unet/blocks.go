package unet

import (
	"fmt"
	"strconv"

	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/org/neti/internal/nn"
)

// builder carries what every block needs while the UNet graph is built.
type builder struct {
	cfg    *Config
	temb   *graph.Node      // [batch, timeDim]
	layers map[string]Layer // transformer module path → cross-attention layer
	cond   Conditioning
}

// crossAttention builds the Transformer2DModel at module path (scope ctx), asking the conditioning for the
// states of the cross-attention layer registered under that path. x [batch, C, H, W] → same shape.
func (b *builder) crossAttention(ctx *context.Context, module string, x *graph.Node, heads, crossDim int) *graph.Node {
	layer, ok := b.layers[module]
	if !ok {
		panic(fmt.Sprintf("unet: no cross-attention layer registered for module %q (bug in the layer table)", module))
	}
	keys, values := layerStates(b.cond, layer, x.Shape().Dim(0), crossDim)
	return transformer2D(ctx, b.cfg, x, heads, keys, values)
}

// downBlock is down_blocks.<i> (CrossAttnDownBlock2D or DownBlock2D): x [batch, C, H, W] →
// [batch, BlockOutChannels[i], H', W'] (halved unless it is the last block), plus the skip states it
// leaves for the up blocks, in order.
func (b *builder) downBlock(ctx *context.Context, i int, x *graph.Node) (*graph.Node, []*graph.Node) {
	cfg := b.cfg
	out := cfg.BlockOutChannels[i]
	var skips []*graph.Node
	for j := range cfg.LayersPerBlock[i] {
		x = resnet(ctx.In("resnets").In(strconv.Itoa(j)), cfg, x, b.temb, out, 1)
		if cfg.DownBlockTypes[i] == CrossAttnDownBlock {
			x = b.crossAttention(ctx.In("attentions").In(strconv.Itoa(j)), attentionModule("down_blocks", i, j), x,
				cfg.AttentionHeads[i], cfg.CrossAttentionDim[i])
		}
		skips = append(skips, x)
	}
	if i < len(cfg.DownBlockTypes)-1 {
		x = nn.Downsample2D(ctx.In("downsamplers").In("0"), x, cfg.DownsamplePadding)
		skips = append(skips, x)
	}
	return x, skips
}

// midBlock is mid_block (UNetMidBlock2DCrossAttn): resnets.0, attentions.0, resnets.1, with the last down
// block's heads and cross-attention width. x [batch, C, H, W] → same shape.
func (b *builder) midBlock(ctx *context.Context, x *graph.Node) *graph.Node {
	cfg := b.cfg
	c := x.Shape().Dim(1)
	last := len(cfg.AttentionHeads) - 1
	resnets := ctx.In("resnets")
	x = resnet(resnets.In("0"), cfg, x, b.temb, c, cfg.MidBlockScaleFactor)
	x = b.crossAttention(ctx.In("attentions").In("0"), "mid_block.attentions.0", x, cfg.AttentionHeads[last],
		cfg.CrossAttentionDim[last])
	return resnet(resnets.In("1"), cfg, x, b.temb, c, cfg.MidBlockScaleFactor)
}

// upBlock is up_blocks.<i> (CrossAttnUpBlock2D or UpBlock2D): each resnet takes x concatenated (channels)
// with the last remaining skip state. x [batch, C, H, W] → [batch, reversed BlockOutChannels[i], 2H, 2W]
// (not doubled for the last block); it returns the skips left over.
func (b *builder) upBlock(ctx *context.Context, i int, x *graph.Node, skips []*graph.Node) (*graph.Node, []*graph.Node) {
	cfg := b.cfg
	n := len(cfg.BlockOutChannels)
	out := cfg.BlockOutChannels[n-1-i]
	for j := range cfg.upLayers(i) {
		skip := skips[len(skips)-1]
		skips = skips[:len(skips)-1]
		x = graph.Concatenate([]*graph.Node{x, skip}, 1)
		x = resnet(ctx.In("resnets").In(strconv.Itoa(j)), cfg, x, b.temb, out, 1)
		if cfg.UpBlockTypes[i] == CrossAttnUpBlock {
			x = b.crossAttention(ctx.In("attentions").In(strconv.Itoa(j)), attentionModule("up_blocks", i, j), x,
				cfg.AttentionHeads[n-1-i], cfg.CrossAttentionDim[n-1-i])
		}
	}
	if i < n-1 {
		x = nn.Upsample2D(ctx.In("upsamplers").In("0"), x)
	}
	return x, skips
}
