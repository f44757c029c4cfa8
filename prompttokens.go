package neti

import "fmt"

// droppedWordsShown is how many of a long prompt's dropped tokens a truncation note quotes.
const droppedWordsShown = 8

// PromptTokens returns how many tokens prompt is (without the start and end tokens) and how many the text
// encoder reads: MaxLength − 2, 75 for Stable Diffusion. Generate cuts a longer prompt to its first
// limit tokens, as diffusers does, and says so through GenerateOptions.OnNote.
func (p *Pipeline) PromptTokens(prompt string) (tokens, limit int, err error) {
	defer recoverError("prompt tokens", &err)
	if err := p.usable("prompt tokens"); err != nil {
		return 0, 0, err
	}
	return len(p.tokenizer.TokenIDs(prompt)), p.tokenizer.MaxLength() - 2, nil
}

// truncationNote says, for a text (what: "prompt" or "negative prompt") longer than the text encoder
// reads, how many tokens are dropped and how the dropped part starts; "" when it fits.
func (p *Pipeline) truncationNote(what, text string) string {
	ids := p.tokenizer.TokenIDs(text)
	limit := p.tokenizer.MaxLength() - 2
	if len(ids) <= limit {
		return ""
	}
	dropped := ids[limit:]
	start := p.tokenizer.Decode(dropped[:min(len(dropped), droppedWordsShown)], true)
	if len(dropped) > droppedWordsShown {
		start += " ..."
	}
	return fmt.Sprintf("the %s is %d tokens but the text encoder reads %d: the last %d tokens were dropped "+
		"(from %q on); shorten it to keep them", what, len(ids), limit, len(dropped), start)
}
