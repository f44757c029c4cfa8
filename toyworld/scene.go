package toyworld

import (
	"math"
	"math/rand/v2"
	"slices"
)

// Scene is one object on a plain background: the coarse attributes that captions name and the fine
// appearance that they never name. It serialises to JSON; Render draws it deterministically.
type Scene struct {
	Shape      string `json:"shape"`      // one of Shapes
	Color      string `json:"color"`      // one of Colors
	Pattern    string `json:"pattern"`    // one of Patterns
	Size       string `json:"size"`       // one of Sizes
	Position   string `json:"position"`   // one of Positions
	Background string `json:"background"` // one of Colors, not Color
	Fine       Fine   `json:"fine"`
}

// Fine is the appearance that captions never name. Lengths are in pixels of the 64×64 image, angles in
// degrees counter-clockwise; ρ is the object's inscribed radius (its largest inner disc) in pixels.
type Fine struct {
	ColorJitter      HSLJitter `json:"color_jitter"`      // exact object colour within its named colour
	BackgroundJitter HSLJitter `json:"background_jitter"` // exact background colour within its name
	Rotation         float64   `json:"rotation"`          // of the shape, in [-20, 20] in random scenes
	Scale            float64   `json:"scale"`             // multiplies the size's radius, in [0.95, 1.05]
	DX               float64   `json:"dx"`                // position jitter, in [-1.2, 1.2]
	DY               float64   `json:"dy"`                // position jitter, in [-1.2, 1.2]
	Outline          string    `json:"outline"`           // "none", "black", "white" or "dark" (the colour darkened)
	OutlineWidth     float64   `json:"outline_width"`     // in [1, min(3, max(1, 0.22·ρ))] when Outline is not "none"
	Mark             string    `json:"mark"`              // "none", "dot", "ring" at the deepest point; "none" when ρ < 5.5
	MarkColor        string    `json:"mark_color"`        // "white" or "black"
	PatternTone      float64   `json:"pattern_tone"`      // pattern colour = colour mixed toward white (>0) or black (<0) by |tone|
	PatternPeriod    float64   `json:"pattern_period"`    // in [4.5, 7.5]
	PatternAngle     float64   `json:"pattern_angle"`     // relative to the shape, in [0, 180)
	PatternPhase     float64   `json:"pattern_phase"`     // in [0, 1)
}

// Nominal equivalent-circle radii (pixels) of the sizes: an object's area is π·(radius·Fine.Scale)².
var sizeRadius = map[string]float64{"small": 6.5, "medium": 9.5, "large": 13}

// Exact colours of outlines and marks.
var (
	pureBlack = rgbF{0.05, 0.05, 0.05}
	pureWhite = rgbF{0.98, 0.98, 0.98}
)

// ObjectRGB returns the exact object colour.
func (s Scene) ObjectRGB() RGB { return jittered(s.Color, s.Fine.ColorJitter).rgb() }

// BackgroundRGB returns the exact background colour.
func (s Scene) BackgroundRGB() RGB { return jittered(s.Background, s.Fine.BackgroundJitter).rgb() }

// PatternRGB returns the exact colour of the pattern's marks (the object colour mixed toward white or black).
func (s Scene) PatternRGB() RGB {
	return patternColor(jittered(s.Color, s.Fine.ColorJitter), s.Fine.PatternTone).rgb()
}

func patternColor(c rgbF, tone float64) rgbF {
	if tone >= 0 {
		return c.mix(pureWhite, tone)
	}
	return c.mix(pureBlack, -tone)
}

// OutlineRGB returns the exact outline colour (the object colour when there is no outline).
func (s Scene) OutlineRGB() RGB {
	return outlineColor(jittered(s.Color, s.Fine.ColorJitter), s.Fine.Outline).rgb()
}

func outlineColor(c rgbF, outline string) rgbF {
	switch outline {
	case "black":
		return pureBlack
	case "white":
		return pureWhite
	case "dark":
		return c.mix(pureBlack, 0.6)
	}
	return c
}

func markColor(name string) rgbF {
	if name == "black" {
		return pureBlack
	}
	return pureWhite
}

// Attributes returns the scene's coarse attributes (Fine empty; see FineWords).
func (s Scene) Attributes() Attributes {
	return Attributes{Shape: s.Shape, Color: s.Color, Pattern: s.Pattern, Size: s.Size, Position: s.Position, Background: s.Background}
}

// WithContext returns a copy of s with the given non-empty coarse attributes replaced (fine attributes kept).
func (s Scene) WithContext(a Attributes) Scene {
	for _, f := range a.fields() {
		if *f.v == "" {
			continue
		}
		switch f.name {
		case "shape":
			s.Shape = *f.v
		case "color":
			s.Color = *f.v
		case "pattern":
			s.Pattern = *f.v
		case "size":
			s.Size = *f.v
		case "position":
			s.Position = *f.v
		case "background":
			s.Background = *f.v
		}
	}
	return s
}

// minMarkRadius is the smallest inscribed radius (pixels) of objects that RandomScene gives a mark.
const minMarkRadius = 5.5

// minContrast is the smallest Lab distance RandomScene allows between the background and the outline or
// pattern colours, so that segmentation sees the whole object.
const minContrast = 25

// minInnerContrast is the smallest Lab distance RandomScene allows between the object colour and its
// outline or pattern colour, so that neither vanishes into the object (for outlines: into any blend of
// object and background, offBlend).
const minInnerContrast = 20

// offBlend is the Lab distance from c to the nearest blend of a and b (sRGB mixes in 5 % steps, as
// anti-aliasing averages them): how far c stands from every edge pixel between a and b.
func offBlend(c, a, b rgbF) float64 {
	lab, d := c.lab(), math.Inf(1)
	for i := 0; i <= 20; i++ {
		d = math.Min(d, DeltaE(lab, a.mix(b, float64(i)/20).lab()))
	}
	return d
}

// outlineShows reports whether an outline (an Outlines word other than "none") of an object of colour obj
// on a background bg can be seen: at least minContrast (Lab) from the background and minInnerContrast from
// the object and every anti-aliased blend of the two (offBlend).
func outlineShows(outline string, obj, bg rgbF) bool {
	c := outlineColor(obj, outline)
	return DeltaE(c.lab(), bg.lab()) >= minContrast && offBlend(c, obj, bg) >= minInnerContrast
}

// randomJitter draws a named colour's HSL jitter within its table range, with u a uniform draw in [lo, hi).
func randomJitter(name string, u func(lo, hi float64) float64) HSLJitter {
	nc := colorTable[name]
	return HSLJitter{u(-nc.dh, nc.dh), u(nc.ds0, nc.ds1), u(-nc.dl, nc.dl)}
}

// The ranges RandomScene draws the continuous fine values from (FineLevels scales them to levels).
const (
	maxRotation                        = 20.0      // degrees, either way (none for circles)
	minOutlineWidth, maxOutlineWidth   = 1.0, 3.0  // px, the upper end lowered for small objects
	minPatternTone, maxPatternTone     = 0.35, 0.5 // |PatternTone|
	minPatternPeriod, maxPatternPeriod = 4.5, 7.5  // px
)

// RandomScene draws a scene: every coarse attribute uniformly (the background among the colours other than
// the object's) and every fine attribute uniformly in its documented range, with outline and pattern colours
// kept at least minContrast (Lab) away from the background and outlines minInnerContrast from the object and
// its blends with the background (offBlend).
func RandomScene(rng *rand.Rand) Scene {
	pick := func(set []string) string { return set[rng.IntN(len(set))] }
	u := func(lo, hi float64) float64 { return lo + (hi-lo)*rng.Float64() }
	s := Scene{Shape: pick(Shapes), Color: pick(Colors), Pattern: pick(Patterns), Size: pick(Sizes), Position: pick(Positions)}
	bgs := slices.DeleteFunc(slices.Clone(Colors), func(c string) bool { return c == s.Color })
	s.Background = pick(bgs)
	f := &s.Fine
	f.ColorJitter, f.BackgroundJitter = randomJitter(s.Color, u), randomJitter(s.Background, u)
	f.Rotation = u(-maxRotation, maxRotation)
	f.Scale = u(0.95, 1.05)
	f.DX, f.DY = u(-1.2, 1.2), u(-1.2, 1.2)
	obj, bgRGB := jittered(s.Color, f.ColorJitter), jittered(s.Background, f.BackgroundJitter)
	bg := bgRGB.lab()
	far := func(c rgbF) bool { return DeltaE(c.lab(), bg) >= minContrast }
	// An outline must show against the background, the object and every anti-aliased blend of the two
	// (a black outline on a black object is no outline, a dark one on a black background reads as the
	// object's soft edge).
	outlines := []string{"none"}
	for _, o := range []string{"black", "white", "dark"} {
		if outlineShows(o, obj, bgRGB) {
			outlines = append(outlines, o)
		}
	}
	// "none" is drawn with the same probability as each visible outline.
	f.Outline = pick(outlines)
	// Small objects get thinner outlines and no mark, so that the object colour stays visible.
	g := geometry(s.Shape)
	rho := g.inR * sizeRadius[s.Size] * f.Scale
	if f.Outline != "none" {
		f.OutlineWidth = u(minOutlineWidth, math.Min(maxOutlineWidth, math.Max(minOutlineWidth, 0.22*rho)))
	}
	f.Mark = pick([]string{"none", "dot", "ring"})
	if rho < minMarkRadius {
		f.Mark = "none"
	}
	// The mark colour is white or black, whichever is farther from the object colour when only one is
	// at least 40 (Lab) away.
	var marks []string
	for _, m := range []string{"white", "black"} {
		if DeltaE(markColor(m).lab(), obj.lab()) >= 40 {
			marks = append(marks, m)
		}
	}
	if len(marks) == 0 {
		marks = []string{"white"}
	}
	f.MarkColor = pick(marks)
	f.PatternPeriod = u(minPatternPeriod, maxPatternPeriod)
	f.PatternAngle = u(0, 180)
	f.PatternPhase = u(0, 1)
	var tones []float64
	for _, sign := range []float64{-1, 1} {
		t := sign * u(minPatternTone, maxPatternTone)
		if far(patternColor(obj, t)) && DeltaE(patternColor(obj, t).lab(), obj.lab()) >= minInnerContrast {
			tones = append(tones, t)
		}
	}
	if len(tones) == 0 {
		tones = []float64{math.Copysign(maxPatternTone, 0.5-obj.lab().L/100)}
	}
	f.PatternTone = tones[rng.IntN(len(tones))]
	return s
}
