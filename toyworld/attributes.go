package toyworld

import "slices"

// The coarse attribute values: the only ones captions name.
var (
	// Shapes are the object shapes.
	Shapes = []string{"circle", "square", "triangle", "star", "heart", "cross", "diamond", "moon"}
	// Colors are the named colours of objects and backgrounds.
	Colors = []string{"red", "orange", "yellow", "green", "blue", "purple", "pink", "white", "black"}
	// Patterns are the fill patterns of objects.
	Patterns = []string{"plain", "striped", "dotted", "checkered"}
	// Sizes are the object sizes.
	Sizes = []string{"small", "medium", "large"}
	// Positions are the object positions in the frame.
	Positions = []string{"center", "left", "right", "top", "bottom"}
)

// namedColor is a named colour's centre (the value Classify compares to) and the jitter the renderer
// applies within it: hue ±dh degrees, saturation +[ds0, ds1], lightness ±dl.
type namedColor struct {
	base     RGB
	dh       float64
	ds0, ds1 float64
	dl       float64
}

// colorTable holds every named colour. The jitter ranges keep every jittered colour nearer (in Lab)
// to its own centre than to any other centre (checked by TestColorJitterStaysNearest).
var colorTable = map[string]namedColor{
	"red":    {RGB{210, 35, 40}, 7, -0.12, 0.05, 0.05},
	"orange": {RGB{242, 135, 25}, 6, -0.12, 0.05, 0.04},
	"yellow": {RGB{240, 212, 40}, 6, -0.12, 0.05, 0.05},
	"green":  {RGB{45, 165, 65}, 14, -0.12, 0.05, 0.06},
	"blue":   {RGB{40, 85, 215}, 12, -0.12, 0.05, 0.06},
	"purple": {RGB{130, 50, 175}, 8, -0.12, 0.05, 0.05},
	"pink":   {RGB{245, 145, 195}, 8, -0.12, 0.05, 0.04},
	"white":  {RGB{240, 240, 238}, 30, 0, 0.05, 0.03},
	"black":  {RGB{28, 28, 30}, 30, 0, 0.05, 0.03},
}

// HSLJitter shifts a named colour within its range: hue by DH degrees, saturation by DS, lightness by DL.
// The renderer clamps each component to the named colour's documented range.
type HSLJitter struct {
	DH float64 `json:"dh"`
	DS float64 `json:"ds"`
	DL float64 `json:"dl"`
}

// ColorRGB returns the sRGB value of a named colour shifted by a jitter (clamped to the colour's range).
// It returns black for an unknown name.
func ColorRGB(name string, j HSLJitter) RGB { return jittered(name, j).rgb() }

func jittered(name string, j HSLJitter) rgbF {
	nc, ok := colorTable[name]
	if !ok {
		return rgbF{}
	}
	h, s, l := nc.base.f().hsl()
	clampTo := func(v, lo, hi float64) float64 { return min(hi, max(lo, v)) }
	return fromHSL(h+clampTo(j.DH, -nc.dh, nc.dh), s+clampTo(j.DS, nc.ds0, nc.ds1), l+clampTo(j.DL, -nc.dl, nc.dl))
}

// Attributes are attribute values as named in captions: the coarse ones and the fine words; an empty
// field means "not given".
type Attributes struct {
	Shape      string    `json:"shape,omitempty"`
	Color      string    `json:"color,omitempty"`
	Pattern    string    `json:"pattern,omitempty"`
	Size       string    `json:"size,omitempty"`
	Position   string    `json:"position,omitempty"`
	Background string    `json:"background,omitempty"`
	Fine       FineWords `json:"fine,omitzero"`
}

// fields lists the coarse attribute names and pointers to their values, in a fixed order.
func (a *Attributes) fields() []struct {
	name string
	v    *string
} {
	return []struct {
		name string
		v    *string
	}{
		{"shape", &a.Shape}, {"color", &a.Color}, {"pattern", &a.Pattern},
		{"size", &a.Size}, {"position", &a.Position}, {"background", &a.Background},
	}
}

// Valid reports whether every non-empty field holds a known value and the background differs from the
// object colour.
func (a Attributes) Valid() bool {
	ok := func(v string, set []string) bool { return v == "" || slices.Contains(set, v) }
	f := a.Fine
	return ok(a.Shape, Shapes) && ok(a.Color, Colors) && ok(a.Pattern, Patterns) && ok(a.Size, Sizes) &&
		ok(a.Position, Positions) && ok(a.Background, Colors) && (a.Color == "" || a.Color != a.Background) &&
		ok(f.Hue, Hues) && ok(f.Shade, Shades) && ok(f.Outline, Outlines) && ok(f.OutlineWidth, OutlineWidths) &&
		ok(f.Mark, Marks) && ok(f.MarkColor, MarkColors) && ok(f.Tilt, Tilts) && ok(f.TiltAmount, TiltAmounts) &&
		ok(f.PatternTone, PatternTones) && ok(f.PatternScale, PatternScales)
}

// Agreement returns, for every attribute that requested names (its non-empty fields, by their JSON names:
// "shape", …, "background", then the fine "hue", …, "pattern_scale"), whether got names the same word.
func Agreement(requested, got Attributes) map[string]bool {
	out := map[string]bool{}
	gc, gf := got.fields(), got.Fine.fields()
	for i, f := range requested.fields() {
		if *f.v != "" {
			out[f.name] = *gc[i].v == *f.v
		}
	}
	for i, f := range requested.Fine.fields() {
		if *f.v != "" {
			out[f.name] = *gf[i].v == *f.v
		}
	}
	return out
}

// Tally counts, per attribute name (Agreement's), the images that show it as requested ([0]) out of the
// images whose request names it ([1]).
type Tally map[string][2]int

// Add counts one image: Agreement(requested, got).
func (t Tally) Add(requested, got Attributes) {
	for name, right := range Agreement(requested, got) {
		c := t[name]
		c[1]++
		if right {
			c[0]++
		}
		t[name] = c
	}
}

// Rates returns each attribute's fraction of images that show it as requested.
func (t Tally) Rates() map[string]float64 {
	out := map[string]float64{}
	for k, c := range t {
		out[k] = float64(c[0]) / float64(c[1])
	}
	return out
}
