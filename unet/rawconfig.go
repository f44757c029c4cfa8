package unet

import (
	"encoding/json"
	"fmt"
	"strings"
)

// rawConfig mirrors the keys of diffusers' UNet2DConditionModel config.json. Pointers are nil when a key is
// absent or null; json.RawMessage holds keys that are an int or a list.
type rawConfig struct {
	ClassName           *string         `json:"_class_name"`
	SampleSize          json.RawMessage `json:"sample_size"`
	InChannels          *int            `json:"in_channels"`
	OutChannels         *int            `json:"out_channels"`
	CenterInputSample   *bool           `json:"center_input_sample"`
	FlipSinToCos        *bool           `json:"flip_sin_to_cos"`
	FreqShift           *float64        `json:"freq_shift"`
	DownBlockTypes      []string        `json:"down_block_types"`
	MidBlockType        json.RawMessage `json:"mid_block_type"`
	UpBlockTypes        []string        `json:"up_block_types"`
	OnlyCrossAttention  json.RawMessage `json:"only_cross_attention"`
	BlockOutChannels    []int           `json:"block_out_channels"`
	LayersPerBlock      json.RawMessage `json:"layers_per_block"`
	DownsamplePadding   *int            `json:"downsample_padding"`
	MidBlockScaleFactor *float64        `json:"mid_block_scale_factor"`
	Dropout             *float64        `json:"dropout"`
	ActFn               *string         `json:"act_fn"`
	NormNumGroups       json.RawMessage `json:"norm_num_groups"`
	NormEps             *float64        `json:"norm_eps"`
	CrossAttentionDim   json.RawMessage `json:"cross_attention_dim"`
	AttentionHeadDim    json.RawMessage `json:"attention_head_dim"`
	NumAttentionHeads   json.RawMessage `json:"num_attention_heads"`
	UseLinearProjection *bool           `json:"use_linear_projection"`
	UpcastAttention     *bool           `json:"upcast_attention"`
	TimeEmbeddingType   *string         `json:"time_embedding_type"`
	TimeEmbeddingDim    *int            `json:"time_embedding_dim"`
	ConvInKernel        *int            `json:"conv_in_kernel"`
	ConvOutKernel       *int            `json:"conv_out_kernel"`

	// Keys whose non-default values are rejected.
	TransformerLayersPerBlock        json.RawMessage `json:"transformer_layers_per_block"`
	ReverseTransformerLayersPerBlock json.RawMessage `json:"reverse_transformer_layers_per_block"`
	AdditionEmbedType                *string         `json:"addition_embed_type"`
	EncoderHidDim                    *int            `json:"encoder_hid_dim"`
	EncoderHidDimType                *string         `json:"encoder_hid_dim_type"`
	DualCrossAttention               *bool           `json:"dual_cross_attention"`
	ClassEmbedType                   *string         `json:"class_embed_type"`
	NumClassEmbeds                   *int            `json:"num_class_embeds"`
	ClassEmbeddingsConcat            *bool           `json:"class_embeddings_concat"`
	MidBlockOnlyCrossAttention       *bool           `json:"mid_block_only_cross_attention"`
	ResnetTimeScaleShift             *string         `json:"resnet_time_scale_shift"`
	ResnetSkipTimeAct                *bool           `json:"resnet_skip_time_act"`
	ResnetOutScaleFactor             *float64        `json:"resnet_out_scale_factor"`
	TimeEmbeddingActFn               *string         `json:"time_embedding_act_fn"`
	TimestepPostAct                  *string         `json:"timestep_post_act"`
	TimeCondProjDim                  *int            `json:"time_cond_proj_dim"`
	AttentionType                    *string         `json:"attention_type"`
	CrossAttentionNorm               *string         `json:"cross_attention_norm"`
}

// checkUnsupported rejects the features of UNet2DConditionModel that this package does not build.
func (r *rawConfig) checkUnsupported() error {
	if r.ClassName != nil && *r.ClassName != "UNet2DConditionModel" {
		return fmt.Errorf("_class_name %q is not supported: expected \"UNet2DConditionModel\"", *r.ClassName)
	}
	if r.AdditionEmbedType != nil {
		if *r.AdditionEmbedType == "text_time" {
			return fmt.Errorf("SDXL UNet is not supported yet: addition_embed_type \"text_time\" (SDXL's " +
				"micro-conditioning); this package builds the SD 1.x/2.x UNet, expected addition_embed_type null")
		}
		return fmt.Errorf("addition_embed_type %q is not supported yet: expected null (SD 1.x/2.x)",
			*r.AdditionEmbedType)
	}
	if layers, ok := transformerLayersAboveOne(r.TransformerLayersPerBlock); ok {
		return fmt.Errorf("SDXL UNet is not supported yet: transformer_layers_per_block %s; expected 1 "+
			"transformer block per attention (SD 1.x/2.x)", layers)
	}
	if isSet(r.ReverseTransformerLayersPerBlock) {
		return fmt.Errorf("reverse_transformer_layers_per_block %s is not supported yet: expected null",
			r.ReverseTransformerLayersPerBlock)
	}
	if isSet(r.NumAttentionHeads) {
		return fmt.Errorf("num_attention_heads %s is not supported (diffusers rejects it too): give the number "+
			"of heads in attention_head_dim", r.NumAttentionHeads)
	}
	if r.DualCrossAttention != nil && *r.DualCrossAttention {
		return fmt.Errorf("dual_cross_attention true is not supported: expected false")
	}
	if r.ClassEmbedType != nil || r.NumClassEmbeds != nil || (r.ClassEmbeddingsConcat != nil && *r.ClassEmbeddingsConcat) {
		return fmt.Errorf("class embeddings (class_embed_type, num_class_embeds, class_embeddings_concat) are not " +
			"supported: expected them null/false, as in SD 1.x/2.x text-to-image UNets")
	}
	if r.EncoderHidDim != nil || r.EncoderHidDimType != nil {
		return fmt.Errorf("encoder_hid_dim / encoder_hid_dim_type are not supported: expected null")
	}
	if onlyCrossAttention(r.OnlyCrossAttention) || (r.MidBlockOnlyCrossAttention != nil && *r.MidBlockOnlyCrossAttention) {
		return fmt.Errorf("only_cross_attention %s is not supported: expected false", r.OnlyCrossAttention)
	}
	checks := []struct {
		bad  bool
		what string
	}{
		{r.ResnetTimeScaleShift != nil && *r.ResnetTimeScaleShift != "default", "resnet_time_scale_shift (expected \"default\")"},
		{r.ResnetSkipTimeAct != nil && *r.ResnetSkipTimeAct, "resnet_skip_time_act (expected false)"},
		{r.ResnetOutScaleFactor != nil && *r.ResnetOutScaleFactor != 1, "resnet_out_scale_factor (expected 1)"},
		{r.TimeEmbeddingType != nil && *r.TimeEmbeddingType != "positional", "time_embedding_type (expected \"positional\")"},
		{r.TimeEmbeddingActFn != nil, "time_embedding_act_fn (expected null)"},
		{r.TimestepPostAct != nil, "timestep_post_act (expected null)"},
		{r.TimeCondProjDim != nil, "time_cond_proj_dim (expected null)"},
		{r.AttentionType != nil && *r.AttentionType != "default", "attention_type (expected \"default\")"},
		{r.CrossAttentionNorm != nil, "cross_attention_norm (expected null)"},
		{r.Dropout != nil && *r.Dropout != 0, "dropout (expected 0)"},
	}
	for _, c := range checks {
		if c.bad {
			return fmt.Errorf("unsupported value of %s", c.what)
		}
	}
	return nil
}

// resolve applies diffusers' defaults and expands per-block settings to one entry per down block.
func (r *rawConfig) resolve() (*Config, error) {
	cfg := &Config{
		InChannels: orDefault(r.InChannels, 4), OutChannels: orDefault(r.OutChannels, 4),
		CenterInputSample: orDefault(r.CenterInputSample, false), FlipSinToCos: orDefault(r.FlipSinToCos, true),
		FreqShift:      orDefault(r.FreqShift, 0),
		DownBlockTypes: r.DownBlockTypes, UpBlockTypes: r.UpBlockTypes, BlockOutChannels: r.BlockOutChannels,
		DownsamplePadding: orDefault(r.DownsamplePadding, 1), MidBlockScaleFactor: orDefault(r.MidBlockScaleFactor, 1),
		ActFn: orDefault(r.ActFn, "silu"), NormEps: orDefault(r.NormEps, 1e-5),
		UseLinearProjection: orDefault(r.UseLinearProjection, false),
		UpcastAttention:     orDefault(r.UpcastAttention, false),
		ConvInKernel:        orDefault(r.ConvInKernel, 3), ConvOutKernel: orDefault(r.ConvOutKernel, 3),
	}
	if cfg.DownBlockTypes == nil {
		cfg.DownBlockTypes = []string{CrossAttnDownBlock, CrossAttnDownBlock, CrossAttnDownBlock, DownBlock}
	}
	if cfg.UpBlockTypes == nil {
		cfg.UpBlockTypes = []string{UpBlock, CrossAttnUpBlock, CrossAttnUpBlock, CrossAttnUpBlock}
	}
	if cfg.BlockOutChannels == nil {
		cfg.BlockOutChannels = []int{320, 640, 1280, 1280}
	}
	n := len(cfg.DownBlockTypes)
	var err error
	if cfg.SampleSize, err = sampleSize(r.SampleSize); err != nil {
		return nil, err
	}
	switch {
	case r.MidBlockType == nil:
		cfg.MidBlockType = CrossAttnMidBlock
	case string(r.MidBlockType) == "null":
		cfg.MidBlockType = ""
	default:
		if err := json.Unmarshal(r.MidBlockType, &cfg.MidBlockType); err != nil {
			return nil, fmt.Errorf("mid_block_type %s: expected a string or null", r.MidBlockType)
		}
	}
	if string(r.NormNumGroups) == "null" {
		return nil, fmt.Errorf("norm_num_groups null is not supported: expected an int (32)")
	}
	if err := unmarshalOr(r.NormNumGroups, &cfg.NormNumGroups, 32); err != nil {
		return nil, fmt.Errorf("norm_num_groups %s: expected an int", r.NormNumGroups)
	}
	if cfg.LayersPerBlock, err = intOrList(r.LayersPerBlock, "layers_per_block", n, 2); err != nil {
		return nil, err
	}
	// diffusers: num_attention_heads = num_attention_heads or attention_head_dim.
	if cfg.AttentionHeads, err = intOrList(r.AttentionHeadDim, "attention_head_dim", n, 8); err != nil {
		return nil, err
	}
	if cfg.CrossAttentionDim, err = intOrList(r.CrossAttentionDim, "cross_attention_dim", n, 1280); err != nil {
		return nil, err
	}
	cfg.TimeEmbeddingDim = 4 * cfg.BlockOutChannels[0]
	if r.TimeEmbeddingDim != nil {
		cfg.TimeEmbeddingDim = *r.TimeEmbeddingDim
	}
	return cfg, nil
}

// orDefault returns *p, or def when p is nil (the key was absent or null).
func orDefault[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// unmarshalOr decodes raw into dst, or sets dst to def when raw is absent.
func unmarshalOr[T any](raw json.RawMessage, dst *T, def T) error {
	if len(raw) == 0 {
		*dst = def
		return nil
	}
	return json.Unmarshal(raw, dst)
}

// isSet reports whether a raw key is present and not null.
func isSet(raw json.RawMessage) bool { return len(raw) > 0 && string(raw) != "null" }

// intOrList decodes a key that is an int (repeated n times) or a list of n ints; absent or null gives def.
func intOrList(raw json.RawMessage, key string, n, def int) ([]int, error) {
	out := make([]int, n)
	if !isSet(raw) {
		for i := range out {
			out[i] = def
		}
		return out, nil
	}
	var one int
	if err := json.Unmarshal(raw, &one); err == nil {
		for i := range out {
			out[i] = one
		}
		return out, nil
	}
	var list []int
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("%s %s: expected an int or a list of ints", key, raw)
	}
	if len(list) != n {
		return nil, fmt.Errorf("%s %s has %d entries: expected one per down block (%d)", key, raw, len(list), n)
	}
	return list, nil
}

// sampleSize decodes sample_size: an int, a list [height, width] with height == width, or null (0).
func sampleSize(raw json.RawMessage) (int, error) {
	if !isSet(raw) {
		return 0, nil
	}
	var one int
	if err := json.Unmarshal(raw, &one); err == nil {
		return one, nil
	}
	var hw []int
	if err := json.Unmarshal(raw, &hw); err != nil || len(hw) != 2 || hw[0] != hw[1] {
		return 0, fmt.Errorf("sample_size %s: expected an int or a square [height, width]", raw)
	}
	return hw[0], nil
}

// transformerLayersAboveOne reports whether transformer_layers_per_block (an int, a list, or a list of
// lists) asks for anything but one transformer block per attention, and returns it for the error message.
func transformerLayersAboveOne(raw json.RawMessage) (string, bool) {
	if !isSet(raw) {
		return "", false
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return string(raw), true
	}
	var anyNotOne func(v any) bool
	anyNotOne = func(v any) bool {
		switch x := v.(type) {
		case float64:
			return x != 1
		case []any:
			for _, e := range x {
				if anyNotOne(e) {
					return true
				}
			}
			return false
		}
		return true
	}
	return strings.Join(strings.Fields(string(raw)), ""), anyNotOne(v)
}

// onlyCrossAttention reports whether only_cross_attention (a bool or a list of bools) is true anywhere.
func onlyCrossAttention(raw json.RawMessage) bool {
	if !isSet(raw) {
		return false
	}
	var one bool
	if err := json.Unmarshal(raw, &one); err == nil {
		return one
	}
	var list []bool
	if err := json.Unmarshal(raw, &list); err != nil {
		return true
	}
	for _, b := range list {
		if b {
			return true
		}
	}
	return false
}
