package unet

import (
	"fmt"

	"github.com/gomlx/gomlx/pkg/core/graph"
)

// Conditioning supplies the encoder states of each cross-attention layer: the UNet asks it once per layer
// of cfg.CrossAttentionLayers() while the graph is built, identifying the layer by its fixed Layer value
// (never by the order or number of calls).
//
// keys are the states the layer computes its attention keys from (to_k), values those it computes its
// values from (to_v); both are [batch, seq, crossAttentionDim] with the same seq, in the graph being
// built, and may be the same node. Ordinary text conditioning returns the text encoder's output for every
// layer (Shared); NeTI returns per-layer states, and with its textual bypass different keys and values.
type Conditioning interface {
	States(layer Layer) (keys, values *graph.Node)
}

// Shared returns the conditioning of ordinary Stable Diffusion: states [batch, seq, crossAttentionDim] are
// both keys and values of every cross-attention layer.
func Shared(states *graph.Node) Conditioning { return shared{states} }

// shared is the Conditioning returned by Shared.
type shared struct{ states *graph.Node }

// States implements Conditioning.
func (s shared) States(Layer) (keys, values *graph.Node) { return s.states, s.states }

// PerLayer returns a Conditioning that gives layer l the states keys[l.Index] and values[l.Index]; both
// slices need one [batch, seq, crossAttentionDim] node per cross-attention layer, in forward order.
// It panics (while the graph is built) if asked for a layer outside the slices.
func PerLayer(keys, values []*graph.Node) Conditioning { return perLayer{keys, values} }

// perLayer is the Conditioning returned by PerLayer.
type perLayer struct{ keys, values []*graph.Node }

// States implements Conditioning.
func (p perLayer) States(l Layer) (keys, values *graph.Node) {
	if l.Index < 0 || l.Index >= len(p.keys) || l.Index >= len(p.values) {
		panic(fmt.Sprintf("unet.PerLayer: layer %s has index %d but %d keys and %d values were given: "+
			"expected one per cross-attention layer", l, l.Index, len(p.keys), len(p.values)))
	}
	return p.keys[l.Index], p.values[l.Index]
}

// layerStates asks cond for the states of layer and checks them against the layer's expected batch and
// width; it panics with a message naming the layer otherwise.
func layerStates(cond Conditioning, layer Layer, batch, crossDim int) (keys, values *graph.Node) {
	keys, values = cond.States(layer)
	if keys == nil || values == nil {
		panic(fmt.Sprintf("unet: Conditioning returned nil states for layer %s", layer))
	}
	for _, s := range []struct {
		what string
		n    *graph.Node
	}{{"keys", keys}, {"values", values}} {
		dims := s.n.Shape().Dimensions
		if len(dims) != 3 || dims[0] != batch || dims[2] != crossDim {
			panic(fmt.Sprintf("unet: Conditioning %s for layer %s have shape %s: expected [%d, seq, %d] "+
				"(batch, tokens, cross_attention_dim)", s.what, layer, s.n.Shape(), batch, crossDim))
		}
	}
	if keys.Shape().Dim(1) != values.Shape().Dim(1) {
		panic(fmt.Sprintf("unet: Conditioning keys %s and values %s for layer %s have different sequence "+
			"lengths: expected the same", keys.Shape(), values.Shape(), layer))
	}
	return keys, values
}
