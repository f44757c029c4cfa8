package toyworld

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIndividuals(t *testing.T) {
	inds, err := Individuals(300, 1)
	require.NoError(t, err)
	require.Len(t, inds, 300)
	again, err := Individuals(300, 1)
	require.NoError(t, err)
	assert.Equal(t, inds, again, "the seed fixes them")
	other, err := Individuals(300, 2)
	require.NoError(t, err)
	assert.NotEqual(t, inds[0], other[0])

	vocab := Vocabulary()
	names := map[string]bool{}
	concepts := append(Concepts(), HeldOutConcepts()...)
	for _, v := range inds {
		assert.False(t, names[v.Name], "name %q twice", v.Name)
		names[v.Name] = true
		assert.False(t, slices.Contains(vocab, v.Name), "name %q is a caption word", v.Name)
		assert.Regexp(t, `^([bdfgklmnprstvz][aeiou]){2,3}$`, v.Name)
		for _, c := range concepts {
			assert.False(t, c.Scene.Shape == v.Scene.Shape && c.Scene.Color == v.Scene.Color && c.Scene.Pattern == v.Scene.Pattern,
				"%s has %s's shape, colour and pattern", v.Name, c.Name)
		}
	}

	_, err = Individuals(-1, 0)
	assert.Error(t, err)
	_, err = Individuals(10001, 0)
	assert.Error(t, err)
}

// TestIndividualInContext: a context changes only size, position, background and their jitter, never the
// appearance, and keeps RandomScene's rules.
func TestIndividualInContext(t *testing.T) {
	inds, err := Individuals(50, 3)
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(4, 5))
	for _, v := range inds {
		backgrounds := map[string]bool{}
		for range 10 {
			s := v.InContext(rng)
			assert.True(t, fits(s))
			assert.False(t, IsHeldOut(s))
			assert.NotEqual(t, s.Color, s.Background)
			backgrounds[s.Background] = true
			want := v.Scene
			want.Size, want.Position, want.Background = s.Size, s.Position, s.Background
			want.Fine.BackgroundJitter, want.Fine.DX, want.Fine.DY = s.Fine.BackgroundJitter, s.Fine.DX, s.Fine.DY
			assert.Equal(t, want, s, "%s: only the context changes", v.Name)
			assert.NotNil(t, Render(s))
		}
		assert.Greater(t, len(backgrounds), 1, "%s: its contexts vary", v.Name)
	}
}

// TestFitsAgreesWithRandomScene: RandomScene's own scenes obey fits, except where it had no pattern tone
// that shows and fell back to one (a rule fits keeps).
func TestFitsAgreesWithRandomScene(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 7))
	ok, n := 0, 2000
	for range n {
		s := RandomScene(rng)
		for IsHeldOut(s) {
			s = RandomScene(rng)
		}
		if fits(s) {
			ok++
		}
	}
	assert.GreaterOrEqual(t, float64(ok)/float64(n), 0.95)
}

func TestIndividualCaption(t *testing.T) {
	inds, err := Individuals(20, 8)
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(9, 10))
	withWords, n := 0, 400
	for i := range n {
		v := inds[i%len(inds)]
		s := v.InContext(rng)
		c := IndividualCaption(v, s, 0.9, rng)
		words := strings.Fields(strings.ReplaceAll(c, ",", " , "))
		require.Contains(t, words, v.Name, c)
		for _, w := range words {
			if w != v.Name {
				assert.Contains(t, Vocabulary(), w, "%q: every other word is a caption word", c)
			}
		}
		if slices.Contains(words, s.Shape) { // the named part never names the shape
			withWords++
			a := ParseCaption(c)
			assert.Equal(t, s.Shape, a.Shape, c)
			if a.Color != "" {
				assert.Equal(t, s.Color, a.Color, c)
			}
		}
	}
	assert.InDelta(t, 0.5, float64(withWords)/float64(n), 0.1, "half the captions describe the individual in words")
}

func TestIndividualConcept(t *testing.T) {
	inds, err := Individuals(3, 11)
	require.NoError(t, err)
	c := inds[0].Concept(5, rand.New(rand.NewPCG(1, 1)))
	assert.Equal(t, inds[0].Name, c.Name)
	assert.Equal(t, inds[0].Scene.Shape, c.SuperCategory)
	require.Len(t, c.Contexts, 5)
	imgs := c.Images()
	require.Len(t, imgs, 5)
	for i, s := range c.TrainingScenes() {
		assert.True(t, fits(s), "context %d", i)
		assert.Greater(t, Fidelity(imgs[i], c), 0.9, "its own render is the individual")
	}
	other := inds[1].Concept(1, rand.New(rand.NewPCG(1, 1)))
	assert.Less(t, Fidelity(imgs[0], other), Fidelity(imgs[0], c), "another individual's render is not")
}
