package clip

import (
	"encoding/json"
	"fmt"
	"slices"
)

// The tokenizer.json built here is the one transformers 5 builds in CLIPTokenizer.__init__ from vocab.json
// and merges.txt (and that CLIPConverter produced for CLIPTokenizerFast before it):
//
//   - normalizer: NFC, then every run of whitespace replaced by one space, then lowercase;
//   - pre-tokenizer: CLIP's split regex (keep matches: the two special tokens, English contractions, letter
//     runs, single digits, runs of other non-space characters), then ByteLevel (GPT-2 byte → unicode map,
//     with its own regex, no prefix space);
//   - model: BPE over vocab and merges with end-of-word suffix "</w>", no continuing-subword prefix, the
//     unk token of the config files;
//   - post-processor: RobertaProcessing, i.e. <|startoftext|> ids <|endoftext|> for one sequence;
//   - decoder: ByteLevel ("</w>" is turned into spaces by Tokenizer.Decode, as transformers' wrapper does);
//   - added_tokens: the special tokens of tokenizer_config.json / special_tokens_map.json with their flags
//     (see addedTokens), then the added words (normalized, not special), with ids after the vocabulary.

// clipSplitPattern is the regex of CLIP's Split pre-tokenizer (transformers 5's CLIPTokenizer).
const clipSplitPattern = `<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+`

// nulSentinelRune stands for U+0000 on its way through the C interface: U+FDD0, a Unicode noncharacter
// that prompts do not contain.
const nulSentinelRune = '\uFDD0'

// regexPattern is tokenizers' {"Regex": ...} pattern.
type regexPattern struct {
	Regex string `json:"Regex"`
}

// tokenizerJSON is the subset of tokenizers' serialization format that a CLIP tokenizer uses.
type tokenizerJSON struct {
	Version       string         `json:"version"`
	Truncation    any            `json:"truncation"`
	Padding       any            `json:"padding"`
	AddedTokens   []addedToken   `json:"added_tokens"`
	Normalizer    map[string]any `json:"normalizer"`
	PreTokenizer  map[string]any `json:"pre_tokenizer"`
	PostProcessor map[string]any `json:"post_processor"`
	Decoder       map[string]any `json:"decoder"`
	Model         bpeModelJSON   `json:"model"`
}

// bpeModelJSON is tokenizers' BPE model serialization.
type bpeModelJSON struct {
	Type                    string          `json:"type"`
	Dropout                 any             `json:"dropout"`
	UnkToken                string          `json:"unk_token"`
	ContinuingSubwordPrefix string          `json:"continuing_subword_prefix"`
	EndOfWordSuffix         string          `json:"end_of_word_suffix"`
	FuseUnk                 bool            `json:"fuse_unk"`
	ByteFallback            bool            `json:"byte_fallback"`
	IgnoreMerges            bool            `json:"ignore_merges"`
	Vocab                   json.RawMessage `json:"vocab"`
	Merges                  []string        `json:"merges"`
}

// addedTokens returns the added tokens of the folder, sorted by id: the special ones (one per distinct
// content) and the words listed as non-special in added_tokens_decoder. Entries of added_tokens_decoder
// come first with their ids and flags; then the special token attributes are applied in specialTokenKeys
// order, the flags of the last one naming a content winning, as when transformers registers them one after
// the other. A special token missing from the vocabulary and from added_tokens_decoder gets the next id.
func (tf *tokenizerFiles) addedTokens() (specials, words []addedToken) {
	byContent := make(map[string]addedToken)
	next := len(tf.vocab)
	for _, d := range tf.decoder {
		byContent[d.Content] = d
		next = max(next, d.ID+1)
	}
	for _, key := range specialTokenKeys {
		tok, found := tf.special[key]
		if !found {
			continue
		}
		if prev, seen := byContent[tok.Content]; seen {
			tok.ID = prev.ID
		} else if id, inVocab := tf.vocab[tok.Content]; inVocab {
			tok.ID = id
		} else {
			tok.ID = next
			next++
		}
		byContent[tok.Content] = tok
	}
	for _, tok := range byContent {
		if tok.Special {
			specials = append(specials, tok)
		} else {
			words = append(words, tok)
		}
	}
	byID := func(a, b addedToken) int { return a.ID - b.ID }
	slices.SortFunc(specials, byID)
	slices.SortFunc(words, byID)
	return specials, words
}

// buildTokenizerJSON returns the tokenizer.json document for the folder's files, the given added tokens
// (specials and user words, with ids) and the bos/eos tokens of the post-processor.
//
// With nulSentinel the normalizer first turns nulSentinelRune back into U+0000: the C interface of the
// tokenizers binding passes prompts as NUL-terminated strings, so a prompt's NUL characters are sent as the
// sentinel and restored on the Rust side.
func (tf *tokenizerFiles) buildTokenizerJSON(added []addedToken, bos, eos addedToken, nulSentinel bool) ([]byte, error) {
	unk, found := tf.special["unk_token"]
	if !found {
		return nil, fmt.Errorf("no unk_token in %s or %s", tokenizerConfig, specialTokensFile)
	}
	normalizers := []any{
		map[string]any{"type": "NFC"},
		map[string]any{"type": "Replace", "pattern": regexPattern{`\s+`}, "content": " "},
		map[string]any{"type": "Lowercase"},
	}
	if nulSentinel {
		restore := map[string]any{"type": "Replace", "pattern": map[string]string{"String": string(nulSentinelRune)},
			"content": "\x00"}
		normalizers = append([]any{restore}, normalizers...)
	}
	doc := tokenizerJSON{
		Version:     "1.0",
		AddedTokens: added,
		Normalizer: map[string]any{
			"type":        "Sequence",
			"normalizers": normalizers,
		},
		PreTokenizer: map[string]any{
			"type": "Sequence",
			"pretokenizers": []any{
				map[string]any{"type": "Split", "pattern": regexPattern{clipSplitPattern}, "behavior": "Removed",
					"invert": true},
				map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true,
					"use_regex": true},
			},
		},
		PostProcessor: map[string]any{
			"type":             "RobertaProcessing",
			"sep":              []any{eos.Content, eos.ID},
			"cls":              []any{bos.Content, bos.ID},
			"trim_offsets":     false,
			"add_prefix_space": false,
		},
		Decoder: map[string]any{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true,
			"use_regex": true},
		Model: bpeModelJSON{
			Type:            "BPE",
			UnkToken:        unk.Content,
			EndOfWordSuffix: "</w>",
			Vocab:           tf.vocabJSON,
			Merges:          tf.merges,
		},
	}
	return json.Marshal(doc)
}
