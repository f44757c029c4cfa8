package toyworld

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFineLevelsRangeAndOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	seen := map[int]bool{}
	for range 3000 {
		s := RandomScene(rng)
		for _, k := range []int{1, 4, 8} {
			l := s.FineLevels(k)
			for name, v := range map[string]int{"hue": l.Hue, "saturation": l.Saturation, "lightness": l.Lightness,
				"rotation": l.Rotation, "outline_width": l.OutlineWidth, "pattern_period": l.PatternPeriod} {
				require.True(t, v >= -1 && v < k, "%s level %d with k=%d (scene %+v)", name, v, k, s)
			}
			require.True(t, l.PatternTone >= -1 && l.PatternTone < 2*k, "pattern tone level %d with k=%d", l.PatternTone, k)
			assert.Equal(t, s.Shape == "circle", l.Rotation == -1)
			assert.Equal(t, s.Pattern == "plain", l.PatternPeriod == -1)
			assert.Equal(t, s.Fine.Outline == "none", l.OutlineWidth == -1)
			if k == 8 && l.Rotation >= 0 {
				seen[l.Rotation] = true
			}
		}
		// Levels follow the value: more rotation, no lower level.
		up := s
		up.Fine.Rotation = min(20, s.Fine.Rotation+5)
		if s.Shape != "circle" {
			assert.GreaterOrEqual(t, up.FineLevels(8).Rotation, s.FineLevels(8).Rotation)
		}
	}
	assert.Len(t, seen, 8, "every rotation level occurs in random scenes")
}

func TestInRandomContextsKeepsTheConcept(t *testing.T) {
	c := Concepts()[0]
	scenes := InRandomContexts(c, 200, rand.New(rand.NewPCG(1, 2)))
	require.Len(t, scenes, 200)
	sizes := map[string]bool{}
	for _, s := range scenes {
		assert.Equal(t, c.Scene.Shape, s.Shape)
		assert.Equal(t, c.Scene.Color, s.Color)
		assert.Equal(t, c.Scene.Pattern, s.Pattern)
		assert.NotEqual(t, s.Color, s.Background, "the background is never the object's colour")
		f, want := s.Fine, c.Scene.Fine
		assert.Equal(t, want.ColorJitter, f.ColorJitter)
		assert.Equal(t, []any{want.Rotation, want.Outline, want.OutlineWidth, want.Mark, want.MarkColor, want.PatternTone, want.PatternPeriod, want.PatternAngle},
			[]any{f.Rotation, f.Outline, f.OutlineWidth, f.Mark, f.MarkColor, f.PatternTone, f.PatternPeriod, f.PatternAngle})
		sizes[s.Size] = true
	}
	assert.Len(t, sizes, len(Sizes), "the contexts vary")
}
