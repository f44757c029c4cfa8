package main

import (
	"flag"
	"fmt"
	"image"
	_ "image/jpeg" // training images may be JPEG
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/org/neti/toyworld"
)

// isBuiltinModel reports whether model (a --pretrained_model_name_or_path value; "" for none) is the
// built-in toy-world model: none given, or the same folder as builtinModel's.
func isBuiltinModel(model string) bool {
	if model == "" {
		return true
	}
	given, err := os.Stat(filepath.Join(model, "model_index.json"))
	if err != nil {
		return false
	}
	builtin, err := os.Stat(filepath.Join(builtinModel(), "model_index.json"))
	return err == nil && os.SameFile(given, builtin)
}

// toyDefaults applies neti train's defaults for the built-in toy model to the flags the command line left
// out, before anything loads: --preset toy (the toy world's caption templates, whose words the model
// knows, and small settings) and, as --initializer_token, the shape most training images show
// (toyworld.Classify), since the model's vocabulary has no generic word such as "object". A given
// --initializer_token must be a word of the toy world. It returns the notes saying what was chosen.
func toyDefaults(fs *flag.FlagSet, preset, initializer *string, files []string) ([]string, error) {
	given := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var notes []string
	if !given["preset"] {
		*preset = "toy"
		notes = append(notes, "note: the built-in toy model: training with --preset toy (its caption templates and "+
			"small settings; flags given override them)")
	}
	shapes := strings.Join(toyworld.Shapes, ", ")
	if given["initializer_token"] {
		if !slices.Contains(toyworld.CoarseVocabulary(), strings.ToLower(*initializer)) {
			return nil, fmt.Errorf("train: --initializer_token %q is not a word of the built-in toy model: expected "+
				"the concept's shape, one of %s (or leave the flag out to use the shape its images show)",
				*initializer, shapes)
		}
		return notes, nil
	}
	votes := make(map[string]int)
	best := ""
	for _, path := range files {
		f, err := os.Open(path)
		if err != nil {
			continue // LoadTrainImages has read it; a failure here only costs a vote
		}
		img, _, err := image.Decode(f)
		f.Close()
		if err != nil {
			continue
		}
		if shape := toyworld.Classify(img).Shape; shape != "" {
			votes[shape]++
			if best == "" || votes[shape] > votes[best] {
				best = shape
			}
		}
	}
	if best == "" {
		return nil, fmt.Errorf("train: the built-in toy model needs --initializer_token, the concept's shape (one of "+
			"%s): no toy-world shape was found in the training images", shapes)
	}
	*initializer = best
	notes = append(notes, fmt.Sprintf("note: the built-in toy model: --initializer_token %s, the shape %d of the %d "+
		"training images show (pass --initializer_token to choose another of %s)", best, votes[best], len(files), shapes))
	return notes, nil
}
