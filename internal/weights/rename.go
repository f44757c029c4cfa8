package weights

import "strings"

// legacyVAEAttention maps the attention projection names of old VAE checkpoints to the current diffusers
// names.
var legacyVAEAttention = map[string]string{
	"query":     "to_q",
	"key":       "to_k",
	"value":     "to_v",
	"proj_attn": "to_out.0",
}

// LegacyVAEAttention is an Options.Rename hook for VAE checkpoints saved by old diffusers versions, whose
// attention blocks name their projections query/key/value/proj_attn instead of to_q/to_k/to_v/to_out.0,
// e.g. "mid_block.attentions.0.query.weight" → "mid_block.attentions.0.to_q.weight". Other names pass
// through unchanged. Shapes are not changed.
func LegacyVAEAttention(name string) (string, bool) {
	parts := strings.Split(name, ".")
	// The projection is the component just before the final weight/bias, inside an "attentions" block.
	if len(parts) < 3 || !strings.Contains(name, "attentions.") {
		return name, true
	}
	proj := len(parts) - 2
	if renamed, ok := legacyVAEAttention[parts[proj]]; ok {
		parts[proj] = renamed
		return strings.Join(parts, "."), true
	}
	return name, true
}
