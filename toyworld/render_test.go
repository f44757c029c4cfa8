package toyworld

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRenderDeterministicAndAntiAliased(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 20 {
		s := RandomScene(rng)
		a, b := Render(s), Render(s)
		require.Equal(t, a.Pix, b.Pix, "scene %d %+v renders differently twice", i, s)
		// Anti-aliasing: some pixels are strict mixes of the background and the object's edge colour.
		bg := s.BackgroundRGB()
		mixed := 0
		for p := 0; p < len(a.Pix); p += 4 {
			c := RGB{a.Pix[p], a.Pix[p+1], a.Pix[p+2]}
			if c != bg && DeltaE(c.Lab(), bg.Lab()) < 0.8*DeltaE(s.OutlineRGB().Lab(), bg.Lab()) && DeltaE(c.Lab(), bg.Lab()) > 3 {
				mixed++
			}
		}
		assert.Greater(t, mixed, 5, "scene %d (%s %s on %s) has no anti-aliased edge pixels", i, s.Color, s.Shape, s.Background)
	}
}

func TestSceneJSONRoundTrip(t *testing.T) {
	s := RandomScene(rand.New(rand.NewPCG(3, 4)))
	data, err := json.Marshal(s)
	require.NoError(t, err)
	var back Scene
	require.NoError(t, json.Unmarshal(data, &back))
	assert.Equal(t, s, back)
	assert.Equal(t, Render(s).Pix, Render(back).Pix, "a scene read back from JSON must render identically")
}

func TestRandomSceneRanges(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	seen := map[string]map[string]bool{}
	note := func(k, v string) {
		if seen[k] == nil {
			seen[k] = map[string]bool{}
		}
		seen[k][v] = true
	}
	for i := range 2000 {
		s := RandomScene(rng)
		require.True(t, s.Attributes().Valid(), "scene %d: invalid attributes %+v", i, s.Attributes())
		f := s.Fine
		assert.NotEqual(t, s.Color, s.Background)
		assert.True(t, f.Rotation >= -20 && f.Rotation <= 20 && f.Scale >= 0.95 && f.Scale <= 1.05, "scene %d: %+v", i, f)
		assert.True(t, f.PatternPeriod >= 4.5 && f.PatternPeriod <= 7.5, "scene %d: period %v", i, f.PatternPeriod)
		assert.True(t, (f.Outline == "none") == (f.OutlineWidth == 0), "scene %d: outline %q width %v", i, f.Outline, f.OutlineWidth)
		bg := s.BackgroundRGB().Lab()
		if f.Outline != "none" {
			assert.GreaterOrEqual(t, DeltaE(s.OutlineRGB().Lab(), bg), float64(minContrast), "scene %d: outline too close to the background", i)
			obj, bgf := jittered(s.Color, f.ColorJitter), jittered(s.Background, f.BackgroundJitter)
			assert.GreaterOrEqual(t, offBlend(s.OutlineRGB().f(), obj, bgf), float64(minInnerContrast), "scene %d: outline too close to the object or its blend with the background", i)
		}
		note("shape", s.Shape)
		note("color", s.Color)
		note("pattern", s.Pattern)
		note("size", s.Size)
		note("position", s.Position)
		note("outline", f.Outline)
		note("mark", f.Mark)
	}
	for k, set := range map[string][]string{"shape": Shapes, "color": Colors, "pattern": Patterns, "size": Sizes, "position": Positions,
		"outline": {"none", "black", "white", "dark"}, "mark": {"none", "dot", "ring"}} {
		for _, v := range set {
			assert.True(t, seen[k][v], "RandomScene never drew %s %q in 2000 scenes", k, v)
		}
	}
}

// TestColorJitterStaysNearest checks that every jittered colour, at the corners of its jitter range, is
// nearer (Lab) to its own named centre than to any other, so colour names are unambiguous.
func TestColorJitterStaysNearest(t *testing.T) {
	for _, name := range Colors {
		nc := colorTable[name]
		for _, dh := range []float64{-nc.dh, 0, nc.dh} {
			for _, ds := range []float64{nc.ds0, nc.ds1} {
				for _, dl := range []float64{-nc.dl, nc.dl} {
					j := HSLJitter{dh, ds, dl}
					got := nearestColor(ColorRGB(name, j).Lab())
					assert.Equal(t, name, got, "jitter %+v of %s", j, name)
				}
			}
		}
	}
}

func TestShapesNormalised(t *testing.T) {
	for _, name := range Shapes {
		g := geometry(name)
		require.NotNil(t, g, name)
		// Area π by sampling the inside test on a grid.
		var in int
		const n = 400
		for i := range n {
			for j := range n {
				// An irrational offset keeps grid rows off the axis-aligned edges (square, cross).
				x, y := -2+4*(float64(i)+0.5+0.1*math.Sqrt2)/n, -2+4*(float64(j)+0.5+0.1*math.Sqrt2)/n
				if g.sdf(x, y) < 0 {
					in++
				}
			}
		}
		area := float64(in) * 16 / (n * n)
		assert.InDelta(t, math.Pi, area, 0.02, "%s: area", name)
		assert.Greater(t, g.inR, 0.5, "%s: inscribed radius", name)
		assert.Less(t, g.extent, 1.7, "%s: extent", name)
	}
	assert.True(t, slices.Equal(Shapes, []string{"circle", "square", "triangle", "star", "heart", "cross", "diamond", "moon"}))
}

// TestCoverage: the alpha mask composes the render: on its own background, Render(s) is the scene drawn on
// black plus (1 − coverage) × the background, to rounding; the centre is object, the corners background,
// and the anti-aliased edge in between.
func TestCoverage(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range 10 {
		s := RandomScene(rng)
		a, img, onBlack := Coverage(s), Render(s), render(s, rgbF{})
		bg := s.BackgroundRGB()
		edge := 0
		for p, cov := range a.Pix {
			alpha := float64(cov) / 255
			for c, v := range []uint8{bg.R, bg.G, bg.B} {
				want := float64(onBlack.Pix[4*p+c]) + (1-alpha)*float64(v)
				require.InDelta(t, want, float64(img.Pix[4*p+c]), 2.5, "scene %d pixel %d channel %d", i, p, c)
			}
			if cov > 0 && cov < 255 {
				edge++
			}
		}
		assert.Equal(t, uint8(0), a.AlphaAt(0, 0).A, "scene %d: a corner is background", i)
		assert.Greater(t, edge, 5, "scene %d: no anti-aliased edge", i)
		m := Measure(img)
		assert.Equal(t, uint8(255), a.AlphaAt(int(m.CX), int(m.CY)).A, "scene %d: the object's centre is object", i)
	}
}
