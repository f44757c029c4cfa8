package unet

import "fmt"

// Layer identifies one cross-attention layer of the UNet (the attn2 of a transformer block), the unit that
// NeTI / P+ condition separately.
type Layer struct {
	// Index is the position of the layer in forward order, 0 ≤ Index < len(cfg.CrossAttentionLayers()).
	Index int
	// Name is the P+/NeTI name of the layer, after the input/middle/output blocks of the original
	// latent-diffusion UNet: "IN01", "IN02", "IN04", ..., "MID", "OUT03", ..., "OUT11" for SD 1.x/2.x.
	Name string
	// Path is the diffusers module path of the cross-attention, e.g.
	// "down_blocks.0.attentions.0.transformer_blocks.0.attn2".
	Path string
}

// String returns "Name (Path)".
func (l Layer) String() string { return fmt.Sprintf("%s (%s)", l.Name, l.Path) }

// CrossAttentionLayers numbers the cross-attention layers of the UNet built from cfg, in forward order:
// the down blocks' attentions, the mid block's, then the up blocks'. SD 1.x and 2.x have 16.
//
// Names follow the latent-diffusion numbering that P+ and NeTI use: the input blocks count 1 per down
// resnet (with its attention) and 1 per downsampler, starting at IN01 after conv_in; the output blocks count
// 1 per up resnet, from OUT00. The numbering depends only on the topology, so it also holds for other
// configurations.
func (cfg *Config) CrossAttentionLayers() []Layer {
	var layers []Layer
	add := func(name, module string) {
		layers = append(layers, Layer{Index: len(layers), Name: name, Path: module + attn2Suffix})
	}
	input := 1 // input block 0 is conv_in
	for i, t := range cfg.DownBlockTypes {
		for j := range cfg.LayersPerBlock[i] {
			if t == CrossAttnDownBlock {
				add(fmt.Sprintf("IN%02d", input), attentionModule("down_blocks", i, j))
			}
			input++
		}
		if i < len(cfg.DownBlockTypes)-1 {
			input++ // downsampler
		}
	}
	if cfg.MidBlockType == CrossAttnMidBlock {
		add("MID", "mid_block.attentions.0")
	}
	output := 0
	for i, t := range cfg.UpBlockTypes {
		for j := range cfg.upLayers(i) {
			if t == CrossAttnUpBlock {
				add(fmt.Sprintf("OUT%02d", output), attentionModule("up_blocks", i, j))
			}
			output++
		}
	}
	return layers
}

// attn2Suffix turns a Transformer2DModel module path into the path of its (single) cross-attention.
const attn2Suffix = ".transformer_blocks.0.attn2"

// attentionModule is the module path of attention j of block i in "down_blocks" or "up_blocks".
func attentionModule(blocks string, i, j int) string {
	return fmt.Sprintf("%s.%d.attentions.%d", blocks, i, j)
}

// upLayers is the number of resnets (and attentions) of up block i: one more than its down counterpart.
func (cfg *Config) upLayers(i int) int { return cfg.LayersPerBlock[len(cfg.LayersPerBlock)-1-i] + 1 }

// layerTable maps transformer module paths ("down_blocks.0.attentions.0") to their Layer.
func (cfg *Config) layerTable() map[string]Layer {
	table := make(map[string]Layer)
	for _, l := range cfg.CrossAttentionLayers() {
		table[l.Path[:len(l.Path)-len(attn2Suffix)]] = l
	}
	return table
}
