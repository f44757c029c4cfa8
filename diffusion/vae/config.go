package vae

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
)

// Config is diffusers' AutoencoderKL configuration (the vae/config.json of a diffusers model folder).
// Missing fields take AutoencoderKL's constructor defaults; see DefaultConfig.
type Config struct {
	// InChannels is the number of image channels the encoder reads (3 for RGB).
	InChannels int `json:"in_channels"`
	// OutChannels is the number of image channels the decoder writes (3 for RGB).
	OutChannels int `json:"out_channels"`
	// BlockOutChannels are the channels of each resolution level, from the image side down.
	BlockOutChannels []int `json:"block_out_channels"`
	// DownBlockTypes names the encoder blocks: only "DownEncoderBlock2D" is supported.
	DownBlockTypes []string `json:"down_block_types"`
	// UpBlockTypes names the decoder blocks: only "UpDecoderBlock2D" is supported.
	UpBlockTypes []string `json:"up_block_types"`
	// LayersPerBlock is the number of resnets per encoder block (the decoder has one more per block).
	LayersPerBlock int `json:"layers_per_block"`
	// ActFn is the resnets' activation ("silu"); the blocks' final activation is always SiLU, as in diffusers.
	ActFn string `json:"act_fn"`
	// LatentChannels is the number of latent channels (4 for Stable Diffusion 1.x/2.x).
	LatentChannels int `json:"latent_channels"`
	// NormNumGroups is the number of groups of every GroupNorm.
	NormNumGroups int `json:"norm_num_groups"`
	// SampleSize is the image size the model was trained at (informational; diffusers uses it for tiling).
	SampleSize SampleSize `json:"sample_size"`
	// ScalingFactor multiplies the latents before the UNet sees them (0.18215 for SD 1.x/2.x).
	ScalingFactor float64 `json:"scaling_factor"`
	// ShiftFactor, when not nil, is subtracted from the latents before scaling (SD3/Flux VAEs); null for SD.
	ShiftFactor *float64 `json:"shift_factor"`
	// LatentsMean and LatentsStd are per-channel latent statistics used by some pipelines; they are not
	// supported (must be null).
	LatentsMean []float64 `json:"latents_mean"`
	// LatentsStd: see LatentsMean.
	LatentsStd []float64 `json:"latents_std"`
	// ForceUpcast says the VAE should run in float32 even when the rest of the pipeline uses float16;
	// it is the caller's choice of dtype to honour it (the graph runs in the dtype of its input).
	ForceUpcast bool `json:"force_upcast"`
	// UseQuantConv adds the 1x1 "quant_conv" after the encoder.
	UseQuantConv bool `json:"use_quant_conv"`
	// UsePostQuantConv adds the 1x1 "post_quant_conv" before the decoder.
	UsePostQuantConv bool `json:"use_post_quant_conv"`
	// MidBlockAddAttention adds the spatial self-attention in the encoder's and decoder's mid blocks.
	MidBlockAddAttention bool `json:"mid_block_add_attention"`
}

// SampleSize is diffusers' sample_size, which is either an int or a [height, width] pair.
type SampleSize struct {
	// Height and Width of the training images; equal when the config holds a single int.
	Height, Width int
}

// UnmarshalJSON reads an int, a [height, width] list or null (which leaves the value unchanged).
func (s *SampleSize) UnmarshalJSON(data []byte) error {
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		return nil
	}
	var n int
	if err := json.Unmarshal(data, &n); err == nil {
		s.Height, s.Width = n, n
		return nil
	}
	var hw []int
	if err := json.Unmarshal(data, &hw); err != nil || len(hw) != 2 {
		return fmt.Errorf("sample_size %s: expected an int or a [height, width] list of two ints", data)
	}
	s.Height, s.Width = hw[0], hw[1]
	return nil
}

// DefaultConfig returns AutoencoderKL's constructor defaults (diffusers), which fill the fields a
// config.json leaves out. Note that they are not Stable Diffusion's values (SD 1.5 sets four blocks and
// layers_per_block 2 in its config.json).
func DefaultConfig() Config {
	return Config{
		InChannels:           3,
		OutChannels:          3,
		BlockOutChannels:     []int{64},
		DownBlockTypes:       []string{"DownEncoderBlock2D"},
		UpBlockTypes:         []string{"UpDecoderBlock2D"},
		LayersPerBlock:       1,
		ActFn:                "silu",
		LatentChannels:       4,
		NormNumGroups:        32,
		SampleSize:           SampleSize{32, 32},
		ScalingFactor:        0.18215,
		ForceUpcast:          true,
		UseQuantConv:         true,
		UsePostQuantConv:     true,
		MidBlockAddAttention: true,
	}
}

// LoadConfig reads and validates a diffusers vae/config.json.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("vae.LoadConfig: %w", err)
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		return Config{}, fmt.Errorf("vae.LoadConfig %s: %w", path, err)
	}
	return cfg, nil
}

// ParseConfig parses and validates the JSON of a diffusers vae/config.json. Fields it leaves out (or sets
// to null) take DefaultConfig's values; unknown fields (such as "_class_name") are ignored.
func ParseConfig(data []byte) (Config, error) {
	cfg := DefaultConfig()
	// Lists are replaced, not merged, by json.Unmarshal only when present: clear the defaults' slices
	// first and restore them if the JSON leaves them out.
	defaults := cfg
	cfg.BlockOutChannels, cfg.DownBlockTypes, cfg.UpBlockTypes = nil, nil, nil
	if err := json.Unmarshal(data, &cfg); err != nil {
		return Config{}, fmt.Errorf("vae.ParseConfig: %w", err)
	}
	if cfg.BlockOutChannels == nil {
		cfg.BlockOutChannels = defaults.BlockOutChannels
	}
	if cfg.DownBlockTypes == nil {
		cfg.DownBlockTypes = defaults.DownBlockTypes
	}
	if cfg.UpBlockTypes == nil {
		cfg.UpBlockTypes = defaults.UpBlockTypes
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// Validate checks that the configuration describes an AutoencoderKL this package builds. Errors name the
// offending config.json field.
func (c Config) Validate() error {
	positive := []struct {
		field string
		value int
	}{
		{"in_channels", c.InChannels}, {"out_channels", c.OutChannels}, {"layers_per_block", c.LayersPerBlock},
		{"latent_channels", c.LatentChannels}, {"norm_num_groups", c.NormNumGroups},
	}
	for _, p := range positive {
		if p.value <= 0 {
			return fmt.Errorf("vae config: %s is %d: expected a positive integer", p.field, p.value)
		}
	}
	n := len(c.BlockOutChannels)
	if n == 0 {
		return fmt.Errorf("vae config: block_out_channels is empty: expected one channel count per level")
	}
	for i, ch := range c.BlockOutChannels {
		if ch <= 0 || ch%c.NormNumGroups != 0 {
			return fmt.Errorf("vae config: block_out_channels[%d] is %d: expected a positive multiple of "+
				"norm_num_groups (%d)", i, ch, c.NormNumGroups)
		}
	}
	if err := blockTypes("down_block_types", c.DownBlockTypes, "DownEncoderBlock2D", n); err != nil {
		return err
	}
	if err := blockTypes("up_block_types", c.UpBlockTypes, "UpDecoderBlock2D", n); err != nil {
		return err
	}
	if !slices.Contains(supportedActivations, c.ActFn) {
		return fmt.Errorf("vae config: act_fn %q is not supported: expected one of %q", c.ActFn,
			supportedActivations)
	}
	if c.ScalingFactor <= 0 {
		return fmt.Errorf("vae config: scaling_factor is %g: expected a positive number (0.18215 for SD)",
			c.ScalingFactor)
	}
	if c.LatentsMean != nil || c.LatentsStd != nil {
		return fmt.Errorf("vae config: latents_mean/latents_std are set (%v, %v): per-channel latent "+
			"statistics are not supported; expected null (as in SD 1.x/2.x)", c.LatentsMean, c.LatentsStd)
	}
	return nil
}

// supportedActivations are the act_fn values of diffusers' get_activation that this package builds
// (diffusers also knows "mish" and "relu").
var supportedActivations = []string{"silu", "swish", "gelu"}

// blockTypes checks that types has n entries, all equal to want.
func blockTypes(field string, types []string, want string, n int) error {
	if len(types) != n {
		return fmt.Errorf("vae config: %s has %d entries %q: expected %d, one per block_out_channels entry",
			field, len(types), types, n)
	}
	if i := slices.IndexFunc(types, func(s string) bool { return s != want }); i >= 0 {
		return fmt.Errorf("vae config: %s[%d] is %q: only %q is supported", field, i, types[i], want)
	}
	return nil
}

// ScaleFactor is the ratio between image and latent sizes, 2^(len(block_out_channels)−1): 8 for Stable
// Diffusion, smaller for tiny test models.
func (c Config) ScaleFactor() int {
	return 1 << (len(c.BlockOutChannels) - 1)
}

// Shift returns ShiftFactor, or 0 when it is null.
func (c Config) Shift() float64 {
	if c.ShiftFactor == nil {
		return 0
	}
	return *c.ShiftFactor
}
