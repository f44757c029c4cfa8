package unet

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sdLayerNames are the P+/NeTI names of the 16 cross-attention layers of SD 1.x/2.x, in forward order.
var sdLayerNames = []string{"IN01", "IN02", "IN04", "IN05", "IN07", "IN08", "MID",
	"OUT03", "OUT04", "OUT05", "OUT06", "OUT07", "OUT08", "OUT09", "OUT10", "OUT11"}

// sdLayerModules are the diffusers transformer modules of those layers.
var sdLayerModules = []string{
	"down_blocks.0.attentions.0", "down_blocks.0.attentions.1", "down_blocks.1.attentions.0",
	"down_blocks.1.attentions.1", "down_blocks.2.attentions.0", "down_blocks.2.attentions.1",
	"mid_block.attentions.0",
	"up_blocks.1.attentions.0", "up_blocks.1.attentions.1", "up_blocks.1.attentions.2",
	"up_blocks.2.attentions.0", "up_blocks.2.attentions.1", "up_blocks.2.attentions.2",
	"up_blocks.3.attentions.0", "up_blocks.3.attentions.1", "up_blocks.3.attentions.2",
}

// TestCrossAttentionLayersSD checks the layer table of the real SD 1.5 and 2.1 configs and of the tiny
// fixtures.
func TestCrossAttentionLayersSD(t *testing.T) {
	for _, path := range []string{"testdata/stable-diffusion-v1-5.json", "testdata/stable-diffusion-2-1.json",
		repoTestdata + "/tiny-sd1/unet/config.json", repoTestdata + "/tiny-sd2/unet/config.json"} {
		cfg, err := LoadConfig(path)
		require.NoError(t, err)
		layers := cfg.CrossAttentionLayers()
		require.Len(t, layers, 16, path)
		for i, l := range layers {
			assert.Equal(t, Layer{Index: i, Name: sdLayerNames[i],
				Path: sdLayerModules[i] + ".transformer_blocks.0.attn2"}, l, "%s layer %d", path, i)
		}
	}
}

// TestCrossAttentionLayersGeneric checks the numbering of another topology: two levels, one resnet per
// down block, attention only in the lower level, no mid block.
func TestCrossAttentionLayersGeneric(t *testing.T) {
	cfg, err := ParseConfig([]byte(`{
		"down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D"],
		"up_block_types": ["CrossAttnUpBlock2D", "UpBlock2D"],
		"block_out_channels": [32, 64], "layers_per_block": 1, "attention_head_dim": 2,
		"norm_num_groups": 8, "mid_block_type": null}`))
	require.NoError(t, err)
	want := []Layer{
		{0, "IN03", "down_blocks.1.attentions.0.transformer_blocks.0.attn2"},
		{1, "OUT00", "up_blocks.0.attentions.0.transformer_blocks.0.attn2"},
		{2, "OUT01", "up_blocks.0.attentions.1.transformer_blocks.0.attn2"},
	}
	assert.Equal(t, want, cfg.CrossAttentionLayers())
	assert.Equal(t, "IN03 (down_blocks.1.attentions.0.transformer_blocks.0.attn2)", want[0].String())
}
