package unet

import (
	"fmt"
	"strconv"

	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/org/neti/internal/nn"
)

// Forward builds diffusers' UNet2DConditionModel.forward for cfg: it predicts the noise (or v) of
// sample [batch, InChannels, H, W] at timestep [batch] (float32; a scalar or [1] is broadcast to the batch)
// → [batch, OutChannels, H, W], in sample's dtype. H and W must be multiples of 2^cfg.NumUpsamplers().
//
// ctx is the UNet's root scope (e.g. ctx.In("unet")); variables are created under it with diffusers'
// names (conv_in, time_embedding, down_blocks, mid_block, up_blocks, conv_norm_out, conv_out). cond gives
// each cross-attention layer its encoder states (Shared for ordinary text conditioning). Like all graph
// code it panics on invalid shapes.
func Forward(ctx *context.Context, cfg *Config, sample, timestep *graph.Node, cond Conditioning) *graph.Node {
	checkInputs(cfg, sample, timestep)
	batch := sample.Shape().Dim(0)
	if timestep.Shape().Size() == 1 && batch != 1 {
		timestep = graph.BroadcastToDims(graph.Reshape(timestep, 1), batch)
	} else {
		timestep = graph.Reshape(timestep, batch)
	}
	if cfg.CenterInputSample {
		sample = graph.AddScalar(graph.MulScalar(sample, 2), -1)
	}
	b := &builder{
		cfg:    cfg,
		temb:   timeEmbedding(ctx.In("time_embedding"), cfg, timestep, sample.DType()),
		layers: cfg.layerTable(),
		cond:   cond,
	}
	x := nn.Conv2D(ctx.In("conv_in"), sample, cfg.BlockOutChannels[0], cfg.ConvInKernel, 1, (cfg.ConvInKernel-1)/2)

	skips := []*graph.Node{x}
	downBlocks := ctx.In("down_blocks")
	for i := range cfg.DownBlockTypes {
		var s []*graph.Node
		x, s = b.downBlock(downBlocks.In(strconv.Itoa(i)), i, x)
		skips = append(skips, s...)
	}
	if cfg.MidBlockType == CrossAttnMidBlock {
		x = b.midBlock(ctx.In("mid_block"), x)
	}
	upBlocks := ctx.In("up_blocks")
	for i := range cfg.UpBlockTypes {
		x, skips = b.upBlock(upBlocks.In(strconv.Itoa(i)), i, x, skips)
	}

	x = nn.Activation(cfg.ActFn)(nn.GroupNorm(ctx.In("conv_norm_out"), x, cfg.NormNumGroups, cfg.NormEps))
	return nn.Conv2D(ctx.In("conv_out"), x, cfg.OutChannels, cfg.ConvOutKernel, 1, (cfg.ConvOutKernel-1)/2)
}

// checkInputs panics with a descriptive message if cfg is invalid or sample or timestep do not fit it.
func checkInputs(cfg *Config, sample, timestep *graph.Node) {
	if err := cfg.Validate(); err != nil {
		panic("unet.Forward: invalid config: " + err.Error())
	}
	dims := sample.Shape().Dimensions
	if len(dims) != 4 || dims[1] != cfg.InChannels {
		panic(fmt.Sprintf("unet.Forward: sample has shape %s: expected [batch, %d, height, width]",
			sample.Shape(), cfg.InChannels))
	}
	factor := 1 << cfg.NumUpsamplers()
	if dims[2]%factor != 0 || dims[3]%factor != 0 {
		panic(fmt.Sprintf("unet.Forward: sample height and width %dx%d must be multiples of %d (2^%d "+
			"upsamplers); resize the latents (image sizes multiple of %d pixels for SD)", dims[2], dims[3],
			factor, cfg.NumUpsamplers(), 8*factor))
	}
	if n := timestep.Shape().Size(); timestep.Rank() > 1 || (n != 1 && n != dims[0]) {
		panic(fmt.Sprintf("unet.Forward: timestep has shape %s: expected [%d] (one per sample) or a scalar",
			timestep.Shape(), dims[0]))
	}
}
