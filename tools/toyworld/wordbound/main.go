// Command wordbound measures what words can at best say about a concept: the fidelity (toyworld.Fidelity) of
// random scenes that a perfect prompt follower could draw for each of a concept's reference prompts
// (toyworld.Concept.ReferencePrompts). A scene qualifies for
//   - super_category when its shape is the concept's,
//   - words when its shape, colour and pattern are the concept's,
//   - description when, besides, every fine word the concept's description says is also said of the scene
//     (toyworld.Scene.FineWords; values between two words' ranges are never said),
//
// everything else (size, position, background, the unnamed fine values) drawn as toyworld.RandomScene draws
// it. The scenes are scored sharp, as rendered (no VAE): an upper bound on what a base model that follows
// its words perfectly draws from them. The concept's own training scenes, rendered sharp, are the "own"
// line; the concept itself in random contexts (toyworld.InRandomContexts) the "exact" line, what no
// vocabulary can pass. With --levels K the description level is what a vocabulary naming every fine value
// in K levels (toyworld.Scene.FineLevels) would give instead of the fine words. Writes a JSON report to
// stdout.
//
// A scene that says all ten fine words of a description is too rare to draw at random (≈ 1e-8), so the
// description level is scored part by part: each fidelity part from scenes that match the coarse words and
// the fine words of that part only (colour: hue and shade; outline: outline and its width; pattern: its tone
// and scale; mark: mark and its colour; shape: tilt and its amount), the total the parts' weighted sum
// (toyworld.FidelityDetail's weights, checked against the words level's totals).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"

	"github.com/org/neti/toyworld"
)

// level is one reference prompt's qualifying rule.
type level struct {
	name string
	ok   func(s toyworld.Scene, c toyworld.Concept) bool
}

// stats are a level's scores on one concept.
type stats struct {
	Scenes int                    `json:"scenes"` // for the description level, the fewest of any part
	Draws  int                    `json:"draws"`
	Mean   float64                `json:"mean"`
	SE     float64                `json:"se"`
	Parts  toyworld.FidelityParts `json:"parts"`
}

func main() {
	n := flag.Int("n", 200, "qualifying scenes per concept and level")
	maxDraws := flag.Int("max_draws", 50_000_000, "random scenes drawn at most per concept and level")
	seed := flag.Uint64("seed", 1, "random seed")
	heldOut := flag.Bool("heldout", false, "the held-out concepts (toyworld.HeldOutConcepts) instead of the shipped ones")
	levels := flag.Int("levels", 0, "score the description level as a vocabulary that names every fine value in this many "+
		"levels would (toyworld.Scene.FineLevels) instead of the fine words; 0: the fine words")
	flag.Parse()
	if *n < 2 || *maxDraws < *n {
		fmt.Fprintf(os.Stderr, "wordbound: --n is %d and --max_draws %d: expected n ≥ 2 and max_draws ≥ n\n", *n, *maxDraws)
		os.Exit(2)
	}
	coarse := func(s toyworld.Scene, c toyworld.Concept) bool {
		return s.Shape == c.Scene.Shape && s.Color == c.Scene.Color && s.Pattern == c.Scene.Pattern
	}
	rules := []level{
		{"super_category", func(s toyworld.Scene, c toyworld.Concept) bool { return s.Shape == c.Scene.Shape }},
		{"words", coarse},
	}
	// says returns the rule "coarse words and these fine words of the description".
	says := func(fields ...string) func(s toyworld.Scene, c toyworld.Concept) bool {
		return func(s toyworld.Scene, c toyworld.Concept) bool {
			return coarse(s, c) && saysAll(s.FineWords(), c.Scene.FineWords(), fields)
		}
	}
	if *levels > 0 {
		says = func(fields ...string) func(s toyworld.Scene, c toyworld.Concept) bool {
			return func(s toyworld.Scene, c toyworld.Concept) bool {
				return coarse(s, c) && sameFields(s.FineLevels(*levels), c.Scene.FineLevels(*levels), levelFields[fields[0]])
			}
		}
	}
	parts := []struct {
		name   string
		weight float64
		rule   func(s toyworld.Scene, c toyworld.Concept) bool
		part   func(f toyworld.FidelityParts) float64
	}{
		{"color", 0.30, says("Hue", "Shade"), func(f toyworld.FidelityParts) float64 { return f.Color }},
		{"outline", 0.20, says("Outline", "OutlineWidth"), func(f toyworld.FidelityParts) float64 { return f.Outline }},
		{"pattern", 0.20, says("PatternTone", "PatternScale"), func(f toyworld.FidelityParts) float64 { return f.Pattern }},
		{"mark", 0.15, says("Mark", "MarkColor"), func(f toyworld.FidelityParts) float64 { return f.Mark }},
		{"shape", 0.15, says("Tilt", "TiltAmount"), func(f toyworld.FidelityParts) float64 { return f.Shape }},
	}
	concepts := toyworld.Concepts()
	if *heldOut {
		concepts = toyworld.HeldOutConcepts()
	}
	report := map[string]map[string]stats{}
	for _, c := range concepts {
		rng := rand.New(rand.NewPCG(*seed, 0))
		draw := func(ok func(s toyworld.Scene, c toyworld.Concept) bool) ([]toyworld.Scene, int) {
			var scenes []toyworld.Scene
			draws := 0
			for len(scenes) < *n && draws < *maxDraws {
				s := toyworld.RandomScene(rng)
				draws++
				if ok(s, c) {
					scenes = append(scenes, s)
				}
			}
			return scenes, draws
		}
		report[c.Name] = map[string]stats{}
		for _, l := range rules {
			scenes, draws := draw(l.ok)
			st := score(scenes, c)
			st.Draws = draws
			report[c.Name][l.name] = st
		}
		words := report[c.Name]["words"].Parts
		var total float64
		for _, p := range parts {
			total += p.weight * p.part(words)
		}
		if math.Abs(total-words.Total) > 1e-9 {
			fmt.Fprintf(os.Stderr, "wordbound: the part weights give %g for %s's words level, FidelityDetail %g: "+
				"update the weights to toyworld's\n", total, c.Name, words.Total)
			os.Exit(1)
		}
		var desc stats
		for i, p := range parts {
			scenes, draws := draw(p.rule)
			st := score(scenes, c)
			v := p.part(st.Parts)
			reflect.ValueOf(&desc.Parts).Elem().FieldByNameFunc(func(f string) bool { return strings.EqualFold(f, p.name) }).SetFloat(v)
			desc.Parts.Total += p.weight * v
			if i == 0 || st.Scenes < desc.Scenes {
				desc.Scenes = st.Scenes // the fewest of any part
			}
			desc.Draws += draws
		}
		desc.Mean = desc.Parts.Total
		report[c.Name]["description"] = desc
		// exact: the concept itself in random contexts, what no vocabulary can pass.
		report[c.Name]["exact"] = score(toyworld.InRandomContexts(c, *n, rng), c)
		var own []toyworld.Scene
		for _, a := range c.Contexts {
			own = append(own, c.Scene.WithContext(a))
		}
		report[c.Name]["own"] = score(own, c)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	if err := enc.Encode(report); err != nil {
		fmt.Fprintln(os.Stderr, "wordbound:", err)
		os.Exit(1)
	}
}

// levelFields are the toyworld.FineLevels fields of each fidelity part, keyed by the first FineWords field
// of that part's rule.
var levelFields = map[string][]string{
	"Hue": {"Hue", "Saturation", "Lightness"}, "Outline": {"Outline", "OutlineWidth"},
	"PatternTone": {"PatternTone", "PatternPeriod"}, "Mark": {"Mark", "MarkColor"}, "Tilt": {"Rotation"},
}

// sameFields reports whether got and want hold the same value in each named field.
func sameFields(got, want toyworld.FineLevels, fields []string) bool {
	g, w := reflect.ValueOf(got), reflect.ValueOf(want)
	for _, f := range fields {
		if !g.FieldByName(f).Equal(w.FieldByName(f)) {
			return false
		}
	}
	return true
}

// saysAll reports whether got says each word that want says among the named FineWords fields.
func saysAll(got, want toyworld.FineWords, fields []string) bool {
	g, w := reflect.ValueOf(got), reflect.ValueOf(want)
	for _, f := range fields {
		if v := w.FieldByName(f).String(); v != "" && g.FieldByName(f).String() != v {
			return false
		}
	}
	return true
}

// score renders the scenes and scores them against c.
func score(scenes []toyworld.Scene, c toyworld.Concept) stats {
	st := stats{Scenes: len(scenes)}
	if len(scenes) == 0 {
		return st
	}
	var sum, sq float64
	for _, s := range scenes {
		f := toyworld.FidelityDetail(toyworld.Render(s), c)
		sum += f.Total
		sq += f.Total * f.Total
		st.Parts.Color += f.Color
		st.Parts.Outline += f.Outline
		st.Parts.Pattern += f.Pattern
		st.Parts.Mark += f.Mark
		st.Parts.Shape += f.Shape
		st.Parts.Total += f.Total
	}
	k := float64(len(scenes))
	st.Mean = sum / k
	if len(scenes) > 1 {
		st.SE = math.Sqrt(math.Max(0, (sq-sum*sum/k)/(k-1)) / k)
	}
	p := &st.Parts
	p.Color, p.Outline, p.Pattern, p.Mark, p.Shape, p.Total = p.Color/k, p.Outline/k, p.Pattern/k, p.Mark/k, p.Shape/k, p.Total/k
	return st
}
