package vae

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadConfigSD15(t *testing.T) {
	path := realConfigPath("stable-diffusion-v1-5")
	cfg, err := LoadConfig(path)
	require.NoError(t, err, "LoadConfig(%s)", path)
	assert.Equal(t, []int{128, 256, 512, 512}, cfg.BlockOutChannels)
	assert.Equal(t, 2, cfg.LayersPerBlock)
	assert.Equal(t, 4, cfg.LatentChannels)
	assert.Equal(t, 32, cfg.NormNumGroups)
	assert.Equal(t, SampleSize{512, 512}, cfg.SampleSize)
	assert.Equal(t, 8, cfg.ScaleFactor(), "ScaleFactor of 4 blocks")
	// Absent in SD 1.5's config: AutoencoderKL's defaults.
	assert.InDelta(t, 0.18215, cfg.ScalingFactor, 0, "scaling_factor default")
	assert.Nil(t, cfg.ShiftFactor, "shift_factor default")
	assert.True(t, cfg.UseQuantConv && cfg.UsePostQuantConv && cfg.MidBlockAddAttention && cfg.ForceUpcast,
		"boolean defaults: %+v", cfg)
}

func TestParseConfigFields(t *testing.T) {
	cfg, err := ParseConfig([]byte(`{"block_out_channels": [32, 64], "down_block_types": ["DownEncoderBlock2D",
		"DownEncoderBlock2D"], "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D"], "layers_per_block": 1,
		"latent_channels": 4, "norm_num_groups": 16, "sample_size": [64, 32], "scaling_factor": 0.13025,
		"shift_factor": 0.0609, "force_upcast": false, "use_quant_conv": false, "use_post_quant_conv": false,
		"mid_block_add_attention": false, "_class_name": "AutoencoderKL"}`))
	require.NoError(t, err)
	assert.Equal(t, 2, cfg.ScaleFactor(), "ScaleFactor of 2 blocks")
	assert.Equal(t, SampleSize{64, 32}, cfg.SampleSize)
	assert.InDelta(t, 0.13025, cfg.ScalingFactor, 0)
	require.NotNil(t, cfg.ShiftFactor)
	assert.InDelta(t, 0.0609, cfg.Shift(), 0)
	assert.False(t, cfg.ForceUpcast || cfg.UseQuantConv || cfg.UsePostQuantConv || cfg.MidBlockAddAttention,
		"booleans set to false: %+v", cfg)

	empty, err := ParseConfig([]byte(`{}`))
	require.NoError(t, err)
	assert.Equal(t, DefaultConfig(), empty, "an empty config is AutoencoderKL's defaults")
	assert.Equal(t, 1, empty.ScaleFactor(), "ScaleFactor of 1 block")
}

func TestParseConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		json, field string
	}{
		{`{"down_block_types": ["AttnDownEncoderBlock2D"]}`, "down_block_types"},
		{`{"up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D"]}`, "up_block_types"},
		{`{"act_fn": "mish"}`, "act_fn"},
		{`{"block_out_channels": [48]}`, "block_out_channels"},
		{`{"block_out_channels": [], "down_block_types": [], "up_block_types": []}`, "block_out_channels"},
		{`{"latent_channels": 0}`, "latent_channels"},
		{`{"latents_mean": [0.1, 0.2, 0.3, 0.4]}`, "latents_mean"},
		{`{"scaling_factor": -1}`, "scaling_factor"},
		{`{"sample_size": [1, 2, 3]}`, "sample_size"},
	} {
		_, err := ParseConfig([]byte(tc.json))
		if assert.Error(t, err, "ParseConfig(%s)", tc.json) {
			assert.Contains(t, err.Error(), tc.field, "ParseConfig(%s)", tc.json)
		}
	}
}
