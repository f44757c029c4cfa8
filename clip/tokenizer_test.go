package clip

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// loadTokenizer loads a tokenizer folder and closes it at the end of the test.
func loadTokenizer(t *testing.T, dir string) *Tokenizer {
	t.Helper()
	tok, err := LoadTokenizer(dir)
	require.NoError(t, err, dir)
	t.Cleanup(func() { _ = tok.Close() })
	return tok
}

// tinyTokenizerDir is the tokenizer folder of a tiny test pipeline (vocabulary truncated to 1000 ids).
func tinyTokenizerDir(model string) string {
	return filepath.Join("..", "testdata", model, "tokenizer")
}

func TestTokenizerSpecialTokens(t *testing.T) {
	// Both tiny vocabularies end with <|startoftext|> 998, <|endoftext|> 999; "!" is id 0.
	sd1 := loadTokenizer(t, tinyTokenizerDir("tiny-sd1"))
	sd2 := loadTokenizer(t, tinyTokenizerDir("tiny-sd2"))
	for _, tok := range []*Tokenizer{sd1, sd2} {
		assert.Equal(t, int32(998), tok.BOS())
		assert.Equal(t, int32(999), tok.EOS())
		assert.Equal(t, 77, tok.MaxLength())
		assert.Equal(t, 1000, tok.VocabSize())
		assert.Equal(t, 1000, tok.Len())
	}
	assert.Equal(t, int32(999), sd1.Pad(), "SD 1.x pads with <|endoftext|>")
	assert.Equal(t, int32(0), sd2.Pad(), `SD 2.x pads with "!" (special_tokens_map.json)`)
}

func TestTokenizerEncodeLayout(t *testing.T) {
	tok := loadTokenizer(t, tinyTokenizerDir("tiny-sd1"))
	content := tok.TokenIDs("a photo of the dog")
	require.NotEmpty(t, content)
	ids := tok.Encode("a photo of the dog")
	require.Len(t, ids, 77)
	assert.Equal(t, tok.BOS(), ids[0])
	assert.Equal(t, content, ids[1:1+len(content)])
	assert.Equal(t, tok.EOS(), ids[1+len(content)])
	for i := 2 + len(content); i < 77; i++ {
		assert.Equal(t, tok.Pad(), ids[i], "padding at %d", i)
	}
	// "a" is a whole word of the tiny vocabulary: "a</w>" = 320.
	assert.Equal(t, []int32{320}, tok.TokenIDs("A"))
	assert.Equal(t, "a photo of the dog", tok.Decode(ids, true))

	// Truncation keeps <|endoftext|> last.
	long := tok.Encode(strings.Repeat("the ", 200))
	require.Len(t, long, 77)
	assert.Equal(t, tok.BOS(), long[0])
	assert.Equal(t, tok.EOS(), long[76])
	assert.Equal(t, tok.TokenIDs("the")[0], long[75])

	batch := tok.EncodeBatch([]string{"a photo of the dog", ""})
	require.Len(t, batch, 2)
	assert.Equal(t, ids, batch[0])
	assert.Equal(t, []int32{998, 999, 999}, batch[1][:3], "empty prompt")
}

func TestTokenizerAddTokens(t *testing.T) {
	tok := loadTokenizer(t, tinyTokenizerDir("tiny-sd2"))
	before := tok.TokenIDs("a <cat-toy> photo")
	assert.Greater(t, len(before), 3, "the placeholder is several tokens before it is added")

	ids, err := tok.AddTokens("<cat-toy>", "S*")
	require.NoError(t, err)
	assert.Equal(t, []int32{1000, 1001}, ids)
	assert.Equal(t, 1002, tok.Len())
	assert.Equal(t, 1000, tok.VocabSize())

	a, photo := tok.TokenIDs("a"), tok.TokenIDs("photo")
	want := append(append(append([]int32{}, a...), 1000), photo...)
	assert.Equal(t, want, tok.TokenIDs("a <cat-toy> photo"))
	assert.Equal(t, want, tok.TokenIDs("a<cat-toy>photo"), "added tokens split words")
	assert.Equal(t, []int32{1001}, tok.TokenIDs("S*"))
	assert.Equal(t, []int32{1001}, tok.TokenIDs("s*"), "added tokens are normalized (lowercased) like the prompt")
	enc := tok.Encode("<cat-toy>")
	assert.Equal(t, []int32{998, 1000, 999, 0}, enc[:4])
	assert.Equal(t, "<cat-toy>", tok.Decode(enc, true))

	_, err = tok.AddTokens("a</w>")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "already in the vocabulary")
	_, err = tok.AddTokens("<dog>", "<cat-toy>")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "already added")
	assert.Greater(t, len(tok.TokenIDs("<dog>")), 1, "a failed AddTokens adds nothing: <dog> is still split")
	_, err = tok.AddTokens("")
	require.Error(t, err)

	more, err := tok.AddTokens("<dog>")
	require.NoError(t, err)
	assert.Equal(t, []int32{1002}, more)
}

// writeTokenizerDir copies the tiny SD 1 tokenizer into a temporary folder, applying edits (file name →
// new content, "" to delete).
func writeTokenizerDir(t *testing.T, edits map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{vocabFile, mergesFile, tokenizerConfig, specialTokensFile} {
		data, err := os.ReadFile(filepath.Join(tinyTokenizerDir("tiny-sd1"), name))
		require.NoError(t, err)
		if edit, found := edits[name]; found {
			if edit == "" {
				continue
			}
			data = []byte(edit)
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), data, 0o644))
	}
	return dir
}

func TestLoadTokenizerErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edits  map[string]string
		wantIn []string
	}{
		{"no vocab", map[string]string{vocabFile: ""}, []string{"clip.LoadTokenizer", vocabFile}},
		{"no merges", map[string]string{mergesFile: ""}, []string{mergesFile}},
		{"bad vocab", map[string]string{vocabFile: `["a"]`}, []string{vocabFile, "JSON object"}},
		{"bad merge line", map[string]string{mergesFile: "#version: 0.2\ni n\nth e x\n"},
			[]string{mergesFile + ":3", `"th e x"`}},
		{"merge out of vocab", map[string]string{mergesFile: "#version: 0.2\nq z\n"},
			[]string{mergesFile + ":2", `"qz"`, "not in vocab.json"}},
		{"bad special token", map[string]string{specialTokensFile: `{"pad_token": 3}`},
			[]string{specialTokensFile, "pad_token"}},
		{"bad max length", map[string]string{tokenizerConfig: `{"model_max_length": "x"}`},
			[]string{tokenizerConfig, "model_max_length"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadTokenizer(writeTokenizerDir(t, tc.edits))
			require.Error(t, err)
			for _, s := range tc.wantIn {
				assert.Contains(t, err.Error(), s)
			}
		})
	}
}

func TestLoadTokenizerWithoutConfigs(t *testing.T) {
	// Without tokenizer_config.json and special_tokens_map.json, CLIPTokenizer's defaults apply.
	dir := writeTokenizerDir(t, map[string]string{tokenizerConfig: "", specialTokensFile: ""})
	tok := loadTokenizer(t, dir)
	assert.Equal(t, int32(998), tok.BOS())
	assert.Equal(t, int32(999), tok.EOS())
	assert.Equal(t, int32(999), tok.Pad())
	assert.Equal(t, 77, tok.MaxLength())
}

func TestTokenizerClose(t *testing.T) {
	tok, err := LoadTokenizer(tinyTokenizerDir("tiny-sd1"))
	require.NoError(t, err)
	require.NoError(t, tok.Close())
	require.NoError(t, tok.Close(), "second Close")
	_, err = tok.AddTokens("<x>")
	assert.Error(t, err)
}

// modernTokenizerConfig is a tokenizer_config.json as transformers >= 4.34 saves it for the tiny
// vocabulary: special tokens as strings, their flags in added_tokens_decoder, plus a previously added word.
const modernTokenizerConfig = `{
  "added_tokens_decoder": {
    "998": {"content": "<|startoftext|>", "lstrip": false, "normalized": true, "rstrip": false,
            "single_word": false, "special": true},
    "999": {"content": "<|endoftext|>", "lstrip": false, "normalized": true, "rstrip": false,
            "single_word": false, "special": true},
    "1000": {"content": "<cat-toy>", "lstrip": false, "normalized": true, "rstrip": false,
             "single_word": false, "special": false}
  },
  "bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>",
  "unk_token": "<|endoftext|>", "model_max_length": 77, "tokenizer_class": "CLIPTokenizer"
}`

func TestLoadTokenizerAddedTokensDecoder(t *testing.T) {
	// As transformers 5 loads such a folder: the flags of added_tokens_decoder apply to the special tokens
	// given as strings (so <|endoftext|> is normalized and matches "<|ENDOFTEXT|>"), and the added word
	// keeps its id.
	modern := loadTokenizer(t, writeTokenizerDir(t, map[string]string{tokenizerConfig: modernTokenizerConfig,
		specialTokensFile: ""}))
	assert.Equal(t, []int32{999}, modern.TokenIDs("<|ENDOFTEXT|>"))
	assert.Equal(t, []int32{1000}, modern.TokenIDs("<cat-toy>"))
	assert.Equal(t, 1001, modern.Len())
	assert.Equal(t, int32(999), modern.Pad())
	ids, err := modern.AddTokens("<dog-toy>")
	require.NoError(t, err)
	assert.Equal(t, []int32{1001}, ids)
	_, err = modern.AddTokens("<cat-toy>")
	assert.Error(t, err, "already added through added_tokens_decoder")

	// The SD 1.x folder gives pad_token as a plain string with no added_tokens_decoder: <|endoftext|> is
	// registered unnormalized, so the upper-case spelling is ordinary text.
	legacy := loadTokenizer(t, tinyTokenizerDir("tiny-sd1"))
	assert.NotContains(t, legacy.TokenIDs("<|ENDOFTEXT|>"), int32(999))

	bad := strings.Replace(modernTokenizerConfig, `"999": {"content": "<|endoftext|>"`,
		`"997": {"content": "<|endoftext|>"`, 1)
	_, err = LoadTokenizer(writeTokenizerDir(t, map[string]string{tokenizerConfig: bad}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "added_tokens_decoder")
	assert.Contains(t, err.Error(), "has id 999")
}
