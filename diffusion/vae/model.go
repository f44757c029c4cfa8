package vae

import (
	"fmt"

	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/org/neti/internal/nn"
)

// Logvar clamp of diffusers' DiagonalGaussianDistribution.
const (
	minLogvar = -30.0
	maxLogvar = 20.0
)

// Encode runs the encoder and quant_conv: images [B, in_channels, H, W] with values in [-1, 1] →
// the posterior's mean and logvar, each [B, latent_channels, H/f, W/f] with f = cfg.ScaleFactor(); logvar
// is clamped to [-30, 20] as diffusers does. The latents are not scaled: the pipeline multiplies a sample
// by the scaling factor (see ScaleLatents) before the UNet sees it.
//
// ctx is the VAE's root scope (the caller's ctx.In("vae")); variables are created under "encoder" and
// "quant_conv" with diffusers' names. The graph runs in the dtype of images. Panics on shape errors.
func Encode(ctx *context.Context, cfg Config, images *graph.Node) (mean, logvar *graph.Node) {
	b := newBuilder(cfg)
	images.AssertRank(4)
	if c := images.Shape().Dim(1); c != cfg.InChannels {
		panic(fmt.Sprintf("vae.Encode: images shaped %s have %d channels: expected [batch, %d, H, W] (in_channels)",
			images.Shape(), c, cfg.InChannels))
	}
	h := b.encoder(ctx.In("encoder"), cfg, images)
	if cfg.UseQuantConv {
		h = nn.Conv2D(ctx.In("quant_conv"), h, 2*cfg.LatentChannels, 1, 1, 0)
	}
	// [B, 2·latent, h, w] → 2 × [B, latent, h, w]
	parts := graph.Split(h, 1, 2)
	return parts[0], graph.ClipScalar(parts[1], minLogvar, maxLogvar)
}

// Decode runs post_quant_conv and the decoder: latents [B, latent_channels, h, w] → images
// [B, out_channels, h·f, w·f] with f = cfg.ScaleFactor(), nominally in [-1, 1] (not clipped).
//
// The latents are the unscaled ones (as Encode returns them): a pipeline divides the UNet's latents by the
// scaling factor first (see UnscaleLatents). ctx is the VAE's root scope; variables are created under
// "post_quant_conv" and "decoder". The graph runs in the dtype of latents. Panics on shape errors.
func Decode(ctx *context.Context, cfg Config, latents *graph.Node) *graph.Node {
	b := newBuilder(cfg)
	latents.AssertRank(4)
	if c := latents.Shape().Dim(1); c != cfg.LatentChannels {
		panic(fmt.Sprintf("vae.Decode: latents shaped %s have %d channels: expected [batch, %d, h, w] "+
			"(latent_channels)", latents.Shape(), c, cfg.LatentChannels))
	}
	z := latents
	if cfg.UsePostQuantConv {
		z = nn.Conv2D(ctx.In("post_quant_conv"), z, cfg.LatentChannels, 1, 1, 0)
	}
	return b.decoder(ctx.In("decoder"), cfg, z)
}

// Sample draws from the posterior with the given standard normal noise (shaped like mean):
// mean + exp(logvar/2)·noise.
func Sample(mean, logvar, noise *graph.Node) *graph.Node {
	return graph.Add(mean, graph.Mul(graph.Exp(graph.MulScalar(logvar, 0.5)), noise))
}

// ScaleLatents maps VAE latents to the UNet's latent space: (latents − shift_factor)·scaling_factor
// (shift 0 when shift_factor is null, as for Stable Diffusion).
func ScaleLatents(cfg Config, latents *graph.Node) *graph.Node {
	if cfg.ShiftFactor != nil {
		latents = graph.AddScalar(latents, -cfg.Shift())
	}
	return graph.MulScalar(latents, cfg.ScalingFactor)
}

// UnscaleLatents is the inverse of ScaleLatents, applied before Decode: latents/scaling_factor + shift_factor.
func UnscaleLatents(cfg Config, latents *graph.Node) *graph.Node {
	latents = graph.MulScalar(latents, 1/cfg.ScalingFactor)
	if cfg.ShiftFactor != nil {
		latents = graph.AddScalar(latents, cfg.Shift())
	}
	return latents
}

// encoder is diffusers' Encoder with double_z: x [B, in, H, W] → [B, 2·latent, H/f, W/f].
func (b builder) encoder(ctx *context.Context, cfg Config, x *graph.Node) *graph.Node {
	channels := cfg.BlockOutChannels
	x = nn.Conv2D(ctx.In("conv_in"), x, channels[0], 3, 1, 1)
	for i, out := range channels {
		block := at(ctx, "down_blocks", i)
		for j := range cfg.LayersPerBlock {
			x = b.resnet(at(block, "resnets", j), x, out)
		}
		if i < len(channels)-1 {
			x = nn.Downsample2D(at(block, "downsamplers", 0), x, 0)
		}
	}
	x = b.midBlock(ctx.In("mid_block"), x, cfg.MidBlockAddAttention)
	x = nn.SiLU(nn.GroupNorm(ctx.In("conv_norm_out"), x, b.groups, normEps))
	return nn.Conv2D(ctx.In("conv_out"), x, 2*cfg.LatentChannels, 3, 1, 1)
}

// decoder is diffusers' Decoder with GroupNorm: z [B, latent, h, w] → [B, out, h·f, w·f].
func (b builder) decoder(ctx *context.Context, cfg Config, z *graph.Node) *graph.Node {
	channels := cfg.BlockOutChannels
	n := len(channels)
	x := nn.Conv2D(ctx.In("conv_in"), z, channels[n-1], 3, 1, 1)
	x = b.midBlock(ctx.In("mid_block"), x, cfg.MidBlockAddAttention)
	for i := range n {
		out := channels[n-1-i]
		block := at(ctx, "up_blocks", i)
		for j := range cfg.LayersPerBlock + 1 {
			x = b.resnet(at(block, "resnets", j), x, out)
		}
		if i < n-1 {
			x = nn.Upsample2D(at(block, "upsamplers", 0), x)
		}
	}
	x = nn.SiLU(nn.GroupNorm(ctx.In("conv_norm_out"), x, b.groups, normEps))
	return nn.Conv2D(ctx.In("conv_out"), x, cfg.OutChannels, 3, 1, 1)
}
