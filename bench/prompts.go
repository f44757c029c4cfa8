package bench

import (
	"math/rand/v2"
	"slices"

	"github.com/org/neti/toyworld"
)

// Prompt is one evaluation prompt of a concept.
type Prompt struct {
	// Text is the prompt, with the concept's placeholder ("<tealstar>").
	Text string `json:"text"`
	// Reconstruction marks the reconstruction prompt ("a <c>"), scored by fidelity; the others are context
	// prompts, scored by editability (and fidelity in context).
	Reconstruction bool `json:"reconstruction,omitempty"`
	// Requested are the coarse attributes the prompt asks for (size, position, background), the ones
	// toyworld.Editability checks; none for the reconstruction prompt.
	Requested toyworld.Attributes `json:"requested"`
}

// Prompts returns the evaluation prompts of a concept: "a <placeholder>" for reconstruction, then n
// context prompts that put the concept in contexts absent from its training images: a background none of
// them has (nor the object's colour), the sizes and positions least used in training first, asking for
// the background alone, with a size, with a position, then with both, in turn. Phrasings come from
// toyworld.Describe, seeded by the prompt's index.
func Prompts(c toyworld.Concept, placeholder string, n int) []Prompt {
	out := []Prompt{{Text: "a " + placeholder, Reconstruction: true}}
	var bgs []string
	for _, col := range toyworld.Colors {
		used := col == c.Scene.Color
		for _, a := range c.Contexts {
			used = used || a.Background == col
		}
		if !used {
			bgs = append(bgs, col)
		}
	}
	if len(bgs) == 0 { // every colour seen: any background but the object's
		for _, col := range toyworld.Colors {
			if col != c.Scene.Color {
				bgs = append(bgs, col)
			}
		}
	}
	sizes := leastUsedFirst(toyworld.Sizes, c.Contexts, func(a toyworld.Attributes) string { return a.Size })
	positions := leastUsedFirst(toyworld.Positions, c.Contexts, func(a toyworld.Attributes) string { return a.Position })
	for j := range n {
		req := toyworld.Attributes{Background: bgs[j%len(bgs)]}
		if j%4 == 1 || j%4 == 3 {
			req.Size = sizes[(j/2)%len(sizes)]
		}
		if j%4 >= 2 {
			req.Position = positions[(j/2)%len(positions)]
		}
		phrase := req
		phrase.Shape = placeholder
		text := toyworld.Describe(phrase, rand.New(rand.NewPCG(uint64(j), 0x62656e6368))) // "bench"
		out = append(out, Prompt{Text: text, Requested: req})
	}
	return out
}

// leastUsedFirst orders values by how often field(context) takes them (stable: ties keep values' order).
func leastUsedFirst(values []string, contexts []toyworld.Attributes, field func(toyworld.Attributes) string) []string {
	count := make(map[string]int)
	for _, a := range contexts {
		count[field(a)]++
	}
	out := slices.Clone(values)
	slices.SortStableFunc(out, func(a, b string) int { return count[a] - count[b] })
	return out
}
