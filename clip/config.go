package clip

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/org/neti/internal/nn"
)

// Config is the CLIP text encoder configuration, as transformers' CLIPTextConfig in a diffusers
// text_encoder/config.json. Fields missing from the file take CLIPTextConfig's defaults.
type Config struct {
	// VocabSize is the number of rows of the token embedding table (49408 for SD).
	VocabSize int `json:"vocab_size"`
	// HiddenSize is the width D of the hidden states (768 for SD 1.x, 1024 for SD 2.x).
	HiddenSize int `json:"hidden_size"`
	// IntermediateSize is the width of the MLP's hidden layer (fc1's output).
	IntermediateSize int `json:"intermediate_size"`
	// NumHiddenLayers is the number of transformer layers (12 for SD 1.x, 23 for SD 2.x).
	NumHiddenLayers int `json:"num_hidden_layers"`
	// NumAttentionHeads is the number of attention heads; it divides HiddenSize.
	NumAttentionHeads int `json:"num_attention_heads"`
	// MaxPositionEmbeddings is the number of position embeddings, the longest sequence (77).
	MaxPositionEmbeddings int `json:"max_position_embeddings"`
	// HiddenAct is the MLP activation: "quick_gelu" (SD 1.x) or "gelu" (SD 2.x, exact erf GELU);
	// "gelu_new", "gelu_pytorch_tanh", "silu" and "swish" are accepted too.
	HiddenAct string `json:"hidden_act"`
	// LayerNormEps is the epsilon of every layer norm.
	LayerNormEps float64 `json:"layer_norm_eps"`
	// BOSTokenID, EOSTokenID and PadTokenID are the config's special token ids. SD checkpoints carry the
	// legacy values 0, 2 and 1, which are not the tokenizer's ids; EOSTokenID == 2 selects the legacy
	// pooling rule (see Pooled).
	BOSTokenID int `json:"bos_token_id"`
	EOSTokenID int `json:"eos_token_id"`
	PadTokenID int `json:"pad_token_id"`
	// ProjectionDim is read but unused: CLIPTextModel has no projection.
	ProjectionDim int `json:"projection_dim"`
	// Architectures and ModelType identify the transformers class; only CLIPTextModel /
	// "clip_text_model" are supported.
	Architectures []string `json:"architectures"`
	ModelType     string   `json:"model_type"`
}

// DefaultConfig returns transformers' CLIPTextConfig defaults, which fill the fields a config file omits.
func DefaultConfig() Config {
	return Config{
		VocabSize:             49408,
		HiddenSize:            512,
		IntermediateSize:      2048,
		NumHiddenLayers:       12,
		NumAttentionHeads:     8,
		MaxPositionEmbeddings: 77,
		HiddenAct:             "quick_gelu",
		LayerNormEps:          1e-5,
		BOSTokenID:            49406,
		EOSTokenID:            49407,
		PadTokenID:            1,
		ProjectionDim:         512,
	}
}

// LoadConfig reads and validates a transformers text_encoder/config.json.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("clip.LoadConfig: %w; expected a transformers CLIPTextConfig "+
			"(a diffusers model's text_encoder/config.json)", err)
	}
	return ParseConfig(data, path)
}

// ParseConfig parses and validates the JSON of a CLIPTextConfig; source names the file in errors.
func ParseConfig(data []byte, source string) (*Config, error) {
	cfg := DefaultConfig()
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&cfg); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return nil, fmt.Errorf("clip.ParseConfig: %s: field %q is a JSON %s, expected a %s",
				source, typeErr.Field, typeErr.Value, typeErr.Type)
		}
		return nil, fmt.Errorf("clip.ParseConfig: %s: invalid JSON: %w", source, err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("clip.ParseConfig: %s: %w", source, err)
	}
	return &cfg, nil
}

// Validate checks that the configuration describes a CLIPTextModel this package can build. The error
// names the offending JSON field.
func (c *Config) Validate() error {
	if slices.Contains(c.Architectures, "CLIPTextModelWithProjection") {
		return errors.New("architectures: CLIPTextModelWithProjection (SDXL's text_encoder_2) is not supported " +
			"yet; only CLIPTextModel text encoders (SD 1.x, SD 2.x, SDXL's text_encoder) can be loaded")
	}
	for _, a := range c.Architectures {
		if a != "CLIPTextModel" {
			return fmt.Errorf("architectures: %q is not supported, expected \"CLIPTextModel\"", a)
		}
	}
	if c.ModelType != "" && c.ModelType != "clip_text_model" {
		return fmt.Errorf("model_type: %q is not supported, expected \"clip_text_model\" "+
			"(the text_encoder config of a diffusers model, not a full CLIP config)", c.ModelType)
	}
	positive := []struct {
		name  string
		value int
	}{
		{"vocab_size", c.VocabSize},
		{"hidden_size", c.HiddenSize},
		{"intermediate_size", c.IntermediateSize},
		{"num_hidden_layers", c.NumHiddenLayers},
		{"num_attention_heads", c.NumAttentionHeads},
		{"max_position_embeddings", c.MaxPositionEmbeddings},
	}
	for _, p := range positive {
		if p.value <= 0 {
			return fmt.Errorf("%s: got %d, expected a positive integer", p.name, p.value)
		}
	}
	if c.HiddenSize%c.NumAttentionHeads != 0 {
		return fmt.Errorf("num_attention_heads: %d does not divide hidden_size %d", c.NumAttentionHeads,
			c.HiddenSize)
	}
	if nn.Activation(c.HiddenAct) == nil {
		return fmt.Errorf("hidden_act: %q is not supported, expected one of %q", c.HiddenAct, nn.ActivationNames)
	}
	if !(c.LayerNormEps > 0) {
		return fmt.Errorf("layer_norm_eps: got %g, expected a positive number", c.LayerNormEps)
	}
	return nil
}

// HeadDim is the width of one attention head, HiddenSize / NumAttentionHeads.
func (c *Config) HeadDim() int { return c.HiddenSize / c.NumAttentionHeads }
