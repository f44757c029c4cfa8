package toyworld

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func words(caption string) []string {
	return strings.Fields(strings.ReplaceAll(caption, ",", " , "))
}

func TestCaptionsUseVocabularyAndParseBack(t *testing.T) {
	vocab := Vocabulary()
	require.True(t, slices.IsSorted(vocab))
	rng := rand.New(rand.NewPCG(7, 8))
	phrasings := map[string]bool{}
	for range 3000 {
		s := RandomScene(rng)
		c := Caption(s, rng)
		for _, w := range words(c) {
			require.True(t, slices.Contains(vocab, w), "caption %q: word %q not in Vocabulary()", c, w)
		}
		got, want := ParseCaption(c), s.Attributes()
		assert.Equal(t, want.Shape, got.Shape, "caption %q must always name the shape", c)
		for k, f := range got.fields() {
			if *f.v != "" {
				assert.Equal(t, *want.fields()[k].v, *f.v, "caption %q names the wrong %s", c, f.name)
			}
		}
		// The phrasing skeleton: the caption with attribute words removed.
		var skel []string
		for _, w := range words(c) {
			if ParseCaption(w) == (Attributes{}) {
				skel = append(skel, w)
			}
		}
		phrasings[strings.Join(skel, " ")] = true
	}
	assert.Greater(t, len(phrasings), 20, "captions should vary in phrasing")
}

func TestDescribeNamesEverything(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for range 500 {
		a := RandomScene(rng).Attributes()
		d := Describe(a, rng)
		assert.Equal(t, a, ParseCaption(d), "Describe(%+v) = %q", a, d)
	}
	assert.Equal(t, "an orange star", Describe(Attributes{Shape: "star", Color: "orange"}, rand.New(rand.NewPCG(0, 0))))
}

func TestDatasetDeterministicAndHoldsOut(t *testing.T) {
	a := Dataset(300, 42, IsHeldOut)
	b := Dataset(100, 42, IsHeldOut)
	require.Len(t, a, 300)
	assert.Equal(t, a[:100], b, "example i must depend only on (seed, i)")
	assert.NotEqual(t, a[:100], Dataset(100, 43, IsHeldOut), "another seed gives other examples")
	for _, e := range Dataset(4000, 1, IsHeldOut) {
		require.False(t, IsHeldOut(e.Scene), "held-out scene in the dataset: %+v", e.Scene.Attributes())
	}
	// Without the filter, held-out combinations do occur at about their share (8 of 576 triples).
	n := 0
	for _, e := range Dataset(4000, 1, nil) {
		if IsHeldOut(e.Scene) {
			n++
		}
	}
	assert.Greater(t, n, 20, "held-out triples should occur in unfiltered data")
}

func TestHeldOutPrompts(t *testing.T) {
	ps := HeldOutPrompts()
	require.Len(t, ps, 2*len(HeldOutTriples))
	vocab := Vocabulary()
	for _, p := range ps {
		assert.Equal(t, p.Requested, ParseCaption(p.Text), "prompt %q", p.Text)
		s := Scene{Shape: p.Requested.Shape, Color: p.Requested.Color, Background: p.Requested.Background}
		assert.True(t, IsHeldOut(s), "prompt %q is not a held-out combination", p.Text)
		for _, w := range words(p.Text) {
			assert.True(t, slices.Contains(vocab, w), "prompt %q: word %q not in Vocabulary()", p.Text, w)
		}
	}
	assert.Equal(t, "a purple circle on a yellow background", HeldOutCaptions()[0])
}

func TestSceneForCaption(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	s, err := SceneForCaption("a large red striped star on a blue background, on the left", rng)
	require.NoError(t, err)
	assert.Equal(t, Attributes{Shape: "star", Color: "red", Pattern: "striped", Size: "large", Position: "left", Background: "blue"}, s.Attributes())
	assert.Equal(t, s.Attributes(), Classify(Render(s)), "rendered caption scene must classify back")
	_, err = SceneForCaption("a red thing", rng)
	assert.Error(t, err)
	s, err = SceneForCaption("a star on a red background", rng)
	require.NoError(t, err)
	assert.NotEqual(t, s.Color, s.Background)
}

// TestAgreement: only the requested attributes are scored, coarse and fine, each by equality.
func TestAgreement(t *testing.T) {
	req := Attributes{Shape: "star", Color: "red", Fine: FineWords{Outline: "black", Tilt: "upright"}}
	got := Attributes{Shape: "star", Color: "blue", Size: "large", Fine: FineWords{Outline: "black", Tilt: "clockwise", Hue: "warm"}}
	assert.Equal(t, map[string]bool{"shape": true, "color": false, "outline": true, "tilt": false}, Agreement(req, got))
	assert.Empty(t, Agreement(Attributes{}, got))
}

// TestTally: per attribute, the images showing it as requested out of those asking for it.
func TestTally(t *testing.T) {
	tl := Tally{}
	req := Attributes{Shape: "star", Fine: FineWords{Tilt: "upright"}}
	tl.Add(req, Attributes{Shape: "star", Fine: FineWords{Tilt: "upright"}})
	tl.Add(req, Attributes{Shape: "moon", Fine: FineWords{Tilt: "upright"}})
	tl.Add(Attributes{Color: "red"}, Attributes{Color: "red"})
	assert.Equal(t, Tally{"shape": {1, 2}, "tilt": {2, 2}, "color": {1, 1}}, tl)
	assert.Equal(t, map[string]float64{"shape": 0.5, "tilt": 1, "color": 1}, tl.Rates())
}
