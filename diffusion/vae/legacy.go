package vae

import (
	"regexp"
	"slices"
)

// legacyAttention matches a mid-block attention tensor of an old diffusers checkpoint (before diffusers
// 0.14 renamed AttentionBlock's layers): encoder/decoder "mid_block.attentions.<n>.<layer>.<weight|bias>"
// with the old layer names query, key, value and proj_attn. An optional prefix (such as "vae.") is kept.
var legacyAttention = regexp.MustCompile(`^(.*(?:^|\.)(?:encoder|decoder)\.mid_block\.attentions\.\d+\.)` +
	`(query|key|value|proj_attn)\.(weight|bias)$`)

// legacyLayers maps the old attention layer names to diffusers' current ones.
var legacyLayers = map[string]string{
	"query":     "to_q",
	"key":       "to_k",
	"value":     "to_v",
	"proj_attn": "to_out.0",
}

// currentAttention matches the current names of the mid-block attention's Linear weights.
var currentAttention = regexp.MustCompile(`(?:^|\.)(?:encoder|decoder)\.mid_block\.attentions\.\d+\.` +
	`(?:to_q|to_k|to_v|to_out\.0)\.weight$`)

// LegacyName is the rename rule for old AutoencoderKL checkpoints, with the signature of internal/weights'
// Options.Rename hook: it maps the mid-block attention tensors
// "…mid_block.attentions.N.{query,key,value,proj_attn}.{weight,bias}" to
// "…{to_q,to_k,to_v,to_out.0}.{weight,bias}" (as diffusers' _convert_deprecated_attention_blocks does) and
// returns every other name unchanged. The bool is the hook's "keep" flag: always true (no tensor is dropped).
func LegacyName(name string) (string, bool) {
	m := legacyAttention.FindStringSubmatch(name)
	if m == nil {
		return name, true
	}
	return m[1] + legacyLayers[m[2]] + "." + m[3], true
}

// LegacyDims fixes the shape of a mid-block attention projection weight stored as a 1x1 convolution
// ([C, C, 1, 1], as in checkpoints converted from the original LDM code) to the Linear layout [C, C] this
// package uses. name is the current (renamed) tensor name; the row-major data is unchanged, so a reshape
// suffices. It returns the new dimensions and true, or dims and false when nothing needs fixing.
func LegacyDims(name string, dims []int) ([]int, bool) {
	if len(dims) != 4 || dims[2] != 1 || dims[3] != 1 || !currentAttention.MatchString(name) {
		return dims, false
	}
	return slices.Clone(dims[:2]), true
}
