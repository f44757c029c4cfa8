package toyworld

import (
	"math"
	"math/rand/v2"
)

// FineLevels is a scene's fine appearance on a k-level scale: each continuous fine value as one of k
// equal-width levels (0 … k−1) of the range RandomScene draws it from, the discrete ones as they are.
// It measures what a vocabulary finer than FineWords could say (tools/toyworld/wordbound --levels);
// −1 marks a value the scene does not have (the hue of white and black, the tilt of a circle, the
// outline width without an outline, the pattern of a plain object).
type FineLevels struct {
	Hue           int    `json:"hue"`            // the object colour's hue jitter within its named colour
	Saturation    int    `json:"saturation"`     // its saturation jitter
	Lightness     int    `json:"lightness"`      // its lightness jitter
	Rotation      int    `json:"rotation"`       // of the shape, over [−20°, 20°]
	Outline       string `json:"outline"`        // "none", "black", "white" or "dark"
	OutlineWidth  int    `json:"outline_width"`  // over [1, 3] px
	Mark          string `json:"mark"`           // "none", "dot" or "ring"
	MarkColor     string `json:"mark_color"`     // "" without a mark
	PatternTone   int    `json:"pattern_tone"`   // |tone| over [0.35, 0.5], plus k when lighter than the object (0 … 2k−1)
	PatternPeriod int    `json:"pattern_period"` // over [4.5, 7.5] px
}

// FineLevels returns the scene's fine values on a k-level scale (k ≥ 1; k = 1 keeps only which values
// exist and the discrete ones).
func (s Scene) FineLevels(k int) FineLevels {
	f := s.Fine
	level := func(v, lo, hi float64) int {
		return min(k-1, max(0, int(math.Floor((v-lo)/(hi-lo)*float64(k)))))
	}
	l := FineLevels{Hue: -1, Saturation: -1, Lightness: -1, Rotation: -1, OutlineWidth: -1, PatternTone: -1, PatternPeriod: -1}
	if nc, ok := colorTable[s.Color]; ok {
		if s.Color != "white" && s.Color != "black" {
			l.Hue = level(f.ColorJitter.DH, -nc.dh, nc.dh)
		}
		l.Saturation = level(f.ColorJitter.DS, nc.ds0, nc.ds1)
		l.Lightness = level(f.ColorJitter.DL, -nc.dl, nc.dl)
	}
	if s.Shape != "circle" {
		l.Rotation = level(f.Rotation, -maxRotation, maxRotation)
	}
	l.Outline = f.Outline
	if f.Outline != "none" {
		l.OutlineWidth = level(f.OutlineWidth, minOutlineWidth, maxOutlineWidth)
	}
	l.Mark = f.Mark
	if f.Mark != "none" {
		l.MarkColor = f.MarkColor
	}
	if s.Pattern != "plain" {
		l.PatternTone = level(math.Abs(f.PatternTone), minPatternTone, maxPatternTone)
		if f.PatternTone > 0 {
			l.PatternTone += k
		}
		l.PatternPeriod = level(f.PatternPeriod, minPatternPeriod, maxPatternPeriod)
	}
	return l
}

// InRandomContexts returns n scenes of the concept's exact appearance in random contexts: the size,
// position and background (not the concept's colour) drawn as RandomScene draws them, with the context's
// own jitter (background colour, scale, position, pattern phase); everything else — shape, colour,
// pattern and every fine value of the object, the pattern's angle to the shape included — is the
// concept's. It is what a generator that knew the concept exactly would draw for prompts that leave the
// context open (the learned concepts' fidelity prompts), the line no method can pass.
func InRandomContexts(c Concept, n int, rng *rand.Rand) []Scene {
	out := make([]Scene, 0, n)
	for range n {
		r := RandomScene(rng)
		s := c.Scene
		s.Size, s.Position = r.Size, r.Position
		if r.Background != s.Color {
			s.Background = r.Background
			s.Fine.BackgroundJitter = r.Fine.BackgroundJitter
		}
		s.Fine.Scale, s.Fine.DX, s.Fine.DY, s.Fine.PatternPhase = r.Fine.Scale, r.Fine.DX, r.Fine.DY, r.Fine.PatternPhase
		out = append(out, s)
	}
	return out
}
