package neti

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// VocabularyFile is the optional file of a model's tokenizer folder that lists, one per line, every word the
// model was trained on. Models trained on a closed world (the built-in toy model) ship it: a prompt word
// outside it would only be drawn as noise, so Generate reports it instead. Real Stable Diffusion folders
// have no such file and accept any prompt.
const VocabularyFile = "vocabulary.txt"

// readVocabulary reads dir/VocabularyFile; a missing file gives a nil set (any word allowed).
func readVocabulary(dir string) (map[string]bool, error) {
	path := filepath.Join(dir, VocabularyFile)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("neti: reading %s: %w", path, err)
	}
	defer f.Close()
	words := map[string]bool{}
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		if w := strings.TrimSpace(scanner.Text()); w != "" {
			words[strings.ToLower(w)] = true
		}
	}
	if err := scanner.Err(); err != nil {
		return nil, fmt.Errorf("neti: reading %s: %w", path, err)
	}
	return words, nil
}

// checkVocabulary returns an error listing the words of prompt that are neither in the model's closed
// vocabulary nor one of the allowed placeholders (lower-cased); nil when the model has no vocabulary file.
func (p *Pipeline) checkVocabulary(prompt string, placeholders []string) error {
	if p.vocabulary == nil {
		return nil
	}
	var unknown []string
	for _, w := range strings.Fields(strings.ToLower(strings.ReplaceAll(prompt, ",", " , "))) {
		if !p.vocabulary[w] && !slices.Contains(placeholders, w) && !slices.Contains(unknown, w) {
			unknown = append(unknown, w)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	known := make([]string, 0, len(p.vocabulary))
	for w := range p.vocabulary {
		known = append(known, w)
	}
	slices.Sort(known)
	return &UnknownWordsError{Prompt: prompt, Words: unknown, Known: known}
}

// UnknownWordsError is the error of a prompt with words outside a closed-vocabulary model's
// VocabularyFile (find it with errors.As): such a word would only be drawn as noise.
type UnknownWordsError struct {
	Prompt string   // the prompt as given
	Words  []string // its words the model never saw, lower-cased, in prompt order
	Known  []string // every word the model knows, sorted
}

// Error lists the unknown words and the known ones.
func (e *UnknownWordsError) Error() string {
	return fmt.Sprintf("neti: the prompt %q has words this model never saw: %s; it knows only: %s",
		e.Prompt, strings.Join(e.Words, ", "), strings.Join(e.Known, " "))
}
