package toymodel_test

import (
	"image"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/neti"
	model "github.com/org/neti/models/toymodel"
	"github.com/org/neti/toyworld"
)

// TestReconstructKeepsTheScene: Pipeline.Reconstruct through the built-in model's VAE returns 64×64
// images close to rendered scenes (mean absolute error in 8-bit units; the model card's L1 0.066 in [−1, 1]
// is 8.4) with the background read right, and rejects a resolution the VAE cannot take.
func TestReconstructKeepsTheScene(t *testing.T) {
	p, err := neti.LoadPipeline(model.Dir(), neti.LoadOptions{})
	require.NoError(t, err)
	defer p.Close()
	examples, rendered, recon := reconstructScenes(t, p, 4, 5)
	for i, img := range recon {
		require.Equal(t, image.Rect(0, 0, 64, 64), img.Bounds())
		src := rendered[i].(*image.RGBA)
		var sum float64
		for j := range src.Pix {
			if j%4 == 3 {
				continue // alpha
			}
			d := float64(src.Pix[j]) - float64(img.Pix[j])
			sum += max(d, -d)
		}
		mae := sum / float64(64*64*3)
		t.Logf("scene %d (%s %s %s on %s): mean |Δ| %.2f / 255", i, examples[i].Scene.Size, examples[i].Scene.Color,
			examples[i].Scene.Shape, examples[i].Scene.Background, mae)
		assert.Less(t, mae, 16.0, "scene %d", i)
		assert.Equal(t, examples[i].Scene.Background, toyworld.Classify(img).Background, "scene %d", i)
	}
	_, err = p.Reconstruct(rendered[:1], 62)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "multiple of the VAE's scale factor 4")
}

// reconstructScenes renders the n scenes of toyworld.Dataset(n, seed, nil) and passes them through p's VAE
// at 64 px.
func reconstructScenes(t *testing.T, p *neti.Pipeline, n int, seed uint64) ([]toyworld.Example, []image.Image, []*image.RGBA) {
	examples := toyworld.Dataset(n, seed, nil)
	rendered := make([]image.Image, n)
	for i, ex := range examples {
		rendered[i] = toyworld.Render(ex.Scene)
	}
	recon, err := p.Reconstruct(rendered, 64)
	require.NoError(t, err)
	require.Len(t, recon, n)
	return examples, rendered, recon
}
