package toyworld

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFineWordsParseBack(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	vocab := Vocabulary()
	named := map[string]int{}
	for range 2000 {
		s := RandomScene(rng)
		a := s.Attributes()
		a.Fine = s.FineWords()
		require.True(t, a.Valid(), "%+v", a)
		d := Describe(a, rng)
		for _, w := range words(d) {
			require.True(t, slices.Contains(vocab, w), "description %q: word %q not in Vocabulary()", d, w)
		}
		assert.Equal(t, a, ParseCaption(d), "Describe(%+v) = %q", a, d)
		for _, f := range a.Fine.fields() {
			if *f.v != "" {
				named[f.name+"="+*f.v]++
			}
		}
	}
	// Every fine word occurs in random scenes, none in almost all of them.
	for name, set := range map[string][]string{"hue": Hues, "shade": Shades, "outline": Outlines, "outline_width": OutlineWidths,
		"mark": Marks, "mark_color": MarkColors, "tilt": Tilts, "tilt_amount": TiltAmounts, "pattern_tone": PatternTones, "pattern_scale": PatternScales} {
		for _, v := range set {
			assert.Greater(t, named[name+"="+v], 60, "%s=%s named in too few of 2000 scenes", name, v)
			assert.Less(t, named[name+"="+v], 1900, "%s=%s named in almost every scene", name, v)
		}
	}
}

func TestFineWordsOfConcepts(t *testing.T) {
	c, ok := ConceptByName("tealstar")
	require.True(t, ok)
	assert.Equal(t, FineWords{Hue: "cool", Shade: "light", Outline: "black", OutlineWidth: "thick", Mark: "dot", MarkColor: "white",
		Tilt: "anticlockwise", TiltAmount: "strongly", PatternTone: "light", PatternScale: "fine"}, c.Scene.FineWords())
	a := c.Scene.Attributes()
	a.Fine = c.Scene.FineWords()
	a.Size, a.Position, a.Background = "", "", ""
	assert.Equal(t, "a light cool blue star with fine light stripes, with a thick black outline, with a white dot, tilted strongly anticlockwise",
		Describe(a, rand.New(rand.NewPCG(0, 0))))
}

func TestReferencePrompts(t *testing.T) {
	c, _ := ConceptByName("rubyheart")
	super, words, desc := c.ReferencePrompts()
	assert.Equal(t, "a heart", super)
	assert.Equal(t, Attributes{Shape: "heart", Color: "red", Pattern: "plain"}, ParseCaption(words), words)
	want := Attributes{Shape: "heart", Color: "red", Pattern: "plain", Fine: c.Scene.FineWords()}
	assert.Equal(t, want, ParseCaption(desc), desc)
}

func TestCaptionsNameFineWordsSometimes(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	withOutline := 0
	for range 1000 {
		s := RandomScene(rng)
		c := Caption(s, rng)
		got := ParseCaption(c).Fine
		want := s.FineWords()
		for k, f := range got.fields() {
			if *f.v != "" {
				assert.Equal(t, *want.fields()[k].v, *f.v, "caption %q names the wrong %s", c, f.name)
			}
		}
		if got.Outline != "" {
			withOutline++
		}
	}
	assert.InDelta(t, FineMention*1000, withOutline, 60, "captions naming the outline")
}

func TestHeldOutFinePrompts(t *testing.T) {
	prompts := HeldOutFinePrompts()
	require.Len(t, prompts, 2*len(HeldOutTriples))
	asked := map[string]int{}
	read, named := 0, 0
	for k, p := range prompts {
		require.True(t, p.Requested.Valid(), "%+v", p.Requested)
		assert.Equal(t, p.Requested, ParseCaption(p.Text), "prompt %q", p.Text)
		for _, f := range p.Requested.Fine.fields() {
			if *f.v != "" {
				asked[f.name+"="+*f.v]++
			}
		}
		// The scene drawn for the prompt shows what it names (as far as the classifier reads renders).
		s, err := SceneForCaption(p.Text, rand.New(rand.NewPCG(uint64(k), 1)))
		require.NoError(t, err)
		got := ClassifyFine(Render(s))
		assert.Equal(t, p.Requested.Shape, got.Shape, "prompt %q", p.Text)
		gf := got.Fine.fields()
		for i, f := range p.Requested.Fine.fields() {
			if *f.v != "" {
				named++
				if *gf[i].v == *f.v {
					read++
				} else {
					t.Logf("prompt %q: %s read %q", p.Text, f.name, *gf[i].v)
				}
			}
		}
	}
	for name, set := range map[string][]string{"hue": Hues, "shade": Shades, "outline": Outlines, "outline_width": OutlineWidths,
		"mark": Marks, "mark_color": MarkColors, "tilt": Tilts, "tilt_amount": TiltAmounts, "pattern_tone": PatternTones, "pattern_scale": PatternScales} {
		for _, v := range set {
			assert.GreaterOrEqual(t, asked[name+"="+v], 2, "%s=%s asked for in too few held-out fine prompts", name, v)
		}
	}
	t.Logf("renders of the prompts' scenes: %d of %d fine words read back", read, named)
	assert.GreaterOrEqual(t, float64(read)/float64(named), 0.85)
}
