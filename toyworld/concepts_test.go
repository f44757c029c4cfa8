package toyworld

import (
	"encoding/json"
	"flag"
	"image"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// conceptsDir holds the committed example data, written by "neti toyworld concepts --out examples/concepts"
// or by "go test ./toyworld -run TestCommittedConcepts -update".
const conceptsDir = "../examples/concepts"

// heldOutConceptsDir holds HeldOutConcepts' data, written the same way (-update).
const heldOutConceptsDir = "../examples/heldout-concepts"

var update = flag.Bool("update", false, "rewrite examples/concepts from Concepts()")

func TestCommittedConceptsMatchFreshRender(t *testing.T) {
	if *update {
		require.NoError(t, WriteConcepts(conceptsDir))
		require.NoError(t, WriteHeldOutConcepts(heldOutConceptsDir))
	}
	all := map[string][]Concept{conceptsDir: Concepts(), heldOutConceptsDir: HeldOutConcepts()}
	for _, folder := range []string{conceptsDir, heldOutConceptsDir} {
		checkCommittedConcepts(t, folder, all[folder])
	}
}

func checkCommittedConcepts(t *testing.T, folder string, concepts []Concept) {
	for _, c := range concepts {
		dir := filepath.Join(folder, c.Name)
		data, err := os.ReadFile(filepath.Join(dir, "concept.json"))
		require.NoError(t, err, "regenerate with: neti toyworld concepts --out examples/concepts")
		want, err := json.MarshalIndent(c.File(), "", "  ")
		require.NoError(t, err)
		assert.Equal(t, string(want)+"\n", string(data), "%s/concept.json differs from Concepts()", c.Name)
		for i, img := range c.Images() {
			f, err := os.Open(filepath.Join(dir, c.File().Images[i].File))
			require.NoError(t, err)
			got, err := png.Decode(f)
			f.Close()
			require.NoError(t, err)
			require.Equal(t, img.Bounds(), got.Bounds())
			diff := 0
			for y := range ImageSize {
				for x := range ImageSize {
					if img.At(x, y) != got.At(x, y) {
						diff++
					}
				}
			}
			assert.Zero(t, diff, "%s image %d: %d pixels differ from a fresh render", c.Name, i+1, diff)
		}
	}
}

func TestConceptsWellFormed(t *testing.T) {
	cs := Concepts()
	require.GreaterOrEqual(t, len(cs), 6)
	supers := map[string]int{}
	names := map[string]bool{}
	for _, c := range cs {
		supers[c.SuperCategory]++
	}
	require.Len(t, HeldOutConcepts(), 3)
	for _, c := range append(cs, HeldOutConcepts()...) {
		assert.False(t, names[c.Name], "concept name %s repeats", c.Name)
		names[c.Name] = true
		found, ok := ConceptByName(c.Name)
		assert.True(t, ok && found.Name == c.Name, c.Name)
		assert.Contains(t, Vocabulary(), c.SuperCategory)
		assert.Equal(t, c.Scene.Shape, c.SuperCategory)
		require.True(t, len(c.Contexts) >= 4 && len(c.Contexts) <= 6, c.Name)
		ctxs := map[Attributes]bool{}
		for i, s := range c.TrainingScenes() {
			require.True(t, s.Attributes().Valid(), "%s image %d: %+v", c.Name, i, s.Attributes())
			assert.Equal(t, c.Scene.Fine, s.Fine, "fine attributes are fixed")
			assert.False(t, ctxs[c.Contexts[i]], "%s: context %d repeats", c.Name, i)
			ctxs[c.Contexts[i]] = true
			// Ground truth is readable: every training image classifies to its coarse attributes
			// (the pattern of small, busy objects excepted).
			got, want := Classify(Render(s)), s.Attributes()
			got.Pattern, want.Pattern = "", ""
			assert.Equal(t, want, got, "%s image %d", c.Name, i+1)
		}
	}
	assert.GreaterOrEqual(t, supers["star"], 2, "two concepts share the super-category star")
	assert.GreaterOrEqual(t, supers["heart"], 2, "two concepts share the super-category heart")
}

func TestFidelity(t *testing.T) {
	cs := Concepts()
	noise := rand.New(rand.NewPCG(4, 4))
	for _, c := range cs {
		var own, soft, sameSuper, other float64
		var nSame, nOther int
		imgs := c.Images()
		for _, img := range imgs {
			own += Fidelity(img, c)
			soft += Fidelity(AddNoise(BoxBlur(img), noise, 4), c)
			for _, o := range cs {
				if o.Name == c.Name {
					continue
				}
				f := Fidelity(img, o)
				if o.SuperCategory == c.SuperCategory {
					sameSuper += f
					nSame++
				} else {
					other = max(other, f)
				}
				nOther++
			}
		}
		n := float64(len(imgs))
		own, soft = own/n, soft/n
		t.Logf("%-10s own %.3f own(blur+noise) %.3f same-super mean %.3f other max %.3f", c.Name, own, soft, sameSuper/max(1, float64(nSame)), other)
		assert.Greater(t, own, 0.99, "%s: its own training images", c.Name)
		assert.Greater(t, soft, 0.75, "%s: its own images blurred and noisy", c.Name)
		assert.Less(t, other, 0.6, "%s: the best other concept must score clearly lower", c.Name)
		if nSame > 0 {
			assert.Less(t, sameSuper/float64(nSame), 0.5, "%s: a concept of the same super-category", c.Name)
		}
	}
}

// TestFidelitySeesFineChanges: changing one fine attribute of a concept lowers its fidelity.
func TestFidelitySeesFineChanges(t *testing.T) {
	c, ok := ConceptByName("tealstar")
	require.True(t, ok)
	s := c.TrainingScenes()[1]
	changes := map[string]func(f *Fine){
		"hue":      func(f *Fine) { f.ColorJitter.DH = 12 },
		"outline":  func(f *Fine) { f.Outline, f.OutlineWidth = "white", 1 },
		"mark":     func(f *Fine) { f.Mark = "ring" },
		"rotation": func(f *Fine) { f.Rotation = 30 },
		"tone":     func(f *Fine) { f.PatternTone = -0.45 },
	}
	for name, change := range changes {
		s2 := s
		change(&s2.Fine)
		f := Fidelity(Render(s2), c)
		assert.Less(t, f, 0.95, "changing %s must lower the fidelity (got %.3f)", name, f)
		t.Logf("tealstar with another %-8s fidelity %.3f", name, f)
	}
	assert.Zero(t, Fidelity(image.NewRGBA(image.Rect(0, 0, 64, 64)), c), "no object, no fidelity")
}
