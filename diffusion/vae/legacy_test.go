package vae

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestLegacyName(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"encoder.mid_block.attentions.0.query.weight", "encoder.mid_block.attentions.0.to_q.weight"},
		{"encoder.mid_block.attentions.0.query.bias", "encoder.mid_block.attentions.0.to_q.bias"},
		{"decoder.mid_block.attentions.0.key.weight", "decoder.mid_block.attentions.0.to_k.weight"},
		{"decoder.mid_block.attentions.0.value.bias", "decoder.mid_block.attentions.0.to_v.bias"},
		{"decoder.mid_block.attentions.0.proj_attn.weight", "decoder.mid_block.attentions.0.to_out.0.weight"},
		{"vae.encoder.mid_block.attentions.0.proj_attn.bias", "vae.encoder.mid_block.attentions.0.to_out.0.bias"},
		// Already current, or not an attention of the VAE mid block: unchanged.
		{"encoder.mid_block.attentions.0.to_q.weight", "encoder.mid_block.attentions.0.to_q.weight"},
		{"encoder.mid_block.attentions.0.group_norm.weight", "encoder.mid_block.attentions.0.group_norm.weight"},
		{"decoder.up_blocks.0.resnets.0.conv1.weight", "decoder.up_blocks.0.resnets.0.conv1.weight"},
		{"mid_block.attentions.0.transformer_blocks.0.attn1.query.weight",
			"mid_block.attentions.0.transformer_blocks.0.attn1.query.weight"},
		{"encoder.mid_block.attentions.0.query.weightx", "encoder.mid_block.attentions.0.query.weightx"},
	} {
		got, keep := LegacyName(tc.in)
		assert.Equal(t, tc.want, got, "LegacyName(%q)", tc.in)
		assert.True(t, keep, "LegacyName(%q) keeps the tensor", tc.in)
	}
}

func TestLegacyDims(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      []int
		want    []int
		changed bool
	}{
		{"encoder.mid_block.attentions.0.to_q.weight", []int{512, 512, 1, 1}, []int{512, 512}, true},
		{"decoder.mid_block.attentions.0.to_out.0.weight", []int{8, 8, 1, 1}, []int{8, 8}, true},
		{"decoder.mid_block.attentions.0.to_out.0.weight", []int{8, 8}, []int{8, 8}, false},
		{"decoder.mid_block.attentions.0.to_v.bias", []int{8}, []int{8}, false},
		{"quant_conv.weight", []int{8, 8, 1, 1}, []int{8, 8, 1, 1}, false},
		{"encoder.down_blocks.0.resnets.0.conv_shortcut.weight", []int{64, 32, 1, 1}, []int{64, 32, 1, 1}, false},
	} {
		got, changed := LegacyDims(tc.name, tc.in)
		assert.Equal(t, tc.want, got, "LegacyDims(%q, %v)", tc.name, tc.in)
		assert.Equal(t, tc.changed, changed, "LegacyDims(%q, %v) changed", tc.name, tc.in)
	}
}
