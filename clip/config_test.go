package clip

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sd15TextEncoder is the text_encoder/config.json of runwayml/stable-diffusion-v1-5.
const sd15TextEncoder = `{
  "_name_or_path": "openai/clip-vit-large-patch14",
  "architectures": ["CLIPTextModel"],
  "attention_dropout": 0.0, "bos_token_id": 0, "dropout": 0.0, "eos_token_id": 2,
  "hidden_act": "quick_gelu", "hidden_size": 768, "initializer_factor": 1.0, "initializer_range": 0.02,
  "intermediate_size": 3072, "layer_norm_eps": 1e-05, "max_position_embeddings": 77,
  "model_type": "clip_text_model", "num_attention_heads": 12, "num_hidden_layers": 12, "pad_token_id": 1,
  "projection_dim": 768, "torch_dtype": "float32", "transformers_version": "4.22.0.dev0", "vocab_size": 49408
}`

// sdxlTextEncoder2 is the text_encoder_2/config.json of stabilityai/stable-diffusion-xl-base-1.0.
const sdxlTextEncoder2 = `{
  "architectures": ["CLIPTextModelWithProjection"],
  "attention_dropout": 0.0, "bos_token_id": 0, "dropout": 0.0, "eos_token_id": 2, "hidden_act": "gelu",
  "hidden_size": 1280, "initializer_factor": 1.0, "initializer_range": 0.02, "intermediate_size": 5120,
  "layer_norm_eps": 1e-05, "max_position_embeddings": 77, "model_type": "clip_text_model",
  "num_attention_heads": 20, "num_hidden_layers": 32, "pad_token_id": 1, "projection_dim": 1280,
  "torch_dtype": "float16", "transformers_version": "4.32.0.dev0", "vocab_size": 49408
}`

func TestParseConfigSD15(t *testing.T) {
	cfg, err := ParseConfig([]byte(sd15TextEncoder), "sd15/text_encoder/config.json")
	require.NoError(t, err)
	want := Config{VocabSize: 49408, HiddenSize: 768, IntermediateSize: 3072, NumHiddenLayers: 12,
		NumAttentionHeads: 12, MaxPositionEmbeddings: 77, HiddenAct: "quick_gelu", LayerNormEps: 1e-5,
		BOSTokenID: 0, EOSTokenID: 2, PadTokenID: 1, ProjectionDim: 768, Architectures: []string{"CLIPTextModel"},
		ModelType: "clip_text_model"}
	assert.Equal(t, want, *cfg)
	assert.Equal(t, 64, cfg.HeadDim())
}

func TestParseConfigDefaults(t *testing.T) {
	// Missing fields take CLIPTextConfig's defaults (SD v1.4's config has no projection_dim).
	cfg, err := ParseConfig([]byte(`{"hidden_size": 64, "num_attention_heads": 4}`), "min.json")
	require.NoError(t, err)
	assert.Equal(t, 49408, cfg.VocabSize)
	assert.Equal(t, 2048, cfg.IntermediateSize)
	assert.Equal(t, 12, cfg.NumHiddenLayers)
	assert.Equal(t, 77, cfg.MaxPositionEmbeddings)
	assert.Equal(t, "quick_gelu", cfg.HiddenAct)
	assert.Equal(t, 1e-5, cfg.LayerNormEps)
	assert.Equal(t, 49407, cfg.EOSTokenID)
	assert.Equal(t, 512, cfg.ProjectionDim)
}

func TestParseConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name, json string
		wantIn     []string
	}{
		{"sdxl text_encoder_2", sdxlTextEncoder2,
			[]string{"cfg.json", "CLIPTextModelWithProjection", "not supported yet", "text_encoder_2"}},
		{"other architecture", `{"architectures": ["CLIPModel"]}`, []string{"cfg.json", "architectures", "CLIPModel"}},
		{"full clip config", `{"model_type": "clip"}`, []string{"model_type", `"clip"`}},
		{"zero width", `{"hidden_size": 0}`, []string{"cfg.json", "hidden_size", "got 0"}},
		{"negative layers", `{"num_hidden_layers": -1}`, []string{"num_hidden_layers", "got -1"}},
		{"heads", `{"hidden_size": 30, "num_attention_heads": 4}`, []string{"num_attention_heads", "does not divide"}},
		{"activation", `{"hidden_act": "relu"}`, []string{"hidden_act", `"relu"`, "quick_gelu"}},
		{"eps", `{"layer_norm_eps": 0}`, []string{"layer_norm_eps"}},
		{"type", `{"hidden_size": "768"}`, []string{"cfg.json", `field "hidden_size"`, "string"}},
		{"syntax", `{"hidden_size": 768`, []string{"cfg.json", "invalid JSON"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tc.json), "cfg.json")
			require.Error(t, err, "config %s", tc.json)
			for _, s := range tc.wantIn {
				assert.Contains(t, err.Error(), s, "config %s", tc.json)
			}
		})
	}
}

func TestLoadConfigTinyModels(t *testing.T) {
	for _, tc := range []struct {
		model, act string
		layers     int
	}{{"tiny-sd1", "quick_gelu", 2}, {"tiny-sd2", "gelu", 3}} {
		cfg, err := LoadConfig(filepath.Join("..", "testdata", tc.model, "text_encoder", "config.json"))
		require.NoError(t, err, tc.model)
		assert.Equal(t, tc.act, cfg.HiddenAct, tc.model)
		assert.Equal(t, tc.layers, cfg.NumHiddenLayers, tc.model)
		assert.Equal(t, 1000, cfg.VocabSize, tc.model)
		assert.Equal(t, 2, cfg.EOSTokenID, tc.model)
	}
}

func TestLoadConfigMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "text_encoder", "config.json")
	_, err := LoadConfig(path)
	require.Error(t, err)
	assert.Contains(t, err.Error(), path)
	assert.ErrorIs(t, err, os.ErrNotExist)
}
