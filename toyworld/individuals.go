package toyworld

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
)

// Individual is a named object of the training world: like a Concept, a fixed shape, colour, pattern and
// fine appearance shown in varying contexts, but named in its captions by one made-up word, as Stable
// Diffusion's captions name people and things. A base model that learns many of them has learned to draw
// an exact appearance from one token — what Textual Inversion and NeTI ask of it for a new concept.
type Individual struct {
	Name string `json:"name"`
	// Scene is the individual in its first context; its Shape, Color, Pattern and the identity part of
	// Fine (colour jitter, rotation, scale, outline, mark, pattern tone, period, angle and phase) never change.
	Scene Scene `json:"scene"`
}

// Name syllables: a consonant and a vowel each.
const (
	nameConsonants = "bdfgklmnprstvz"
	nameVowels     = "aeiou"
)

// Individuals draws n individuals from seed: distinct two- or three-syllable names that are not caption
// words (Vocabulary), and random appearances (RandomScene) whose shape, colour and pattern are not those of
// any shipped or held-out concept (Concepts, HeldOutConcepts), so that no name names a concept's combination.
// n is at most 10 000.
func Individuals(n int, seed uint64) ([]Individual, error) {
	if n < 0 || n > 10000 {
		return nil, fmt.Errorf("toyworld: %d individuals: expected 0 to 10000", n)
	}
	rng := rand.New(rand.NewPCG(seed, 0x696e646976)) // "indiv"
	taken := map[string]bool{}
	for _, w := range Vocabulary() {
		taken[w] = true
	}
	concepts := append(Concepts(), HeldOutConcepts()...)
	isConcept := func(s Scene) bool {
		return slices.ContainsFunc(concepts, func(c Concept) bool {
			return c.Scene.Shape == s.Shape && c.Scene.Color == s.Color && c.Scene.Pattern == s.Pattern
		})
	}
	out := make([]Individual, 0, n)
	for len(out) < n {
		syllables := 2 + rng.IntN(2)
		var b strings.Builder
		for range syllables {
			b.WriteByte(nameConsonants[rng.IntN(len(nameConsonants))])
			b.WriteByte(nameVowels[rng.IntN(len(nameVowels))])
		}
		name := b.String()
		if taken[name] {
			continue
		}
		s := RandomScene(rng)
		for isConcept(s) || !hasContexts(s, rng) {
			s = RandomScene(rng)
		}
		taken[name] = true
		out = append(out, Individual{Name: name, Scene: s})
	}
	return out, nil
}

// hasContexts reports whether the appearance fits at least three of 64 random contexts (fits).
func hasContexts(s Scene, rng *rand.Rand) bool {
	n := 0
	for range 64 {
		if fits(randomContext(s, rng)) {
			n++
		}
	}
	return n >= 3
}

// randomContext draws the context part of a scene: size, position, background and their jitter.
func randomContext(s Scene, rng *rand.Rand) Scene {
	pick := func(set []string) string { return set[rng.IntN(len(set))] }
	u := func(lo, hi float64) float64 { return lo + (hi-lo)*rng.Float64() }
	s.Size, s.Position = pick(Sizes), pick(Positions)
	s.Background = pick(slices.DeleteFunc(slices.Clone(Colors), func(c string) bool { return c == s.Color }))
	s.Fine.BackgroundJitter = randomJitter(s.Background, u)
	s.Fine.DX, s.Fine.DY = u(-1.2, 1.2), u(-1.2, 1.2)
	return s
}

// fits reports whether a scene's fine appearance obeys RandomScene's rules in its context: not a held-out
// triple, the outline visible against this background and no wider than the size allows, a mark only on
// objects large enough for one, and a pattern that shows against the background.
func fits(s Scene) bool {
	if IsHeldOut(s) || s.Background == s.Color {
		return false
	}
	f := s.Fine
	obj, bg := jittered(s.Color, f.ColorJitter), jittered(s.Background, f.BackgroundJitter)
	rho := geometry(s.Shape).inR * sizeRadius[s.Size] * f.Scale
	if f.Outline != "none" && (!outlineShows(f.Outline, obj, bg) || f.OutlineWidth > math.Min(3, math.Max(1, 0.22*rho))+1e-9) {
		return false
	}
	if f.Mark != "none" && rho < minMarkRadius {
		return false
	}
	if s.Pattern != "plain" && DeltaE(patternColor(obj, f.PatternTone).lab(), bg.lab()) < minContrast {
		return false
	}
	return true
}

// InContext returns the individual in a random context drawn from rng (size, position, background and
// their jitter) in which its appearance obeys RandomScene's rules (see Individuals).
func (v Individual) InContext(rng *rand.Rand) Scene {
	for {
		if s := randomContext(v.Scene, rng); fits(s) {
			return s
		}
	}
}

// IndividualCaption captions a scene of the individual (InContext): its name where a caption names the
// shape, with each context attribute usually ("a small bako on the left on a blue background"), and with
// probability 0.5 its appearance in words after it (", a light red striped star with a black outline"):
// the colour with probability 0.9, the pattern 0.7, each group of fine words fineMention.
func IndividualCaption(v Individual, s Scene, fineMention float64, rng *rand.Rand) string {
	keep := func(p float64) bool { return rng.Float64() < p }
	named := Attributes{Shape: v.Name}
	if keep(0.5) {
		named.Size = s.Size
	}
	if keep(0.5) {
		named.Position = s.Position
	}
	if keep(0.6) {
		named.Background = s.Background
	}
	out := Describe(named, rng)
	if !keep(0.5) {
		return out
	}
	words := Attributes{Shape: s.Shape}
	if keep(0.9) {
		words.Color = s.Color
	}
	if keep(0.7) {
		words.Pattern = s.Pattern
	}
	words.Fine = KeepFine(s.FineWords(), fineMention, rng)
	phrase := Describe(words, rng)
	for _, p := range prefixes {
		if p != "" {
			phrase = strings.TrimPrefix(phrase, p)
		}
	}
	return out + ", " + phrase
}

// Concept returns the individual as a Concept named after it, shown in n contexts drawn from rng (InContext),
// so that Fidelity can measure images of it and Concept.Images renders its reference images.
func (v Individual) Concept(n int, rng *rand.Rand) Concept {
	c := Concept{Name: v.Name, SuperCategory: v.Scene.Shape, Scene: v.Scene}
	for i := range n {
		s := v.InContext(rng)
		if i == 0 {
			c.Scene = s
		}
		c.Contexts = append(c.Contexts, Attributes{Size: s.Size, Position: s.Position, Background: s.Background})
	}
	return c
}
