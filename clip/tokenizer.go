package clip

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/daulet/tokenizers"
)

// Tokenizer is Stable Diffusion's CLIP tokenizer (transformers' CLIPTokenizer) loaded from a diffusers
// tokenizer folder, run by the Rust tokenizers library through github.com/daulet/tokenizers (cgo: link
// with libtokenizers.a, see scripts/libtokenizers.sh).
//
// The methods are safe for concurrent use. Close frees the Rust side; a closed Tokenizer must not be used.
type Tokenizer struct {
	mu       sync.RWMutex
	files    *tokenizerFiles
	specials []addedToken // special tokens, sorted by id
	words    []addedToken // added words (AddTokens, added_tokens_decoder), ids after the vocabulary
	bos, eos addedToken
	padID    int32
	rust     *tokenizers.Tokenizer
	// nulRust is rust with the NUL sentinel normalizer (see buildTokenizerJSON), built on the first prompt
	// that contains U+0000.
	nulRust *tokenizers.Tokenizer
}

// LoadTokenizer reads a diffusers tokenizer folder (vocab.json, merges.txt and, when present,
// tokenizer_config.json and special_tokens_map.json, which give the special tokens, their flags, previously
// added words and the maximum length) and builds the tokenizer.json that transformers 5's CLIPTokenizer
// builds from them, for the Rust tokenizer. A tokenizer.json in the folder is not read.
func LoadTokenizer(dir string) (*Tokenizer, error) {
	files, err := readTokenizerFiles(dir)
	if err != nil {
		return nil, fmt.Errorf("clip.LoadTokenizer: %w", err)
	}
	t := &Tokenizer{files: files}
	t.specials, t.words = files.addedTokens()
	for _, key := range []string{"bos_token", "eos_token", "pad_token"} {
		tok, found := files.special[key]
		if !found {
			return nil, fmt.Errorf("clip.LoadTokenizer: %s: no %s in %s or %s", dir, key, tokenizerConfig,
				specialTokensFile)
		}
		tok.ID = t.specialID(tok.Content)
		switch key {
		case "bos_token":
			t.bos = tok
		case "eos_token":
			t.eos = tok
		default:
			t.padID = int32(tok.ID)
		}
	}
	if err := t.rebuild(); err != nil {
		return nil, fmt.Errorf("clip.LoadTokenizer: %s: %w", dir, err)
	}
	return t, nil
}

// specialID is the id of a special token's content.
func (t *Tokenizer) specialID(content string) int {
	for _, s := range t.specials {
		if s.Content == content {
			return s.ID
		}
	}
	panic("clip: special token " + content + " not registered") // specialTokens registers every key.
}

// rebuild (re)creates the Rust tokenizer from the files and the added tokens. Callers hold t.mu for writing
// (or own t exclusively).
func (t *Tokenizer) rebuild() error {
	doc, err := t.document(false)
	if err != nil {
		return err
	}
	rust, err := tokenizers.FromBytes(doc)
	if err != nil {
		return fmt.Errorf("the tokenizers library rejected the tokenizer.json built from %s and %s: %w",
			vocabFile, mergesFile, err)
	}
	t.closeRust()
	t.rust = rust
	return nil
}

// closeRust frees the Rust tokenizers. Callers hold t.mu for writing.
func (t *Tokenizer) closeRust() {
	for _, r := range []**tokenizers.Tokenizer{&t.rust, &t.nulRust} {
		if *r != nil {
			_ = (*r).Close()
			*r = nil
		}
	}
}

// mustBeOpen panics if the tokenizer was closed (using it then is a programming error).
func (t *Tokenizer) mustBeOpen() {
	if t.rust == nil {
		panic("clip.Tokenizer: used after Close")
	}
}

// document is the tokenizer.json of the files and the added tokens.
func (t *Tokenizer) document(nulSentinel bool) ([]byte, error) {
	added := append(append([]addedToken{}, t.specials...), t.words...)
	return t.files.buildTokenizerJSON(added, t.bos, t.eos, nulSentinel)
}

// Close frees the Rust tokenizer. It is safe to call more than once.
func (t *Tokenizer) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closeRust()
	return nil
}

// MaxLength is the length of every Encode result: tokenizer_config.json's model_max_length (77 for SD).
func (t *Tokenizer) MaxLength() int { return t.files.maxLength }

// BOS is the id of the start-of-text token <|startoftext|> (49406 in the real vocabulary).
func (t *Tokenizer) BOS() int32 { return int32(t.bos.ID) }

// EOS is the id of the end-of-text token <|endoftext|> (49407 in the real vocabulary).
func (t *Tokenizer) EOS() int32 { return int32(t.eos.ID) }

// Pad is the id of the padding token: <|endoftext|> (49407) for SD 1.x, "!" (0) for SD 2.x.
func (t *Tokenizer) Pad() int32 { return t.padID }

// VocabSize is the size of the base vocabulary (vocab.json), without the tokens added by AddTokens; the
// text encoder's token embedding table has this many rows.
func (t *Tokenizer) VocabSize() int { return len(t.files.vocab) }

// Len is the number of ids in use including the added tokens (transformers' len(tokenizer)).
func (t *Tokenizer) Len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	n := len(t.files.vocab)
	for _, tok := range append(append([]addedToken{}, t.specials...), t.words...) {
		n = max(n, tok.ID+1)
	}
	return n
}

// TokenIDs returns how text tokenizes, without the start/end tokens, e.g. to check that a super-category
// word is a single token ("dog" → [1929]).
func (t *Tokenizer) TokenIDs(text string) []int32 {
	if strings.IndexByte(text, 0) >= 0 {
		return t.tokenIDsWithNUL(text)
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	t.mustBeOpen()
	ids, _ := t.rust.Encode(text, false)
	return toInt32s(ids)
}

// tokenIDsWithNUL is TokenIDs for text containing U+0000, which cannot cross the C interface: each NUL is
// sent as nulSentinelRune and turned back into NUL by the first normalizer of a second Rust tokenizer.
// (A prompt holding both NUL and U+FDD0 is tokenized as if its U+FDD0 were NUL.)
func (t *Tokenizer) tokenIDsWithNUL(text string) []int32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.mustBeOpen()
	if t.nulRust == nil {
		doc, err := t.document(true)
		if err == nil {
			t.nulRust, err = tokenizers.FromBytes(doc)
		}
		if err != nil { // The same document without the sentinel was accepted.
			panic(fmt.Sprintf("clip.Tokenizer: building the NUL-safe tokenizer: %v", err))
		}
	}
	ids, _ := t.nulRust.Encode(strings.ReplaceAll(text, "\x00", string(nulSentinelRune)), false)
	return toInt32s(ids)
}

// toInt32s converts token ids.
func toInt32s(ids []uint32) []int32 {
	out := make([]int32, len(ids))
	for i, id := range ids {
		out[i] = int32(id)
	}
	return out
}

// Encode tokenizes prompt as transformers' tokenizer(prompt, padding="max_length", max_length=MaxLength(),
// truncation=True): <|startoftext|>, the prompt's tokens truncated to MaxLength()-2, <|endoftext|>, then the
// pad token up to MaxLength() ids.
func (t *Tokenizer) Encode(prompt string) []int32 {
	content := t.TokenIDs(prompt)
	n := t.MaxLength()
	content = content[:min(len(content), n-2)]
	out := make([]int32, 0, n)
	out = append(out, t.BOS())
	out = append(out, content...)
	out = append(out, t.EOS())
	for len(out) < n {
		out = append(out, t.padID)
	}
	return out
}

// EncodeBatch encodes each prompt with Encode: [len(prompts)][MaxLength()] ids, ready for a [batch, 77]
// int32 tensor.
func (t *Tokenizer) EncodeBatch(prompts []string) [][]int32 {
	out := make([][]int32, len(prompts))
	for i, p := range prompts {
		out[i] = t.Encode(p)
	}
	return out
}

// Decode turns ids back into text as transformers' CLIPTokenizer.decode: the byte-level tokens are
// joined, each end-of-word "</w>" becomes a space and the result is trimmed. With skipSpecial the special
// tokens (start/end/pad) are dropped.
func (t *Tokenizer) Decode(ids []int32, skipSpecial bool) string {
	u := make([]uint32, len(ids))
	for i, id := range ids {
		u[i] = uint32(id)
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	t.mustBeOpen()
	text := t.rust.Decode(u, skipSpecial)
	return strings.TrimSpace(strings.ReplaceAll(text, "</w>", " "))
}

// AddTokens adds words as new tokens, as transformers' tokenizer.add_tokens (normalized, not special):
// each word is then always one token, wherever it appears in a prompt. It returns their ids, which follow
// the vocabulary (49408, 49409, ... for SD). It is an error if a word is empty or is already a token of
// the vocabulary or of the added tokens; then nothing is added.
func (t *Tokenizer) AddTokens(words ...string) ([]int32, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.rust == nil {
		return nil, errors.New("clip.Tokenizer.AddTokens: tokenizer is closed")
	}
	next := len(t.files.vocab)
	existing := make(map[string]bool)
	for _, tok := range append(append([]addedToken{}, t.specials...), t.words...) {
		next = max(next, tok.ID+1)
		existing[tok.Content] = true
	}
	var added []addedToken
	for _, w := range words {
		if w == "" {
			return nil, errors.New("clip.Tokenizer.AddTokens: empty word")
		}
		if id, found := t.files.vocab[w]; found {
			return nil, fmt.Errorf("clip.Tokenizer.AddTokens: %q is already in the vocabulary (id %d); "+
				"choose a placeholder that is not a token, e.g. \"<%s>\"", w, id, w)
		}
		// The content is stored as the normalizer lowercases it (ASCII), so that Decode gives back what
		// transformers' decode gives ("S*" decodes as "s*"); matching is unchanged since the prompt is
		// normalized before added tokens are looked up.
		content := asciiLower(w)
		if existing[content] {
			return nil, fmt.Errorf("clip.Tokenizer.AddTokens: %q was already added", w)
		}
		existing[content] = true
		added = append(added, addedToken{ID: next, Content: content, Normalized: true})
		next++
	}
	prev := t.words
	t.words = append(append([]addedToken{}, t.words...), added...)
	if err := t.rebuild(); err != nil {
		t.words = prev
		return nil, fmt.Errorf("clip.Tokenizer.AddTokens: %w", err)
	}
	ids := make([]int32, len(added))
	for i, a := range added {
		ids[i] = int32(a.ID)
	}
	return ids, nil
}

// asciiLower lowercases the ASCII letters of s and leaves every other byte alone.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
