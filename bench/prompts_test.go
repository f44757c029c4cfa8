package bench

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/neti/toyworld"
)

func TestPrompts(t *testing.T) {
	for _, c := range toyworld.Concepts() {
		ph := "<" + c.Name + ">"
		prompts := Prompts(c, ph, 6)
		require.Len(t, prompts, 7, c.Name)
		assert.Equal(t, Prompt{Text: "a " + ph, Reconstruction: true}, prompts[0])
		for _, p := range prompts[1:] {
			assert.Equal(t, 1, strings.Count(p.Text, ph), "%s: %q names the placeholder once", c.Name, p.Text)
			assert.True(t, p.Requested.Valid(), "%s: %+v", c.Name, p.Requested)
			assert.NotEqual(t, c.Scene.Color, p.Requested.Background, "%s: the background differs from the object", c.Name)
			for _, a := range c.Contexts {
				assert.NotEqual(t, a.Background, p.Requested.Background, "%s: %q: a background absent from training", c.Name, p.Text)
			}
			assert.Contains(t, p.Text, p.Requested.Background+" background", "%s", c.Name)
		}
		assert.NotEmpty(t, prompts[2].Requested.Size, "%s: the second context prompt asks for a size", c.Name)
		assert.NotEmpty(t, prompts[3].Requested.Position, "%s: the third asks for a position", c.Name)
	}
	c, _ := toyworld.ConceptByName("tealstar")
	assert.Equal(t, "small", Prompts(c, "<t>", 2)[2].Requested.Size, "tealstar never trained small: asked first")
}
