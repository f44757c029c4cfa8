package clip

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Files of a diffusers tokenizer folder (CLIPTokenizer.save_pretrained of transformers 4.x).
const (
	vocabFile         = "vocab.json"
	mergesFile        = "merges.txt"
	tokenizerConfig   = "tokenizer_config.json"
	specialTokensFile = "special_tokens_map.json"
)

// specialTokenKeys are the special token attributes in the order transformers registers them with the
// backend tokenizer (SPECIAL_TOKENS_ATTRIBUTES); when two name the same content, the later one's flags win.
var specialTokenKeys = []string{"bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token",
	"mask_token"}

// defaultSpecialTokens are CLIPTokenizer's constructor defaults, used for keys the config files omit.
var defaultSpecialTokens = map[string]string{
	"bos_token": "<|startoftext|>",
	"eos_token": "<|endoftext|>",
	"unk_token": "<|endoftext|>",
	"pad_token": "<|endoftext|>",
}

// addedToken is an entry of tokenizer.json's "added_tokens" (tokenizers' AddedToken).
type addedToken struct {
	ID         int    `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
	// plain marks a special token given as a bare string in the config files: its flags come from
	// tokenizer_config.json's added_tokens_decoder when that lists it, else normalized is false.
	plain bool
}

// tokenizerFiles is what a tokenizer folder holds: the BPE vocabulary and merges, the special tokens by
// attribute name (flags as the config files give them) and the maximum length.
type tokenizerFiles struct {
	dir       string
	vocabJSON json.RawMessage // vocab.json as read, embedded verbatim in tokenizer.json
	vocab     map[string]int  // token → id
	merges    []string        // "left right", in rank order
	special   map[string]addedToken
	// decoder is tokenizer_config.json's added_tokens_decoder (written by transformers >= 4.34), sorted by
	// id: special tokens with their flags and previously added words.
	decoder   []addedToken
	maxLength int
}

// readTokenizerFiles reads vocab.json, merges.txt and, when present, tokenizer_config.json and
// special_tokens_map.json (the latter overriding the former, as transformers does) from dir.
func readTokenizerFiles(dir string) (*tokenizerFiles, error) {
	tf := &tokenizerFiles{dir: dir, maxLength: 77}
	if err := tf.readVocab(); err != nil {
		return nil, err
	}
	if err := tf.readMerges(); err != nil {
		return nil, err
	}
	tf.special = make(map[string]addedToken)
	for key, content := range defaultSpecialTokens {
		tf.special[key] = addedToken{Content: content, Special: true, plain: true}
	}
	for _, name := range []string{tokenizerConfig, specialTokensFile} {
		if err := tf.readSpecialTokens(name); err != nil {
			return nil, err
		}
	}
	for key, tok := range tf.special {
		if !tok.plain {
			continue
		}
		for _, d := range tf.decoder {
			if d.Content == tok.Content {
				d.Special = true
				tf.special[key] = d
			}
		}
	}
	return tf, nil
}

// path is the full path of a file of the folder.
func (tf *tokenizerFiles) path(name string) string { return filepath.Join(tf.dir, name) }

// readVocab reads vocab.json: a JSON object token → id with distinct ids.
func (tf *tokenizerFiles) readVocab() error {
	p := tf.path(vocabFile)
	data, err := os.ReadFile(p)
	if err != nil {
		return fmt.Errorf("%w; a CLIP tokenizer folder needs %s and %s", err, vocabFile, mergesFile)
	}
	if err := json.Unmarshal(data, &tf.vocab); err != nil {
		return fmt.Errorf("%s: expected a JSON object of token → id: %w", p, err)
	}
	if len(tf.vocab) == 0 {
		return fmt.Errorf("%s: empty vocabulary", p)
	}
	seen := make(map[int]string, len(tf.vocab))
	for tok, id := range tf.vocab {
		if id < 0 || id >= len(tf.vocab) {
			return fmt.Errorf("%s: token %q has id %d, expected ids 0..%d", p, tok, id, len(tf.vocab)-1)
		}
		if other, dup := seen[id]; dup {
			return fmt.Errorf("%s: tokens %q and %q share id %d", p, other, tok, id)
		}
		seen[id] = tok
	}
	tf.vocabJSON = data
	return nil
}

// readMerges reads merges.txt as tokenizers' BPE.from_file does: "#version" lines are skipped, every other
// line is two symbols separated by one space; both halves and their concatenation must be in the vocab.
func (tf *tokenizerFiles) readMerges() error {
	p := tf.path(mergesFile)
	data, err := os.ReadFile(p)
	if err != nil {
		return fmt.Errorf("%w; a CLIP tokenizer folder needs %s and %s", err, vocabFile, mergesFile)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for lineNo := 1; sc.Scan(); lineNo++ {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if strings.HasPrefix(line, "#version") {
			continue
		}
		left, right, ok := strings.Cut(line, " ")
		if !ok || left == "" || right == "" || strings.Contains(right, " ") {
			return fmt.Errorf("%s:%d: bad merge %q, expected two symbols separated by one space", p, lineNo, line)
		}
		for _, sym := range []string{left, right, left + right} {
			if _, found := tf.vocab[sym]; !found {
				return fmt.Errorf("%s:%d: merge %q uses %q, which is not in %s", p, lineNo, line, sym, vocabFile)
			}
		}
		tf.merges = append(tf.merges, line)
	}
	return sc.Err()
}

// readSpecialTokens reads the special tokens (strings or AddedToken objects) and model_max_length of one
// optional config file, overriding what was read before.
func (tf *tokenizerFiles) readSpecialTokens(name string) error {
	p := tf.path(name)
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return fmt.Errorf("%s: expected a JSON object: %w", p, err)
	}
	for _, key := range specialTokenKeys {
		raw, found := fields[key]
		if !found || string(raw) == "null" {
			continue
		}
		tok, err := parseSpecialToken(raw)
		if err != nil {
			return fmt.Errorf("%s: field %q: %w", p, key, err)
		}
		tf.special[key] = tok
	}
	if raw, found := fields["added_tokens_decoder"]; found && name == tokenizerConfig {
		if err := tf.readAddedTokensDecoder(raw); err != nil {
			return fmt.Errorf("%s: field \"added_tokens_decoder\": %w", p, err)
		}
	}
	if raw, found := fields["model_max_length"]; found {
		var n float64 // transformers writes huge values such as 1e30 for "no limit"
		if err := json.Unmarshal(raw, &n); err != nil || n < 3 {
			return fmt.Errorf("%s: field \"model_max_length\": got %s, expected a number >= 3", p, raw)
		}
		if n < 1<<20 {
			tf.maxLength = int(n)
		}
	}
	return nil
}

// parseSpecialToken parses a special token given as a string (registered with normalized=false, as
// transformers 5 does) or as an AddedToken object {"content", "lstrip", "rstrip", "normalized",
// "single_word"} whose flags are kept.
func parseSpecialToken(raw json.RawMessage) (addedToken, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		if s == "" {
			return addedToken{}, errors.New("empty token")
		}
		return addedToken{Content: s, Special: true, plain: true}, nil
	}
	var obj struct {
		Content    *string `json:"content"`
		SingleWord bool    `json:"single_word"`
		LStrip     bool    `json:"lstrip"`
		RStrip     bool    `json:"rstrip"`
		Normalized *bool   `json:"normalized"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil || obj.Content == nil || *obj.Content == "" {
		return addedToken{}, fmt.Errorf("got %s, expected a string or an object with a non-empty \"content\"", raw)
	}
	tok := addedToken{Content: *obj.Content, SingleWord: obj.SingleWord, LStrip: obj.LStrip, RStrip: obj.RStrip,
		Special: true}
	// AddedToken's default: normalized = not special.
	if obj.Normalized != nil {
		tok.Normalized = *obj.Normalized
	}
	return tok, nil
}

// readAddedTokensDecoder parses added_tokens_decoder: {"<id>": {"content", "lstrip", "normalized", "rstrip",
// "single_word", "special"}}. Ids of tokens in the vocabulary must be their vocabulary ids; other tokens
// need ids from VocabSize on.
func (tf *tokenizerFiles) readAddedTokensDecoder(raw json.RawMessage) error {
	var entries map[string]addedToken
	if err := json.Unmarshal(raw, &entries); err != nil {
		return fmt.Errorf("expected an object of id → AddedToken: %w", err)
	}
	tf.decoder = tf.decoder[:0]
	for key, tok := range entries {
		id, err := strconv.Atoi(key)
		if err != nil || id < 0 || tok.Content == "" {
			return fmt.Errorf("entry %q: expected a non-negative integer id and a non-empty content", key)
		}
		if vid, inVocab := tf.vocab[tok.Content]; inVocab && vid != id {
			return fmt.Errorf("entry %q: %q has id %d in %s", key, tok.Content, vid, vocabFile)
		} else if !inVocab && id < len(tf.vocab) {
			return fmt.Errorf("entry %q: %q is not in %s but its id is below the vocabulary size %d", key,
				tok.Content, vocabFile, len(tf.vocab))
		}
		tok.ID = id
		tf.decoder = append(tf.decoder, tok)
	}
	slices.SortFunc(tf.decoder, func(a, b addedToken) int { return a.ID - b.ID })
	return nil
}
