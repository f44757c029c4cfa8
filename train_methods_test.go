package neti

import (
	stdcontext "context"
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// distinctEmbeds evaluates the concept's word vector at several timesteps for every layer and counts the
// distinct vectors, overall and per layer.
func distinctEmbeds(t *testing.T, c *Concept) (overall int, perLayer []int) {
	t.Helper()
	all := map[string]bool{}
	for l := range c.Mapper.NumLayers {
		layer := map[string]bool{}
		for _, ts := range []int{0, 1, 333, 500, 999} {
			word, bypass, err := c.Embed(ts, l)
			require.NoError(t, err)
			assert.Nil(t, bypass, "baselines have no bypass")
			key := fmt.Sprint(word)
			all[key], layer[key] = true, true
		}
		perLayer = append(perLayer, len(layer))
	}
	return len(all), perLayer
}

// TestTrainBaselines trains TI, P+ and NeTI without bypass for one step in the same trainer and checks their representation:
// TI gives one vector for every (t, ℓ), P+ one per layer (constant over t, different across layers), and
// NeTI one per (t, ℓ); all moved away from the super-category's embedding (the baselines' initialisation).
func TestTrainBaselines(t *testing.T) {
	p := loadTiny(t)
	images := writeTestImages(t, filepath.Join(t.TempDir(), "images"), 2)
	init, err := p.tokenEmbedding("good")
	require.NoError(t, err)
	for _, method := range []Method{MethodTI, MethodPPlus, "neti-no-bypass"} {
		t.Run(string(method), func(t *testing.T) {
			opts := tinyTrainOptions("", 1)
			opts.Method, opts.GradientAccumulation = method, 1
			if method == "neti-no-bypass" {
				opts.Method, opts.NoBypass = MethodNeTI, true
			}
			c, err := TrainConcept(stdcontext.Background(), p, []string{images}, opts)
			require.NoError(t, err)
			assert.False(t, c.Mapper.Bypass)
			overall, perLayer := distinctEmbeds(t, c)
			word, _, err := c.Embed(500, 3)
			require.NoError(t, err)
			assert.NotEqual(t, init, word, "the vector was trained")
			switch method {
			case MethodTI:
				assert.Equal(t, 1, overall, "TI: one vector for all timesteps and layers")
			case "neti-no-bypass":
				assert.Equal(t, 5*c.Mapper.NumLayers, overall, "NeTI: a vector per (t, ℓ)")
			case MethodPPlus:
				assert.Equal(t, c.Mapper.NumLayers, overall, "P+: one vector per layer")
				for l, n := range perLayer {
					assert.Equal(t, 1, n, "P+: layer %d constant over t", l)
				}
			}
		})
	}
	// Before training, both start at the super-category's embedding everywhere.
	tr := &trainer{p: p, opts: tinyTrainOptions("", 1).withDefaults(64), data: &TrainImages{}}
	tr.opts.Method = MethodPPlus
	c, err := tr.initConcept()
	require.NoError(t, err)
	for _, l := range []int{0, 15} {
		word, _, err := c.Embed(700, l)
		require.NoError(t, err)
		assert.InDeltaSlice(t, init, word, 1e-6, "P+ initial vector at layer %d", l)
	}
}

// TestTrainNormalizeConcat: TrainOptions.Normalize reaches the concept's mapper, and with "concat" the word
// half comes out shorter than the super-category's norm (word ‖ bypass share it), with "word" at it.
func TestTrainNormalizeConcat(t *testing.T) {
	p := loadTiny(t)
	tr := &trainer{p: p, opts: tinyTrainOptions("", 1).withDefaults(64), data: &TrainImages{}}
	norms := map[NormalizeMode]float64{}
	target := 0.0
	for _, mode := range []NormalizeMode{NormalizeWord, NormalizeConcat} {
		tr.opts.Normalize = mode
		c, err := tr.initConcept()
		require.NoError(t, err)
		assert.Equal(t, mode, c.Mapper.Normalize)
		target = c.Mapper.TargetNorm
		word, _, err := c.Embed(500, 3)
		require.NoError(t, err)
		var ss float64
		for _, v := range word {
			ss += float64(v) * float64(v)
		}
		norms[mode] = math.Sqrt(ss)
	}
	assert.InDelta(t, target, norms[NormalizeWord], 1e-3*target, "word mode: the target norm")
	assert.Less(t, norms[NormalizeConcat], norms[NormalizeWord], "concat mode: the word shares the norm with the bypass")
}
