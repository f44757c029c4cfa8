package toyworld

import (
	"math/rand/v2"
	"slices"
	"strings"
)

// Caption phrasings. A caption names the shape always and each other coarse attribute usually:
// colour with probability 0.95; pattern 0.85 (a plain pattern only 0.4); size, position and background
// 0.85 each. The words come from captionWords; see Vocabulary.
var (
	patternAdjective = map[string]string{"plain": "plain", "striped": "striped", "dotted": "dotted", "checkered": "checkered"}
	patternWith      = map[string]string{"striped": "with stripes", "dotted": "with dots", "checkered": "with a checker pattern"}
	positionPhrase   = map[string][]string{
		"center": {"in the center", "in the middle"},
		"left":   {"on the left"},
		"right":  {"on the right"},
		"top":    {"at the top"},
		"bottom": {"at the bottom"},
	}
	prefixes = []string{"", "", "", "a picture of ", "a photo of ", "an image of "}
)

// Caption describes a scene's coarse attributes with a phrasing drawn from rng, e.g.
// "a small red striped star on a blue background, on the left". Fine attributes are never named.
func Caption(s Scene, rng *rand.Rand) string {
	keep := func(p float64) bool { return rng.Float64() < p }
	a := s.Attributes()
	if !keep(0.95) {
		a.Color = ""
	}
	if !keep(0.85) || (a.Pattern == "plain" && !keep(0.4)) {
		a.Pattern = ""
	}
	if !keep(0.85) {
		a.Size = ""
	}
	if !keep(0.85) {
		a.Position = ""
	}
	if !keep(0.85) {
		a.Background = ""
	}
	return Describe(a, rng)
}

// Describe phrases the non-empty attributes of a (Shape must be set) with a phrasing drawn from rng.
func Describe(a Attributes, rng *rand.Rand) string {
	var obj []string
	if a.Size != "" {
		obj = append(obj, a.Size)
	}
	if a.Color != "" {
		obj = append(obj, a.Color)
	}
	with := ""
	if a.Pattern != "" {
		if w, ok := patternWith[a.Pattern]; ok && rng.IntN(3) == 0 {
			with = " " + w
		} else {
			obj = append(obj, patternAdjective[a.Pattern])
		}
	}
	obj = append(obj, a.Shape)
	noun := strings.Join(obj, " ") + with
	pos := ""
	if ps := positionPhrase[a.Position]; len(ps) > 0 {
		pos = ps[rng.IntN(len(ps))]
	}
	bg := ""
	if a.Background != "" {
		bg = a.Background + " background"
	}
	prefix := prefixes[rng.IntN(len(prefixes))]
	var out string
	switch {
	case bg == "" && pos == "":
		out = article(noun) + " " + noun
	case bg == "":
		out = article(noun) + " " + noun + " " + pos
	case pos == "":
		if rng.IntN(3) == 0 {
			out = article(bg) + " " + bg + " with " + article(noun) + " " + noun
		} else {
			out = article(noun) + " " + noun + " on " + article(bg) + " " + bg
		}
	default:
		switch rng.IntN(4) {
		case 0:
			out = article(noun) + " " + noun + " on " + article(bg) + " " + bg + ", " + pos
		case 1:
			out = article(noun) + " " + noun + " " + pos + " on " + article(bg) + " " + bg
		case 2:
			out = article(bg) + " " + bg + " with " + article(noun) + " " + noun + " " + pos
		default:
			out = pos + ", " + article(noun) + " " + noun + " on " + article(bg) + " " + bg
			prefix = ""
		}
	}
	if prefix != "" {
		out = prefix + out
	}
	return out
}

// article returns "an" before a vowel sound and "a" otherwise.
func article(phrase string) string {
	if phrase != "" && strings.ContainsRune("aeiou", rune(phrase[0])) {
		return "an"
	}
	return "a"
}

// Vocabulary returns every word (and the comma) that captions, held-out prompts and evaluation prompts
// (Describe of any Attributes) can contain, sorted. Concept placeholder tokens are not included.
func Vocabulary() []string {
	words := []string{",", "a", "an", "on", "background", "with", "picture", "photo", "image", "of"}
	add := func(phrases ...string) {
		for _, p := range phrases {
			words = append(words, strings.Fields(strings.ReplaceAll(p, ",", " , "))...)
		}
	}
	add(Shapes...)
	add(Colors...)
	add(Sizes...)
	for _, p := range Patterns {
		add(patternAdjective[p], patternWith[p])
	}
	for _, ps := range positionPhrase {
		add(ps...)
	}
	slices.Sort(words)
	return slices.Compact(words)
}

// ParseCaption reads the coarse attributes a caption names (the inverse of Describe for every phrasing
// it produces): the colour word followed by "background" is the background, another colour word is the
// object's colour; "middle" reads as "center". Unknown words are ignored.
func ParseCaption(caption string) Attributes {
	var a Attributes
	words := strings.Fields(strings.ReplaceAll(strings.ToLower(caption), ",", " "))
	for i, w := range words {
		switch {
		case slices.Contains(Colors, w):
			if i+1 < len(words) && words[i+1] == "background" {
				a.Background = w
			} else {
				a.Color = w
			}
		case slices.Contains(Shapes, w):
			a.Shape = w
		case slices.Contains(Sizes, w):
			a.Size = w
		case w == "middle" || slices.Contains(Positions, w):
			if w == "middle" {
				w = "center"
			}
			a.Position = w
		case w == "stripes":
			a.Pattern = "striped"
		case w == "dots":
			a.Pattern = "dotted"
		case w == "checker":
			a.Pattern = "checkered"
		case slices.Contains(Patterns, w):
			a.Pattern = w
		}
	}
	return a
}
