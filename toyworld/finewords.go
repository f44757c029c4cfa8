package toyworld

import (
	"math"
	"math/rand/v2"
	"strings"
)

// The fine attribute words: what the captions (from the v2 model on) can say about a scene's fine appearance. Each word
// names a range of a Fine value (Scene.FineWords gives the thresholds); values between two ranges have
// no word.
var (
	// Hues lean a named colour's hue toward orange ("warm") or away from it ("cool").
	Hues = []string{"warm", "cool"}
	// Shades are the object colour's lightness within its named colour.
	Shades = []string{"light", "dark"}
	// Outlines are the outline colours; "none" is phrased "no outline" and "dark" is the object colour darkened.
	Outlines = []string{"none", "black", "white", "dark"}
	// OutlineWidths are the outline's width.
	OutlineWidths = []string{"thin", "thick"}
	// Marks are the centre marks; "none" is phrased "no mark".
	Marks = []string{"none", "dot", "ring"}
	// MarkColors are the centre mark's colours.
	MarkColors = []string{"white", "black"}
	// Tilts are the shape's rotation: "anticlockwise" is a positive Fine.Rotation. Circles have none.
	Tilts = []string{"upright", "clockwise", "anticlockwise"}
	// TiltAmounts say how far a tilted shape is turned.
	TiltAmounts = []string{"slightly", "strongly"}
	// PatternTones say whether the pattern is lighter or darker than the object.
	PatternTones = []string{"light", "dark"}
	// PatternScales are the pattern's period.
	PatternScales = []string{"fine", "coarse"}
)

// Thresholds of the fine words, in the units of Fine.
const (
	// colourLean: a hue or lightness jitter of at least this fraction of its colour's range is named.
	colourLean = 0.4
	// thinOutline and thickOutline: widths (pixels) below the first are "thin", from the second "thick"
	// (of random scenes' outlines, 35 % are thin and 10 % thick: small objects get widths near 1).
	thinOutline  = 1.3
	thickOutline = 1.8
	// uprightTilt and strongTilt: rotations (degrees) below the first in size are "upright", from the
	// second "strongly" tilted.
	uprightTilt = 4
	strongTilt  = 12
	// finePeriod and coarsePeriod: pattern periods (pixels) below the first are "fine", from the second
	// "coarse".
	finePeriod   = 5.5
	coarsePeriod = 6.5
	// warmHue is the hue (degrees) a "warm" colour leans toward.
	warmHue = 20
)

// FineWords are fine attributes in words; an empty field means "not given". The values are those of the
// lists above (Hues, Shades, …).
type FineWords struct {
	Hue          string `json:"hue,omitempty"`
	Shade        string `json:"shade,omitempty"`
	Outline      string `json:"outline,omitempty"`
	OutlineWidth string `json:"outline_width,omitempty"`
	Mark         string `json:"mark,omitempty"`
	MarkColor    string `json:"mark_color,omitempty"`
	Tilt         string `json:"tilt,omitempty"`
	TiltAmount   string `json:"tilt_amount,omitempty"`
	PatternTone  string `json:"pattern_tone,omitempty"`
	PatternScale string `json:"pattern_scale,omitempty"`
}

// fields lists the fine word names and pointers to their values, in a fixed order.
func (w *FineWords) fields() []struct {
	name string
	v    *string
} {
	return []struct {
		name string
		v    *string
	}{
		{"hue", &w.Hue}, {"shade", &w.Shade}, {"outline", &w.Outline}, {"outline_width", &w.OutlineWidth},
		{"mark", &w.Mark}, {"mark_color", &w.MarkColor}, {"tilt", &w.Tilt}, {"tilt_amount", &w.TiltAmount},
		{"pattern_tone", &w.PatternTone}, {"pattern_scale", &w.PatternScale},
	}
}

// FineWords names the scene's fine appearance: every value that falls in a word's range.
//   - Hue: the colour jitter's hue shift is at least 0.4 of its colour's range (not for white and black),
//     "warm" when it moves the hue toward 20° (orange-red);
//   - Shade: the lightness shift is at least 0.4 of its range;
//   - Outline, Mark: always; OutlineWidth when the outline is below 1.3 px ("thin") or from 1.8 px
//     ("thick"); MarkColor when there is a mark;
//   - Tilt (not for circles): "upright" below 4°, else by the sign of Rotation, with TiltAmount
//     "slightly" below 12° and "strongly" from 12°;
//   - PatternTone (not for plain objects): the sign of Fine.PatternTone; PatternScale below a period of
//     5.5 px ("fine") or from 6.5 px ("coarse").
func (s Scene) FineWords() FineWords {
	var w FineWords
	f := s.Fine
	if nc, ok := colorTable[s.Color]; ok {
		dh := math.Max(-nc.dh, math.Min(nc.dh, f.ColorJitter.DH))
		if math.Abs(dh) >= colourLean*nc.dh && s.Color != "white" && s.Color != "black" {
			h, _, _ := nc.base.f().hsl()
			w.Hue = either(hueDistance(h+dh, warmHue) < hueDistance(h, warmHue), "warm", "cool")
		}
		if dl := math.Max(-nc.dl, math.Min(nc.dl, f.ColorJitter.DL)); math.Abs(dl) >= colourLean*nc.dl {
			w.Shade = either(dl > 0, "light", "dark")
		}
	}
	w.Outline = f.Outline
	if f.Outline != "none" {
		switch {
		case f.OutlineWidth < thinOutline:
			w.OutlineWidth = "thin"
		case f.OutlineWidth >= thickOutline:
			w.OutlineWidth = "thick"
		}
	}
	w.Mark = f.Mark
	if f.Mark != "none" {
		w.MarkColor = f.MarkColor
	}
	if s.Shape != "circle" {
		w.Tilt, w.TiltAmount = tiltWords(f.Rotation)
	}
	if s.Pattern != "plain" {
		w.PatternTone = either(f.PatternTone > 0, "light", "dark")
		switch {
		case f.PatternPeriod < finePeriod:
			w.PatternScale = "fine"
		case f.PatternPeriod >= coarsePeriod:
			w.PatternScale = "coarse"
		}
	}
	return w
}

// tiltWords names a rotation (degrees, counter-clockwise positive): "upright" below 4° in size, else its
// direction, with "slightly" below 12° and "strongly" from 12°.
func tiltWords(r float64) (tilt, amount string) {
	if math.Abs(r) < uprightTilt {
		return "upright", ""
	}
	return either(r > 0, "anticlockwise", "clockwise"), either(math.Abs(r) < strongTilt, "slightly", "strongly")
}

// either returns a when cond holds, else b.
func either(cond bool, a, b string) string {
	if cond {
		return a
	}
	return b
}

// hueDistance is the angle in [0, 180] between two hues in degrees.
func hueDistance(a, b float64) float64 {
	d := math.Mod(math.Abs(a-b), 360)
	return math.Min(d, 360-d)
}

// KeepFine empties each group of fine words (hue, shade, outline, mark, tilt, pattern) unless a draw
// from rng falls below p; a group is kept or dropped whole (OutlineWidth with Outline, …).
func KeepFine(w FineWords, p float64, rng *rand.Rand) FineWords {
	keep := func() bool { return rng.Float64() < p }
	if !keep() {
		w.Hue = ""
	}
	if !keep() {
		w.Shade = ""
	}
	if !keep() {
		w.Outline, w.OutlineWidth = "", ""
	}
	if !keep() {
		w.Mark, w.MarkColor = "", ""
	}
	if !keep() {
		w.Tilt, w.TiltAmount = "", ""
	}
	if !keep() {
		w.PatternTone, w.PatternScale = "", ""
	}
	return w
}

// finePhrases phrases the fine words (except Hue and Shade, which go before the colour) as the details
// that follow the object's noun, each led by "with" or "tilted", e.g. "with a thin black outline",
// "with a white dot", "tilted slightly clockwise". The pattern is phrased by patternPhrase.
func finePhrases(w FineWords) []string {
	var out []string
	switch w.Outline {
	case "":
	case "none":
		out = append(out, "with no outline")
	default:
		out = append(out, "with "+joinWords("a", w.OutlineWidth, w.Outline, "outline"))
	}
	switch w.Mark {
	case "":
	case "none":
		out = append(out, "with no mark")
	default:
		out = append(out, "with "+joinWords("a", w.MarkColor, w.Mark))
	}
	switch w.Tilt {
	case "":
	case "upright":
		out = append(out, "upright")
	default:
		out = append(out, joinWords("tilted", w.TiltAmount, w.Tilt))
	}
	return out
}

// patternPhrase phrases a pattern with its fine words: "with fine light stripes", "with dark dots",
// "with a coarse light checker pattern".
func patternPhrase(pattern string, w FineWords) string {
	switch pattern {
	case "striped":
		return "with " + joinWords(w.PatternScale, w.PatternTone, "stripes")
	case "dotted":
		return "with " + joinWords(w.PatternScale, w.PatternTone, "dots")
	case "checkered":
		return "with " + joinWords("a", w.PatternScale, w.PatternTone, "checker pattern")
	}
	return ""
}

// joinWords joins the non-empty words with spaces.
func joinWords(words ...string) string {
	var out []string
	for _, w := range words {
		if w != "" {
			out = append(out, w)
		}
	}
	return strings.Join(out, " ")
}

// Representative values of the fine words: what a scene drawn for a caption gets for each word it names
// (the middle of the word's range).
const (
	leanOfWord       = 0.8 // of the colour's hue or lightness range
	thinWidth        = 1.15
	thickWidth       = 2.2
	slightTilt       = 8
	strongTiltOfWord = 16
	finePeriodOfWord = 5.0
	coarsePeriodWord = 7.0
	patternToneWord  = 0.45
)

// applyFine sets the fine values of s that the words name (representative values), keeping the others.
func applyFine(s *Scene, w FineWords) {
	f := &s.Fine
	if nc, ok := colorTable[s.Color]; ok {
		if w.Hue != "" {
			h0, _, _ := nc.base.f().hsl()
			sign := 1.0
			if hueDistance(h0+nc.dh, warmHue) > hueDistance(h0, warmHue) {
				sign = -1
			}
			if w.Hue == "cool" {
				sign = -sign
			}
			f.ColorJitter.DH = sign * leanOfWord * nc.dh
		}
		switch w.Shade {
		case "light":
			f.ColorJitter.DL = leanOfWord * nc.dl
		case "dark":
			f.ColorJitter.DL = -leanOfWord * nc.dl
		}
	}
	if w.Outline != "" {
		f.Outline = w.Outline
		if f.Outline != "none" && f.OutlineWidth == 0 {
			f.OutlineWidth = thinWidth
		}
	}
	switch w.OutlineWidth {
	case "thin":
		f.OutlineWidth = thinWidth
	case "thick":
		f.OutlineWidth = thickWidth
	}
	if w.Mark != "" {
		f.Mark = w.Mark
	}
	if w.MarkColor != "" {
		f.MarkColor = w.MarkColor
	}
	amount := float64(slightTilt)
	if w.TiltAmount == "strongly" {
		amount = strongTiltOfWord
	}
	switch w.Tilt {
	case "upright":
		f.Rotation = 0
	case "anticlockwise":
		f.Rotation = amount
	case "clockwise":
		f.Rotation = -amount
	}
	switch w.PatternTone {
	case "light":
		f.PatternTone = patternToneWord
	case "dark":
		f.PatternTone = -patternToneWord
	}
	switch w.PatternScale {
	case "fine":
		f.PatternPeriod = finePeriodOfWord
	case "coarse":
		f.PatternPeriod = coarsePeriodWord
	}
}
