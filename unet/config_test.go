package unet

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLoadConfigSD15 parses the real Stable Diffusion 1.5 UNet config.
func TestLoadConfigSD15(t *testing.T) {
	cfg, err := LoadConfig("testdata/stable-diffusion-v1-5.json")
	require.NoError(t, err)
	assert.Equal(t, 64, cfg.SampleSize)
	assert.Equal(t, []int{320, 640, 1280, 1280}, cfg.BlockOutChannels)
	assert.Equal(t, []int{8, 8, 8, 8}, cfg.AttentionHeads, "attention_head_dim 8 is the number of heads")
	assert.Equal(t, []int{768, 768, 768, 768}, cfg.CrossAttentionDim)
	assert.Equal(t, []int{2, 2, 2, 2}, cfg.LayersPerBlock)
	assert.False(t, cfg.UseLinearProjection)
	assert.False(t, cfg.UpcastAttention)
	assert.True(t, cfg.FlipSinToCos)
	assert.Equal(t, 1280, cfg.TimeEmbeddingDim)
	assert.Equal(t, CrossAttnMidBlock, cfg.MidBlockType)
	assert.Equal(t, 32, cfg.NormNumGroups)
	assert.InDelta(t, 1e-5, cfg.NormEps, 1e-12)
	assert.Equal(t, 3, cfg.NumUpsamplers())
}

// TestLoadConfigSD21 parses the real Stable Diffusion 2.1 UNet config (per-block heads, linear projections).
func TestLoadConfigSD21(t *testing.T) {
	cfg, err := LoadConfig("testdata/stable-diffusion-2-1.json")
	require.NoError(t, err)
	assert.Equal(t, 96, cfg.SampleSize)
	assert.Equal(t, []int{5, 10, 20, 20}, cfg.AttentionHeads)
	assert.Equal(t, []int{1024, 1024, 1024, 1024}, cfg.CrossAttentionDim)
	assert.True(t, cfg.UseLinearProjection)
	assert.True(t, cfg.UpcastAttention)
}

// TestLoadConfigRejectsSDXL checks the error for SDXL's UNet.
func TestLoadConfigRejectsSDXL(t *testing.T) {
	_, err := LoadConfig("testdata/stable-diffusion-xl-base-1.0.json")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "SDXL UNet is not supported yet")
	assert.Contains(t, err.Error(), "stable-diffusion-xl-base-1.0.json")
}

// TestParseConfigDefaults checks diffusers' defaults for an empty config (the SD 1.x architecture with
// cross_attention_dim 1280).
func TestParseConfigDefaults(t *testing.T) {
	cfg, err := ParseConfig([]byte(`{}`))
	require.NoError(t, err)
	assert.Equal(t, []string{CrossAttnDownBlock, CrossAttnDownBlock, CrossAttnDownBlock, DownBlock}, cfg.DownBlockTypes)
	assert.Equal(t, []string{UpBlock, CrossAttnUpBlock, CrossAttnUpBlock, CrossAttnUpBlock}, cfg.UpBlockTypes)
	assert.Equal(t, []int{1280, 1280, 1280, 1280}, cfg.CrossAttentionDim)
	assert.Equal(t, []int{8, 8, 8, 8}, cfg.AttentionHeads)
	assert.Equal(t, 4, cfg.InChannels)
	assert.Equal(t, 1, cfg.DownsamplePadding)
	assert.Equal(t, "silu", cfg.ActFn)
	assert.Equal(t, 0, cfg.SampleSize)

	cfg, err = ParseConfig([]byte(`{"mid_block_type": null, "sample_size": [32, 32], "layers_per_block": [1, 2, 1, 2]}`))
	require.NoError(t, err)
	assert.Equal(t, "", cfg.MidBlockType)
	assert.Equal(t, 32, cfg.SampleSize)
	assert.Equal(t, []int{1, 2, 1, 2}, cfg.LayersPerBlock)
}

// TestParseConfigRejects checks that unsupported features fail with an error naming them.
func TestParseConfigRejects(t *testing.T) {
	cases := map[string]string{
		`{"transformer_layers_per_block": 2}`:                   "SDXL UNet is not supported yet",
		`{"transformer_layers_per_block": [1, 1, 1, 2]}`:        "transformer_layers_per_block [1,1,1,2]",
		`{"addition_embed_type": "text"}`:                       "addition_embed_type \"text\"",
		`{"dual_cross_attention": true}`:                        "dual_cross_attention",
		`{"class_embed_type": "timestep"}`:                      "class embeddings",
		`{"num_class_embeds": 10}`:                              "class embeddings",
		`{"num_attention_heads": 8}`:                            "num_attention_heads",
		`{"only_cross_attention": [false, true, false, false]}`: "only_cross_attention",
		`{"down_block_types": ["AttnDownBlock2D", "DownBlock2D"], "up_block_types": ["UpBlock2D", "UpBlock2D"], "block_out_channels": [32, 64]}`: "down_block_types[0] = \"AttnDownBlock2D\"",
		`{"mid_block_type": "UNetMidBlock2D"}`:       "mid_block_type",
		`{"attention_head_dim": [8, 8]}`:             "attention_head_dim [8, 8] has 2 entries",
		`{"attention_head_dim": 7}`:                  "not divisible by its number of attention heads 7",
		`{"block_out_channels": [320, 640, 1280]}`:   "block_out_channels has 3 entries",
		`{"resnet_time_scale_shift": "scale_shift"}`: "resnet_time_scale_shift",
		`{"time_embedding_type": "fourier"}`:         "time_embedding_type",
		`{"_class_name": "UNet2DModel"}`:             "UNet2DModel",
		`{"norm_num_groups": null}`:                  "norm_num_groups null",
		`{"act_fn": "mish"}`:                         "act_fn \"mish\"",
		`{"in_channels": 4,`:                         "invalid JSON",
	}
	for js, want := range cases {
		_, err := ParseConfig([]byte(js))
		if assert.Error(t, err, "config %s", js) {
			assert.Contains(t, err.Error(), want, "config %s", js)
			assert.True(t, strings.HasPrefix(err.Error(), "unet.ParseConfig: "), "error %q has the operation prefix", err)
		}
	}
}
