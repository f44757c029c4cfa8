package neti

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// longPrompt is n words of one token each, cycling through a short caption.
func longPrompt(n int) string {
	caption := strings.Fields("a happy day for the best art in the land") // single tokens of tiny-sd1
	words := make([]string, n)
	for i := range words {
		words[i] = caption[i%len(caption)]
	}
	return strings.Join(words, " ")
}

// TestLongPromptNote: a 500-word prompt is cut to the text encoder's 75 tokens, as diffusers does (the
// images equal those of its first 75 words), and OnNote receives one line saying how many tokens were
// dropped and where the dropped part starts; a prompt that fits gets no note.
func TestLongPromptNote(t *testing.T) {
	p := loadTiny(t)
	long := longPrompt(500)
	tokens, limit, err := p.PromptTokens(long)
	require.NoError(t, err)
	require.Equal(t, 500, tokens, "one token per word")
	require.Equal(t, 75, limit)

	var notes []string
	opts := GenerateOptions{Steps: 2, Seed: 1, NegativePrompt: longPrompt(80),
		OnNote: func(n string) { notes = append(notes, n) }}
	got, err := p.Generate(context.Background(), long, opts)
	require.NoError(t, err)
	require.Len(t, notes, 2, "one note for the prompt, one for the negative prompt")
	assert.Equal(t, `the prompt is 500 tokens but the text encoder reads 75: the last 425 tokens were dropped `+
		`(from "best art in the land a happy day ..." on); shorten it to keep them`, notes[0])
	assert.Equal(t, `the negative prompt is 80 tokens but the text encoder reads 75: the last 5 tokens were dropped `+
		`(from "best art in the land" on); shorten it to keep them`, notes[1])

	notes = nil
	opts.NegativePrompt = longPrompt(75)
	want, err := p.Generate(context.Background(), longPrompt(75), opts)
	require.NoError(t, err)
	assert.Empty(t, notes, "75 tokens fit")
	assert.Equal(t, want[0].Pix, got[0].Pix, "the long prompts draw what their first 75 tokens draw")
}
