package bench

import (
	"fmt"
	"image"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/neti/toyworld"
)

// TestWriteCutouts: each training image comes back with its colours and its object's coverage as alpha;
// an image that is not its scene's render is refused.
func TestWriteCutouts(t *testing.T) {
	dir, out := t.TempDir(), t.TempDir()
	require.NoError(t, toyworld.WriteConcepts(dir))
	c := toyworld.Concepts()[0]
	require.NoError(t, writeCutouts(c, filepath.Join(dir, c.Name), out))
	for i, s := range c.TrainingScenes() {
		img, err := toyworld.ReadPNG(filepath.Join(out, fmt.Sprintf("%02d.png", i+1)))
		require.NoError(t, err)
		cut, ok := img.(*image.NRGBA)
		require.True(t, ok, "a cut-out keeps straight colours: NRGBA")
		want, alpha := toyworld.Render(s), toyworld.Coverage(s)
		for p := range alpha.Pix {
			require.Equal(t, want.Pix[4*p:4*p+3], cut.Pix[4*p:4*p+3], "image %d pixel %d colour", i, p)
			require.Equal(t, alpha.Pix[p], cut.Pix[4*p+3], "image %d pixel %d alpha", i, p)
		}
	}
	// Another concept's image in its place: the mask would not fit it.
	other := toyworld.Concepts()[1]
	bad := filepath.Join(t.TempDir(), c.Name)
	require.NoError(t, os.MkdirAll(bad, 0o755))
	for i := range c.TrainingScenes() {
		name := fmt.Sprintf("%02d.png", i+1)
		data, err := os.ReadFile(filepath.Join(dir, other.Name, name))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(bad, name), data, 0o644))
	}
	err := writeCutouts(c, bad, t.TempDir())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "differs from the render of its scene")
}
