package clip

import (
	"slices"
	"testing"
)

// FuzzTokenizerEncode checks Encode's layout on arbitrary input (invalid UTF-8, NUL, special tokens):
// 77 ids, <|startoftext|> first, one <|endoftext|> after the content, padding after it, ids in range.
func FuzzTokenizerEncode(f *testing.F) {
	for _, seed := range []string{"", "a photo of a cat", "a\x00b", "\xff\xfe", "<|endoftext|><|startoftext|>",
		"!!!! wow !", "日本語 🐱", "  \t\n "} {
		f.Add(seed)
	}
	tok, err := LoadTokenizer(tinyTokenizerDir("tiny-sd2"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = tok.Close() })
	f.Fuzz(func(t *testing.T, prompt string) {
		content := tok.TokenIDs(prompt)
		ids := tok.Encode(prompt)
		if len(ids) != 77 || ids[0] != tok.BOS() {
			t.Fatalf("Encode(%q) = %v: want 77 ids starting with %d", prompt, ids, tok.BOS())
		}
		n := min(len(content), 75)
		if !slices.Equal(ids[1:1+n], content[:n]) || ids[1+n] != tok.EOS() {
			t.Fatalf("Encode(%q) = %v: want content %v then %d", prompt, ids, content[:n], tok.EOS())
		}
		for i, id := range ids {
			if id < 0 || int(id) >= tok.Len() || (i > 1+n && id != tok.Pad()) {
				t.Fatalf("Encode(%q) = %v: bad id %d at %d", prompt, ids, id, i)
			}
		}
	})
}
