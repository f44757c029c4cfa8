package toyworld

import (
	"image"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestEditability(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 12))
	for i := range 30 {
		s := RandomScene(rng)
		img := Render(s)
		full := s.Attributes()
		ctx := Attributes{Size: s.Size, Position: s.Position, Background: s.Background}
		assert.Equal(t, 1.0, Editability(img, ctx), "scene %d: its own context", i)
		// Another background and position requested: only the size is there.
		other := ctx
		other.Background = Colors[(indexOf(Colors, s.Background)+1)%len(Colors)]
		other.Position = Positions[(indexOf(Positions, s.Position)+1)%len(Positions)]
		assert.InDelta(t, 1.0/3, Editability(img, other), 1e-9, "scene %d: %+v requested, %+v shown", i, other, full)
	}
	assert.Equal(t, 0.5, EditabilityOf(Attributes{Shape: "star", Color: "red"}, Attributes{Shape: "star", Color: "blue"}))
	assert.Equal(t, 1.0, EditabilityOf(Attributes{Shape: "star"}, Attributes{}))
	imgs := []image.Image{Render(RandomScene(rng))}
	assert.Equal(t, 0.0, MeanEditability(imgs, nil), "lengths differ")
}

func indexOf(set []string, v string) int {
	for i, s := range set {
		if s == v {
			return i
		}
	}
	return -1
}
