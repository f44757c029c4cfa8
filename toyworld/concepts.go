package toyworld

import (
	"encoding/json"
	"fmt"
	"image"
	"math/rand/v2"
	"os"
	"path/filepath"
)

// Concept is one specific object instance to personalise: fixed coarse shape, colour and pattern and
// fixed fine appearance, shown in several contexts (size, position, background).
type Concept struct {
	Name          string `json:"name"`           // folder name under examples/concepts
	SuperCategory string `json:"super_category"` // the shape word, one vocabulary token
	Description   string `json:"description"`    // the fine appearance in words (never in captions)
	// Scene is the concept in its first context; its Shape, Color, Pattern and Fine never change.
	Scene Scene `json:"scene"`
	// Contexts are the size, position and background of each training image.
	Contexts []Attributes `json:"contexts"`
}

// concept builds a Concept whose Scene takes its context from contexts[0].
func concept(name, desc, shape, color, pattern string, f Fine, contexts ...Attributes) Concept {
	s := Scene{Shape: shape, Color: color, Pattern: pattern, Fine: f}
	return Concept{Name: name, SuperCategory: shape, Description: desc, Scene: s.WithContext(contexts[0]), Contexts: contexts}
}

func ctx(size, position, background string) Attributes {
	return Attributes{Size: size, Position: position, Background: background}
}

// Concepts returns the eight concepts: two stars and two hearts (their super-category word is
// ambiguous), a square, a cross, a moon and a circle, each with five training contexts.
func Concepts() []Concept {
	return []Concept{
		concept("tealstar", "a teal-leaning blue star with light stripes, a black outline and a white centre dot, turned 12°",
			"star", "blue", "striped",
			Fine{ColorJitter: HSLJitter{DH: -12, DL: 0.04}, Rotation: 12, Scale: 1, Outline: "black", OutlineWidth: 1.8,
				Mark: "dot", MarkColor: "white", PatternTone: 0.45, PatternPeriod: 5, PatternAngle: 30, PatternPhase: 0.2},
			ctx("large", "center", "white"), ctx("large", "left", "yellow"), ctx("large", "right", "pink"),
			ctx("medium", "top", "orange"), ctx("large", "bottom", "green")),
		concept("goldstar", "a golden yellow star with dark dots and a black ring in the centre, no outline, turned −8°",
			"star", "yellow", "dotted",
			Fine{ColorJitter: HSLJitter{DH: -6, DL: -0.03}, Rotation: -8, Scale: 1, Outline: "none",
				Mark: "ring", MarkColor: "black", PatternTone: -0.4, PatternPeriod: 6, PatternAngle: 10, PatternPhase: 0.5},
			ctx("medium", "center", "blue"), ctx("large", "right", "purple"), ctx("medium", "left", "black"),
			ctx("large", "top", "red"), ctx("large", "bottom", "green")),
		concept("rubyheart", "a deep red plain heart with a white outline and a black centre dot, turned 5°",
			"heart", "red", "plain",
			Fine{ColorJitter: HSLJitter{DH: 4, DL: -0.03}, Rotation: 5, Scale: 1, Outline: "white", OutlineWidth: 2,
				Mark: "dot", MarkColor: "black", PatternPeriod: 5},
			ctx("medium", "center", "blue"), ctx("large", "left", "black"), ctx("medium", "right", "green"),
			ctx("large", "top", "yellow"), ctx("large", "bottom", "purple")),
		concept("mintheart", "a light mint-green heart with pale stripes and a thin dark-green outline, no mark, turned −10°",
			"heart", "green", "striped",
			Fine{ColorJitter: HSLJitter{DH: 12, DL: 0.05}, Rotation: -10, Scale: 1, Outline: "dark", OutlineWidth: 1.5,
				Mark: "none", MarkColor: "white", PatternTone: 0.4, PatternPeriod: 6.5, PatternAngle: 90, PatternPhase: 0},
			ctx("medium", "center", "pink"), ctx("large", "right", "white"), ctx("medium", "left", "purple"),
			ctx("large", "top", "orange"), ctx("small", "bottom", "yellow")),
		concept("plumsquare", "a purple square with a pale checker pattern, a black outline and a white ring, turned 10°",
			"square", "purple", "checkered",
			Fine{Rotation: 10, Scale: 1, Outline: "black", OutlineWidth: 2, Mark: "ring", MarkColor: "white",
				PatternTone: 0.45, PatternPeriod: 6, PatternAngle: 0, PatternPhase: 0.3},
			ctx("large", "center", "yellow"), ctx("medium", "left", "green"), ctx("medium", "right", "white"),
			ctx("large", "bottom", "orange"), ctx("medium", "top", "pink")),
		concept("embercross", "a reddish-orange plain cross with a dark outline and a white centre dot, upright",
			"cross", "orange", "plain",
			Fine{ColorJitter: HSLJitter{DH: -5}, Rotation: 0, Scale: 1, Outline: "dark", OutlineWidth: 1.5,
				Mark: "dot", MarkColor: "white", PatternPeriod: 5},
			ctx("medium", "center", "blue"), ctx("large", "left", "white"), ctx("large", "right", "purple"),
			ctx("medium", "bottom", "black"), ctx("large", "top", "green")),
		concept("inkmoon", "a black moon with grey dots and a thin white outline, turned 15°",
			"moon", "black", "dotted",
			Fine{Rotation: 15, Scale: 1, Outline: "white", OutlineWidth: 1.2, Mark: "none", MarkColor: "white",
				PatternTone: 0.45, PatternPeriod: 5.5, PatternAngle: 20, PatternPhase: 0.1},
			ctx("medium", "center", "yellow"), ctx("large", "left", "pink"), ctx("medium", "right", "orange"),
			ctx("large", "top", "green"), ctx("large", "bottom", "blue")),
		concept("snowcircle", "a white circle with grey diagonal stripes, a black outline and a black centre dot",
			"circle", "white", "striped",
			Fine{Rotation: 0, Scale: 1, Outline: "black", OutlineWidth: 1.5, Mark: "dot", MarkColor: "black",
				PatternTone: -0.4, PatternPeriod: 7, PatternAngle: 45, PatternPhase: 0},
			ctx("large", "center", "blue"), ctx("large", "right", "red"), ctx("medium", "left", "green"),
			ctx("large", "top", "purple"), ctx("large", "bottom", "orange")),
	}
}

// ReferencePrompts returns the concept in words at three levels: its super-category word ("a star"), its
// coarse words ("a blue striped star") and its description (the coarse words and every fine word of
// Scene.FineWords: "a light cool blue star with fine light stripes, with a thick black outline, …").
// Learned concepts are measured against what these prompts draw.
func (c Concept) ReferencePrompts() (superCategory, words, description string) {
	rng := func() *rand.Rand { return rand.New(rand.NewPCG(0, 0)) }
	coarse := Attributes{Shape: c.SuperCategory, Color: c.Scene.Color, Pattern: c.Scene.Pattern}
	full := coarse
	full.Fine = c.Scene.FineWords()
	return Describe(Attributes{Shape: c.SuperCategory}, rng()), Describe(coarse, rng()), Describe(full, rng())
}

// HeldOutConcepts returns three concepts for checking results on objects nothing was tuned on (issue 14):
// like Concepts, each a combination of coarse and fine attributes no single word names, five contexts
// each; no setting of the toy preset or the benchmark may be chosen by measuring them.
func HeldOutConcepts() []Concept {
	return []Concept{
		concept("coraldiamond", "a warm pink diamond with coarse dark dots, a thin white outline and a black ring, turned −14°",
			"diamond", "pink", "dotted",
			Fine{ColorJitter: HSLJitter{DH: 7, DL: -0.01}, Rotation: -14, Scale: 1, Outline: "white", OutlineWidth: 1.1,
				Mark: "ring", MarkColor: "black", PatternTone: -0.45, PatternPeriod: 7, PatternAngle: 0, PatternPhase: 0.25},
			ctx("large", "center", "green"), ctx("large", "left", "blue"), ctx("medium", "right", "yellow"),
			ctx("large", "top", "purple"), ctx("large", "bottom", "orange")),
		concept("ferntriangle", "a dark yellowish-green triangle with a fine light checker pattern, no outline and a white centre dot, turned 6°",
			"triangle", "green", "checkered",
			Fine{ColorJitter: HSLJitter{DH: -12, DL: -0.04}, Rotation: 6, Scale: 1, Outline: "none",
				Mark: "dot", MarkColor: "white", PatternTone: 0.4, PatternPeriod: 5, PatternAngle: 15, PatternPhase: 0},
			ctx("large", "center", "white"), ctx("large", "right", "pink"), ctx("large", "left", "orange"),
			ctx("medium", "bottom", "purple"), ctx("large", "top", "yellow")),
		concept("sunmoon", "a light golden-yellow plain moon with a thick dark outline and no mark, turned −18°",
			"moon", "yellow", "plain",
			Fine{ColorJitter: HSLJitter{DH: -5, DL: 0.04}, Rotation: -18, Scale: 1, Outline: "dark", OutlineWidth: 2.2,
				Mark: "none", MarkColor: "white", PatternPeriod: 5},
			ctx("large", "center", "blue"), ctx("medium", "left", "black"), ctx("large", "right", "purple"),
			ctx("large", "top", "green"), ctx("large", "bottom", "red")),
	}
}

// ConceptByName returns the concept (Concepts or HeldOutConcepts) with that name.
func ConceptByName(name string) (Concept, bool) {
	for _, c := range append(Concepts(), HeldOutConcepts()...) {
		if c.Name == name {
			return c, true
		}
	}
	return Concept{}, false
}

// TrainingScenes returns the concept's scene in each of its contexts.
func (c Concept) TrainingScenes() []Scene {
	out := make([]Scene, len(c.Contexts))
	for i, a := range c.Contexts {
		out[i] = c.Scene.WithContext(a)
	}
	return out
}

// Images renders the training images.
func (c Concept) Images() []*image.RGBA {
	var out []*image.RGBA
	for _, s := range c.TrainingScenes() {
		out = append(out, Render(s))
	}
	return out
}

// ConceptImage is one training image's entry in concept.json.
type ConceptImage struct {
	File    string     `json:"file"`
	Caption string     `json:"caption"` // the context, with the super-category word for the object
	Context Attributes `json:"context"`
	Scene   Scene      `json:"scene"`
}

// ConceptFile is the content of concept.json.
type ConceptFile struct {
	Concept
	Attributes Attributes     `json:"attributes"` // ground truth: shape, colour, pattern (context per image)
	Images     []ConceptImage `json:"images"`
}

// File returns the concept.json content; image i is "%02d.png" (from 01).
func (c Concept) File() ConceptFile {
	f := ConceptFile{Concept: c, Attributes: Attributes{Shape: c.Scene.Shape, Color: c.Scene.Color, Pattern: c.Scene.Pattern}}
	for i, s := range c.TrainingScenes() {
		rng := rand.New(rand.NewPCG(uint64(i), 11))
		a := c.Contexts[i]
		a.Shape = c.SuperCategory
		f.Images = append(f.Images, ConceptImage{File: fmt.Sprintf("%02d.png", i+1), Caption: Describe(a, rng), Context: c.Contexts[i], Scene: s})
	}
	return f
}

// WriteConcepts writes every concept of Concepts into dir/<name>/: its training images NN.png and
// concept.json.
func WriteConcepts(dir string) error { return writeConcepts(dir, Concepts()) }

// WriteHeldOutConcepts writes HeldOutConcepts as WriteConcepts writes Concepts.
func WriteHeldOutConcepts(dir string) error { return writeConcepts(dir, HeldOutConcepts()) }

func writeConcepts(dir string, concepts []Concept) error {
	for _, c := range concepts {
		sub := filepath.Join(dir, c.Name)
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return fmt.Errorf("write concepts: %w", err)
		}
		f := c.File()
		for i, s := range c.TrainingScenes() {
			if err := WritePNG(filepath.Join(sub, f.Images[i].File), Render(s)); err != nil {
				return err
			}
		}
		data, err := json.MarshalIndent(f, "", "  ")
		if err != nil {
			return fmt.Errorf("write concepts: %w", err)
		}
		if err := os.WriteFile(filepath.Join(sub, "concept.json"), append(data, '\n'), 0o644); err != nil {
			return fmt.Errorf("write concepts: %w", err)
		}
	}
	return nil
}
