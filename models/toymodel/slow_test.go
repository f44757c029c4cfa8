//go:build slow

package toymodel_test

import (
	stdcontext "context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/neti"
	model "github.com/org/neti/models/toymodel"
	"github.com/org/neti/toyworld"
)

// FullBar is the quality bar: shape, colour and background right in at least 90 % of the images
// of held-out prompts (combinations never seen in training).
const FullBar = 0.90

// TestHeldOutPromptFollowing is the model card's measurement: every held-out prompt with seeds 0–3,
// Steps DPM-Solver++(2M) steps, guidance GuidanceScale; shape, colour and background must all be as
// requested (toyworld.Classify) in at least FullBar of the images. Minutes on 2 cores, hence -tags slow.
// The model card states the committed model's rate; this test fails when it is below the bar.
func TestHeldOutPromptFollowing(t *testing.T) {
	rate, misses := followRate(t, []uint64{0, 1, 2, 3}, model.Steps)
	t.Logf("held-out prompt following (%d prompts × 4 seeds): %.3f; misses: %v", len(toyworld.HeldOutPrompts()), rate, misses)
	assert.GreaterOrEqual(t, rate, FullBar, "misses: %v", misses)
}

// followRate generates every held-out prompt with the given seeds and returns the fraction of images
// whose classified shape, colour and background are the requested ones, and the misses.
func followRate(t *testing.T, seeds []uint64, steps int) (float64, []string) {
	p, err := neti.LoadPipeline(model.Dir(), neti.LoadOptions{})
	require.NoError(t, err)
	defer p.Close()
	good, total := 0, 0
	var misses []string
	for _, pr := range toyworld.HeldOutPrompts() {
		for _, seed := range seeds {
			imgs, err := p.Generate(stdcontext.Background(), pr.Text, neti.GenerateOptions{
				Steps: steps, GuidanceScale: model.GuidanceScale, Seed: seed,
			})
			require.NoError(t, err, pr.Text)
			got := toyworld.Classify(imgs[0])
			total++
			if got.Shape == pr.Requested.Shape && got.Color == pr.Requested.Color &&
				got.Background == pr.Requested.Background {
				good++
			} else {
				misses = append(misses, fmt.Sprintf("%q seed %d: got %s %s on %s", pr.Text, seed, got.Color,
					got.Shape, got.Background))
			}
		}
	}
	return float64(good) / float64(total), misses
}

// VAEBar is what the VAE must keep for FullBar to be reachable: of the scenes whose rendered image
// Classify reads right (shape, colour, background), at least this fraction must still be read right after
// the VAE round trip (a generation can only show what the decoder can draw).
const VAEBar = 0.95

// TestVAEKeepsAttributes reconstructs 200 fresh scenes (toyworld.Dataset seed 1; training used seed 0)
// through the model's VAE and asks Classify for shape, colour and background (tools/toyworld/evalgo
// --recon measures the same, by size). The model card states the committed VAE's rate.
func TestVAEKeepsAttributes(t *testing.T) {
	p, err := neti.LoadPipeline(model.Dir(), neti.LoadOptions{})
	require.NoError(t, err)
	defer p.Close()
	examples, rendered, recon := reconstructScenes(t, p, 200, 1)
	right := func(got toyworld.Attributes, want toyworld.Scene) bool {
		return got.Shape == want.Shape && got.Color == want.Color && got.Background == want.Background
	}
	readable, kept := 0, 0
	for i, img := range recon {
		if !right(toyworld.Classify(rendered[i]), examples[i].Scene) {
			continue // the classifier's own miss, not the VAE's
		}
		readable++
		if right(toyworld.Classify(img), examples[i].Scene) {
			kept++
		}
	}
	require.Positive(t, readable)
	rate := float64(kept) / float64(readable)
	t.Logf("of %d scenes read right when rendered, %d (%.3f) are read right after the VAE", readable, kept, rate)
	assert.GreaterOrEqual(t, rate, VAEBar)
}
