package clip

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// referenceDir holds the fixtures written by tools/reference.
var referenceDir = filepath.Join("..", "testdata", "reference")

// parityPrompt is one prompt of tokenizer_parity.json / tokens.json with transformers' ids.
type parityPrompt struct {
	Prompt             string  `json:"prompt"`
	InputIDs           []int32 `json:"input_ids"`
	InputIDsSlow       []int32 `json:"input_ids_slow"`
	InputIDsSlowNoFTFY []int32 `json:"input_ids_slow_noftfy"`
	FastEqualsSlow     bool    `json:"fast_equals_slow"`
}

// parityConfig is the part of a fixture for one tokenizer configuration.
type parityConfig struct {
	ConfigDir  string         `json:"config_dir"`
	Tokenizer  string         `json:"tokenizer"`
	VocabSize  int            `json:"vocab_size"`
	BOSTokenID int32          `json:"bos_token_id"`
	EOSTokenID int32          `json:"eos_token_id"`
	PadTokenID int32          `json:"pad_token_id"`
	Prompts    []parityPrompt `json:"prompts"`
}

// readJSON decodes a fixture file.
func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err, "fixture %s (written by tools/reference)", path)
	require.NoError(t, json.Unmarshal(data, v), path)
}

// realTokenizerDir assembles a tokenizer folder from the real CLIP vocab/merges in testdata/clip-tokenizer
// and one model's config pair (sd15 or sd21).
func realTokenizerDir(t *testing.T, configDir string) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join("..", "testdata", "clip-tokenizer")
	files := map[string]string{
		vocabFile:         filepath.Join(src, vocabFile),
		mergesFile:        filepath.Join(src, mergesFile),
		tokenizerConfig:   filepath.Join("..", configDir, tokenizerConfig),
		specialTokensFile: filepath.Join("..", configDir, specialTokensFile),
	}
	for name, from := range files {
		data, err := os.ReadFile(from)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), data, 0o644))
	}
	return dir
}

// checkParity encodes every prompt and requires transformers 5's (fast) ids exactly; it returns the
// prompts whose ids differ from the slow (ftfy) tokenizer's.
func checkParity(t *testing.T, tok *Tokenizer, cfg parityConfig, name string) (slowDiffs []string) {
	t.Helper()
	require.NotEmpty(t, cfg.Prompts, name)
	assert.Equal(t, cfg.VocabSize, tok.VocabSize(), name)
	assert.Equal(t, cfg.BOSTokenID, tok.BOS(), name)
	assert.Equal(t, cfg.EOSTokenID, tok.EOS(), name)
	assert.Equal(t, cfg.PadTokenID, tok.Pad(), name)
	mismatches := 0
	for _, p := range cfg.Prompts {
		got := tok.Encode(p.Prompt)
		if !assert.Equal(t, p.InputIDs, got, "%s: prompt %q", name, p.Prompt) {
			mismatches++
		}
		if !slices.Equal(got, p.InputIDsSlow) {
			slowDiffs = append(slowDiffs, p.Prompt)
		}
	}
	t.Logf("%s: %d prompts, %d differ from transformers' CLIPTokenizer, %d from the slow ftfy tokenizer: %q",
		name, len(cfg.Prompts), mismatches, len(slowDiffs), slowDiffs)
	return slowDiffs
}

func TestTokenizerParityRealVocab(t *testing.T) {
	var fixture struct {
		NumPrompts int                     `json:"num_prompts"`
		Configs    map[string]parityConfig `json:"configs"`
	}
	readJSON(t, filepath.Join(referenceDir, "tokenizer_parity.json"), &fixture)
	require.Len(t, fixture.Configs, 2)
	for name, cfg := range fixture.Configs {
		t.Run(name, func(t *testing.T) {
			require.GreaterOrEqual(t, len(cfg.Prompts), 200)
			tok := loadTokenizer(t, realTokenizerDir(t, cfg.ConfigDir))
			slowDiffs := checkParity(t, tok, cfg, name)
			// We differ from the slow tokenizer exactly where transformers' fast tokenizer does (ftfy's
			// unicode fixes, HTML unescaping, special-token casing).
			var fastSlowDiffs []string
			for _, p := range cfg.Prompts {
				if !p.FastEqualsSlow {
					fastSlowDiffs = append(fastSlowDiffs, p.Prompt)
				}
			}
			assert.Equal(t, fastSlowDiffs, slowDiffs)
		})
	}
}

func TestTokenizerParityTinyModels(t *testing.T) {
	for _, model := range []string{"tiny-sd1", "tiny-sd2"} {
		t.Run(model, func(t *testing.T) {
			var cfg parityConfig
			readJSON(t, filepath.Join(referenceDir, model, "tokens.json"), &cfg)
			require.Equal(t, "testdata/"+model+"/tokenizer", cfg.Tokenizer)
			tok := loadTokenizer(t, tinyTokenizerDir(model))
			checkParity(t, tok, cfg, model)
		})
	}
}

// normalizeTokenizerJSON decodes a tokenizer.json into generic values with merges as "a b" strings
// (tokenizers writes them as pairs, we write strings; both load the same).
func normalizeTokenizerJSON(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var doc map[string]any
	require.NoError(t, json.Unmarshal(data, &doc))
	model := doc["model"].(map[string]any)
	merges := model["merges"].([]any)
	for i, m := range merges {
		if pair, ok := m.([]any); ok {
			merges[i] = pair[0].(string) + " " + pair[1].(string)
		}
	}
	return doc
}

func TestTokenizerJSONMatchesTransformers(t *testing.T) {
	// The document built from vocab.json + merges.txt + configs equals the tokenizer.json that
	// transformers 5 serializes for the same folder.
	for _, model := range []string{"tiny-sd1", "tiny-sd2"} {
		tok := loadTokenizer(t, tinyTokenizerDir(model))
		ours, err := tok.document(false)
		require.NoError(t, err)
		theirs, err := os.ReadFile(filepath.Join(referenceDir, model, "tokenizer.json"))
		require.NoError(t, err)
		assert.Equal(t, normalizeTokenizerJSON(t, theirs), normalizeTokenizerJSON(t, ours), model)
	}
}
