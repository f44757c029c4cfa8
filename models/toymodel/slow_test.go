//go:build slow

package toymodel_test

import (
	stdcontext "context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
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

// FineBar is the bar for fine attributes: every fine word of a held-out prompt drawn as asked
// (toyworld.ClassifyFine) in at least 80 % of the images. The committed model reaches it for the hue, the
// outline, the tilt and its amount (model card); the test reports which attributes do.
const FineBar = 0.8

// fineSteers are the fine attributes whose words the committed model follows: drawn as asked more often
// with the word than without it, by more than two standard errors of the difference in the model card's
// measurement. The other fine words (shade, mark, pattern tone and scale) do not steer it that clearly yet.
var fineSteers = []string{"hue", "outline", "outline_width", "mark_color", "tilt", "tilt_amount"}

// TestFinePromptFollowing is the model card's fine measurement: every toyworld.HeldOutFinePrompts prompt
// (every fine attribute named) and the same prompt without its fine words, seeds 0–3. It asserts that the
// fineSteers words steer the model by more than two standard errors, and logs every attribute's rates
// and whether it reaches FineBar.
func TestFinePromptFollowing(t *testing.T) {
	asked, unasked := fineFollowing(t, []uint64{0, 1, 2, 3})
	names := make([]string, 0, len(asked))
	for k := range asked {
		names = append(names, k)
	}
	sort.Strings(names)
	ar, ur := asked.Rates(), unasked.Rates()
	for _, k := range names {
		a, u := ar[k], ur[k]
		t.Logf("%-14s asked %.3f  unasked %.3f  (%d images)  at the %.1f bar: %v", k, a, u, asked[k][1], FineBar, a >= FineBar)
	}
	for _, k := range fineSteers {
		require.Contains(t, asked, k)
		a, u := ar[k], ur[k]
		se := math.Sqrt(a*(1-a)/float64(asked[k][1]) + u*(1-u)/float64(unasked[k][1]))
		assert.Greater(t, a-u, 2*se, "%s: the fine word does not steer (asked %.3f, unasked %.3f)", k, a, u)
	}
}

// fineFollowing generates every toyworld.HeldOutFinePrompts prompt, and the same prompt without its fine
// words, with the given seeds, and returns per attribute (coarse and fine) how often ClassifyFine reads
// the requested word: asked (the full prompt) and unasked (the coarse prompt, the rate the words must beat).
func fineFollowing(t *testing.T, seeds []uint64) (asked, unasked toyworld.Tally) {
	p, err := neti.LoadPipeline(model.Dir(), neti.LoadOptions{})
	require.NoError(t, err)
	defer p.Close()
	asked, unasked = toyworld.Tally{}, toyworld.Tally{}
	for i, pr := range toyworld.HeldOutFinePrompts() {
		coarse := pr.Requested
		coarse.Fine = toyworld.FineWords{}
		coarseText := toyworld.Describe(coarse, rand.New(rand.NewPCG(uint64(i), 17)))
		for _, seed := range seeds {
			for _, run := range []struct {
				text   string
				counts toyworld.Tally
			}{{pr.Text, asked}, {coarseText, unasked}} {
				imgs, err := p.Generate(stdcontext.Background(), run.text, neti.GenerateOptions{
					Steps: model.Steps, GuidanceScale: model.GuidanceScale, Seed: seed,
				})
				require.NoError(t, err, run.text)
				run.counts.Add(pr.Requested, toyworld.ClassifyFine(imgs[0]))
			}
		}
	}
	return asked, unasked
}
