package neti

import (
	stdcontext "context"
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTrainTargetNorm: TrainOptions.TargetNorm is the norm of NeTI's word at every (t, ℓ) and is kept in
// the concept; without it the word has the super-category's norm; the baselines refuse it.
func TestTrainTargetNorm(t *testing.T) {
	p := loadTiny(t)
	images := writeTestImages(t, filepath.Join(t.TempDir(), "images"), 2)
	superNorm, err := p.SuperCategoryNorm("good")
	require.NoError(t, err)
	for _, want := range []float64{0, 2.5} {
		opts := tinyTrainOptions("", 1)
		opts.TargetNorm = want
		c, err := TrainConcept(stdcontext.Background(), p, []string{images}, opts)
		require.NoError(t, err)
		if want == 0 {
			want = superNorm
		}
		assert.InDelta(t, want, c.Mapper.TargetNorm, 1e-9)
		for _, l := range []int{0, 7} {
			word, _, err := c.Embed(300, l)
			require.NoError(t, err)
			var ss float64
			for _, v := range word {
				ss += float64(v) * float64(v)
			}
			assert.InDelta(t, want, math.Sqrt(ss), 1e-4, "layer %d", l)
		}
	}
	for _, c := range []struct {
		method Method
		norm   float64
		want   string
	}{
		{MethodTI, 0.8, `TargetNorm is 0.8 with Method "ti": only NeTI's mapper output is normalised`},
		{MethodNeTI, -1, "TargetNorm is -1: expected a norm in (0, 100]"},
		{MethodNeTI, math.NaN(), "TargetNorm is NaN"},
	} {
		o := tinyTrainOptions("", 1)
		o.Method, o.TargetNorm = c.method, c.norm
		err := o.Validate()
		require.Error(t, err)
		assert.Contains(t, err.Error(), c.want)
	}
}
