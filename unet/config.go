package unet

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"github.com/org/neti/internal/nn"
)

// Block types of the diffusers configs this package builds.
const (
	CrossAttnDownBlock = "CrossAttnDownBlock2D"
	DownBlock          = "DownBlock2D"
	CrossAttnUpBlock   = "CrossAttnUpBlock2D"
	UpBlock            = "UpBlock2D"
	CrossAttnMidBlock  = "UNetMidBlock2DCrossAttn"
)

// Config is a validated diffusers UNet2DConditionModel configuration (unet/config.json) of the SD 1.x/2.x
// family. Per-block lists are resolved to one entry per down block (index i of DownBlockTypes); the up blocks
// use them reversed, as diffusers does.
type Config struct {
	// SampleSize is the latent height and width the model was trained at (64 for SD 1.5), 0 if unset.
	SampleSize int
	// InChannels and OutChannels are the latent channels of the input sample and of the output (4).
	InChannels, OutChannels int
	// CenterInputSample maps the sample x to 2x−1 before conv_in.
	CenterInputSample bool
	// FlipSinToCos orders the timestep embedding as [cos, sin] instead of [sin, cos].
	FlipSinToCos bool
	// FreqShift is the downscale_freq_shift of the sinusoidal timestep embedding.
	FreqShift float64
	// DownBlockTypes and UpBlockTypes name the blocks (CrossAttnDownBlock2D, DownBlock2D, UpBlock2D,
	// CrossAttnUpBlock2D), in forward order.
	DownBlockTypes, UpBlockTypes []string
	// MidBlockType is UNetMidBlock2DCrossAttn, or "" for no mid block.
	MidBlockType string
	// BlockOutChannels are the channels of each down block (320, 640, 1280, 1280 for SD).
	BlockOutChannels []int
	// LayersPerBlock is the number of resnets of each down block; up block i has
	// LayersPerBlock[len-1-i]+1.
	LayersPerBlock []int
	// AttentionHeads is the number of attention heads of each down block's transformers (the mid block
	// uses the last entry, up blocks the reversed list). diffusers reads it from attention_head_dim, which
	// for these models is the number of heads, not the head width.
	AttentionHeads []int
	// CrossAttentionDim is the width of the encoder states of each down block's cross-attention.
	CrossAttentionDim []int
	// DownsamplePadding is the padding of the stride-2 downsampling convs (0 pads right/bottom by one).
	DownsamplePadding int
	// MidBlockScaleFactor divides the output of the mid block's resnets.
	MidBlockScaleFactor float64
	// ActFn is the activation of resnets, time embedding and output ("silu").
	ActFn string
	// NormNumGroups and NormEps configure the group norms of resnets and conv_norm_out.
	NormNumGroups int
	NormEps       float64
	// UseLinearProjection makes proj_in/proj_out of the transformers Linear layers instead of 1x1 convs.
	UseLinearProjection bool
	// UpcastAttention computes attention scores in float32 (always done here, see nn.Attention).
	UpcastAttention bool
	// TimeEmbeddingDim is the width of the projected timestep embedding (4·BlockOutChannels[0] by default).
	TimeEmbeddingDim int
	// ConvInKernel and ConvOutKernel are the (odd) kernel sizes of conv_in and conv_out (3).
	ConvInKernel, ConvOutKernel int
}

// LoadConfig reads and validates a diffusers unet/config.json.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("unet.LoadConfig: %w", err)
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("unet.LoadConfig %s: %w", path, err)
	}
	return cfg, nil
}

// ParseConfig parses and validates the JSON of a diffusers UNet2DConditionModel config. Missing keys take
// diffusers' defaults; features outside SD 1.x/2.x (SDXL's added embeddings, several transformer layers per
// block, class embeddings, dual cross-attention, ...) are rejected with an error naming the key.
func ParseConfig(data []byte) (*Config, error) {
	var raw rawConfig
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("unet.ParseConfig: invalid JSON: %w", err)
	}
	if err := raw.checkUnsupported(); err != nil {
		return nil, fmt.Errorf("unet.ParseConfig: %w", err)
	}
	cfg, err := raw.resolve()
	if err != nil {
		return nil, fmt.Errorf("unet.ParseConfig: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("unet.ParseConfig: %w", err)
	}
	return cfg, nil
}

// Validate checks the consistency of a Config (list lengths, block types, divisibility of channels by
// groups and heads). ParseConfig calls it; call it after building or editing a Config by hand.
func (cfg *Config) Validate() error {
	n := len(cfg.DownBlockTypes)
	if n == 0 {
		return fmt.Errorf("config has no down_block_types: expected at least one block")
	}
	if len(cfg.UpBlockTypes) != n {
		return fmt.Errorf("config has %d down_block_types but %d up_block_types: expected the same number",
			n, len(cfg.UpBlockTypes))
	}
	for _, list := range []struct {
		key string
		len int
	}{{"block_out_channels", len(cfg.BlockOutChannels)}, {"layers_per_block", len(cfg.LayersPerBlock)},
		{"attention_head_dim", len(cfg.AttentionHeads)}, {"cross_attention_dim", len(cfg.CrossAttentionDim)}} {
		if list.len != n {
			return fmt.Errorf("config %s has %d entries: expected one per down block (%d)", list.key, list.len, n)
		}
	}
	for i, t := range cfg.DownBlockTypes {
		if t != CrossAttnDownBlock && t != DownBlock {
			return fmt.Errorf("config down_block_types[%d] = %q is not supported: expected %q or %q", i, t,
				CrossAttnDownBlock, DownBlock)
		}
	}
	for i, t := range cfg.UpBlockTypes {
		if t != CrossAttnUpBlock && t != UpBlock {
			return fmt.Errorf("config up_block_types[%d] = %q is not supported: expected %q or %q", i, t,
				UpBlock, CrossAttnUpBlock)
		}
	}
	if cfg.MidBlockType != "" && cfg.MidBlockType != CrossAttnMidBlock {
		return fmt.Errorf("config mid_block_type %q is not supported: expected %q or null", cfg.MidBlockType,
			CrossAttnMidBlock)
	}
	if nn.Activation(cfg.ActFn) == nil {
		return fmt.Errorf("config act_fn %q is not supported: expected \"silu\", \"swish\" or \"gelu\"", cfg.ActFn)
	}
	if cfg.InChannels <= 0 || cfg.OutChannels <= 0 || cfg.NormNumGroups <= 0 || cfg.TimeEmbeddingDim <= 0 {
		return fmt.Errorf("config in_channels %d, out_channels %d, norm_num_groups %d, time embedding dim %d: "+
			"expected positive values", cfg.InChannels, cfg.OutChannels, cfg.NormNumGroups, cfg.TimeEmbeddingDim)
	}
	if cfg.ConvInKernel%2 == 0 || cfg.ConvOutKernel%2 == 0 || cfg.ConvInKernel < 1 || cfg.ConvOutKernel < 1 {
		return fmt.Errorf("config conv_in_kernel %d / conv_out_kernel %d: expected odd positive kernel sizes",
			cfg.ConvInKernel, cfg.ConvOutKernel)
	}
	if cfg.BlockOutChannels[0]%2 != 0 {
		return fmt.Errorf("config block_out_channels[0] = %d: expected an even width for the sinusoidal "+
			"timestep embedding", cfg.BlockOutChannels[0])
	}
	for i, c := range cfg.BlockOutChannels {
		if c <= 0 || c%cfg.NormNumGroups != 0 {
			return fmt.Errorf("config block_out_channels[%d] = %d: expected a positive multiple of "+
				"norm_num_groups %d", i, c, cfg.NormNumGroups)
		}
		if cfg.LayersPerBlock[i] < 1 {
			return fmt.Errorf("config layers_per_block[%d] = %d: expected at least 1", i, cfg.LayersPerBlock[i])
		}
		if cfg.AttentionHeads[i] < 1 || c%cfg.AttentionHeads[i] != 0 {
			return fmt.Errorf("config block_out_channels[%d] = %d is not divisible by its number of attention "+
				"heads %d (attention_head_dim[%d])", i, c, cfg.AttentionHeads[i], i)
		}
		if cfg.CrossAttentionDim[i] < 1 {
			return fmt.Errorf("config cross_attention_dim[%d] = %d: expected a positive width", i,
				cfg.CrossAttentionDim[i])
		}
	}
	if cfg.DownsamplePadding < 0 {
		return fmt.Errorf("config downsample_padding %d: expected >= 0", cfg.DownsamplePadding)
	}
	return nil
}

// NumUpsamplers is the number of 2x upsamplings (len(UpBlockTypes)-1): sample heights and widths must be
// multiples of 2^NumUpsamplers.
func (cfg *Config) NumUpsamplers() int { return len(cfg.UpBlockTypes) - 1 }
