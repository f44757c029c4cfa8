package toyworld

import (
	"math/rand/v2"
	"slices"
	"strings"
)

// Caption phrasings. A caption names the shape always and each other coarse attribute usually:
// colour with probability 0.95; pattern 0.85 (a plain pattern only 0.4); size, position and background
// 0.85 each; and each group of fine words (Scene.FineWords: hue, shade, outline, mark, tilt, pattern
// details) with probability FineMention. The words are those of Vocabulary.
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

// FineMention is the probability that a caption names each group of a scene's fine words: often enough
// that the model learns to follow them, rarely enough that it still draws every fine appearance when
// a prompt leaves them out.
const FineMention = 0.4

// Caption describes a scene with a phrasing drawn from rng, e.g. "a small red striped star on a blue
// background, on the left" or "a light red star with fine dark stripes, with a black outline, tilted
// slightly clockwise on a blue background".
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
	a.Fine = KeepFine(s.FineWords(), FineMention, rng)
	return Describe(a, rng)
}

// Describe phrases the non-empty attributes of a (Shape must be set) with a phrasing drawn from rng.
// Fine words follow the object's noun ("a light blue star with fine dark stripes, with a thin black
// outline, with a white dot, tilted slightly clockwise"); hue and shade go before its colour.
func Describe(a Attributes, rng *rand.Rand) string {
	var obj []string
	if a.Size != "" {
		obj = append(obj, a.Size)
	}
	if a.Color != "" {
		obj = append(obj, a.Fine.Shade, a.Fine.Hue, a.Color)
	}
	with := ""
	switch {
	case a.Pattern == "":
	case a.Pattern != "plain" && (a.Fine.PatternTone != "" || a.Fine.PatternScale != ""):
		with = " " + patternPhrase(a.Pattern, a.Fine)
	default:
		if w, ok := patternWith[a.Pattern]; ok && rng.IntN(3) == 0 {
			with = " " + w
		} else {
			obj = append(obj, patternAdjective[a.Pattern])
		}
	}
	obj = append(obj, a.Shape)
	noun := strings.Join(append([]string{joinWords(obj...) + with}, finePhrases(a.Fine)...), ", ")
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
// (Describe of any Attributes) can contain, sorted: CoarseVocabulary and the fine words. Concept
// placeholder tokens are not included.
func Vocabulary() []string {
	words := CoarseVocabulary()
	add := func(phrases ...string) {
		for _, p := range phrases {
			words = append(words, strings.Fields(p)...)
		}
	}
	add(Hues...)
	add(Shades...)
	add(Outlines...)
	add(OutlineWidths...)
	add(Marks...)
	add(MarkColors...)
	add(Tilts...)
	add(TiltAmounts...)
	add(PatternTones...)
	add(PatternScales...)
	add("no outline", "no mark", "tilted", "stripes", "dots", "checker pattern")
	words = slices.DeleteFunc(words, func(w string) bool { return w == "none" })
	slices.Sort(words)
	return slices.Compact(words)
}

// CoarseVocabulary returns the words of captions that name coarse attributes only (Vocabulary without
// the fine words), sorted: the vocabulary of the v1 toy-world model, trained before captions named fine
// attributes.
func CoarseVocabulary() []string {
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

// ParseCaption reads the attributes a caption names (the inverse of Describe for every phrasing it
// produces): a colour word followed by "background" is the background, by "outline" the outline, by
// "dot" or "ring" the mark's colour, another colour word the object's colour; "middle" reads as
// "center"; "light" and "dark" name the pattern's tone before "stripes", "dots" or "checker", the
// outline before "outline" ("dark" only) and the object's shade elsewhere. Unknown words are ignored.
func ParseCaption(caption string) Attributes {
	var a Attributes
	words := strings.Fields(strings.ReplaceAll(strings.ToLower(caption), ",", " "))
	for i, w := range words {
		next := ""
		if i+1 < len(words) {
			next = words[i+1]
		}
		f := &a.Fine
		switch {
		case slices.Contains(Colors, w):
			switch next {
			case "background":
				a.Background = w
			case "outline":
				f.Outline = w
			case "dot", "ring":
				f.MarkColor = w
			default:
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
		case w == "light" || w == "dark":
			switch next {
			case "stripes", "dots", "checker":
				f.PatternTone = w
			case "outline":
				f.Outline = w
			default:
				f.Shade = w
			}
		case w == "no" && next == "outline":
			f.Outline = "none"
		case w == "no" && next == "mark":
			f.Mark = "none"
		case slices.Contains(Hues, w):
			f.Hue = w
		case slices.Contains(OutlineWidths, w):
			f.OutlineWidth = w
		case w == "dot" || w == "ring":
			f.Mark = w
		case slices.Contains(Tilts, w):
			f.Tilt = w
		case slices.Contains(TiltAmounts, w):
			f.TiltAmount = w
		case slices.Contains(PatternScales, w):
			f.PatternScale = w
		}
	}
	return a
}
