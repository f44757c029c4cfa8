package neti

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDrawMicroBatch checks the values of a micro-batch against their definitions for an ε model (tiny
// SD1) and a v model (tiny SD2): x_t = AddNoise(x0, ε, t), the target ε or v, latents scaled by the VAE's
// scaling factor around the posterior mean, each sample's t shared by its 16 layer rows, keep in 0..Hidden
// and the placeholder at its position in each caption.
func TestDrawMicroBatch(t *testing.T) {
	for _, model := range []string{"tiny-sd1", "tiny-sd2"} {
		t.Run(model, func(t *testing.T) {
			p, err := LoadPipeline(filepath.Join("testdata", model), LoadOptions{})
			require.NoError(t, err)
			defer p.Close()
			images := writeTestImages(t, filepath.Join(t.TempDir(), "images"), 2)
			opts := tinyTrainOptions("", 1)
			opts.BatchSize, opts.NoFlip = 3, true
			tr, err := newTrainer(p, []string{images}, opts)
			require.NoError(t, err)
			defer tr.close()
			in, err := tr.drawMicroBatch()
			require.NoError(t, err)

			noisy, err := tr.schedule.AddNoise(in.x0, in.noise, in.timesteps...)
			require.NoError(t, err)
			assert.Equal(t, noisy, in.noisy, "x_t")
			want := in.noise
			if p.schedule.PredictionType == "v_prediction" {
				want, err = tr.schedule.Velocity(in.x0, in.noise, in.timesteps...)
				require.NoError(t, err)
			}
			assert.Equal(t, want, in.target, "target for %s", p.schedule.PredictionType)

			size := len(in.x0) / 3
			for i, ts := range in.timesteps {
				require.True(t, ts >= 0 && ts < 1000, "t = %d", ts)
				for l := range tr.numLayers { // conditioningRows' order: row i·layers + ℓ
					assert.Equal(t, float32(ts), in.rowT[i*tr.numLayers+l], "row of sample %d at layer %d", i, l)
					assert.Equal(t, float32(l), in.rowL[i*tr.numLayers+l])
				}
				assert.Equal(t, tr.placeholder, in.ids[i*77+int(in.positions[i])], "placeholder in caption %d", i)
				// Without flips the posterior of sample i is one of the two images'; its scaled sample lies
				// within 6σ of the scaled mean.
				near := 0
				for img := range 2 {
					post, ok := tr.posteriors[2*img], true
					for j := range size {
						z := float64(in.x0[i*size+j]) / p.vae.ScalingFactor
						ok = ok && math.Abs(z-float64(post.mean[j])) <= 6*float64(post.std[j])+1e-6
					}
					if ok {
						near++
					}
				}
				assert.Positive(t, near, "sample %d is a scaled posterior sample of an image", i)
			}
			require.Len(t, in.keep, 3*tr.numLayers)
			for _, k := range in.keep {
				assert.True(t, k >= 0 && int(k) <= tr.concept.Mapper.Hidden, "keep %d", k)
			}
		})
	}
}

// TestNestedDropoutSampler checks the original's sampling (one coin per mapper call, i.e. per layer, and
// k ~ U{0..H-1} per sample), the row order of the draws (sample n at layer ℓ at n·layers + ℓ) and that a
// saved state resumes the same draws.
func TestNestedDropoutSampler(t *testing.T) {
	const layers, samples, hidden = 4000, 2, 128
	s := newNestedDropoutSampler(9, DefaultNestedDropoutProb, hidden)
	keep := s.draw(samples, layers)
	require.Len(t, keep, layers*samples)
	dropped, full, zero := 0, 0, 0
	seen := make(map[int32]bool)
	for l := range layers {
		k := []int32{keep[0*layers+l], keep[1*layers+l]} // the call of layer l: samples 0 and 1
		if k[0] == hidden {
			require.Equal(t, int32(hidden), k[1], "layer %d: the coin is shared by the call's samples", l)
			full++
			continue
		}
		dropped++
		for _, v := range k {
			require.True(t, v >= 0 && v < hidden, "layer %d: k = %d outside 0..%d", l, v, hidden-1)
			seen[v] = true
			if v == 0 {
				zero++
			}
		}
	}
	assert.InDelta(t, 0.5, float64(dropped)/layers, 0.04, "fraction of calls with nested dropout")
	assert.Len(t, seen, hidden, "every k in 0..127 occurs")
	assert.Positive(t, zero, "k = 0 (drop all) occurs")

	state, err := s.MarshalBinary()
	require.NoError(t, err)
	next := s.draw(2, 16)
	require.NoError(t, s.UnmarshalBinary(state))
	assert.Equal(t, next, s.draw(2, 16), "draws after restoring the state")
	other := newNestedDropoutSampler(9, DefaultNestedDropoutProb, hidden)
	assert.Equal(t, keep, other.draw(samples, layers), "same seed, same draws")
	assert.Error(t, s.UnmarshalBinary([]byte("junk")))
}

// TestAdamWMatchesTorch runs three AdamW steps and compares parameters and moments with
// torch.optim.AdamW 2.15 (lr 8e-3, betas (0.9, 0.999), eps 1e-8, weight decay 1e-2), whose values were
// printed by:
//
//	p = torch.nn.Parameter(torch.tensor([0.5, -1.0, 2.0, 0.0]))
//	opt = torch.optim.AdamW([p], lr=8e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2)
//	for g in grads: p.grad = torch.tensor(g); opt.step()
//
// Tolerance 1e-6: float32 arithmetic in a different operation order.
func TestAdamWMatchesTorch(t *testing.T) {
	params := [][]float32{{0.5, -1.0, 2.0, 0.0}}
	a := newAdamW(params)
	a.lr, a.beta1, a.beta2, a.eps, a.decay = 8e-3, 0.9, 0.999, 1e-8, 1e-2
	for _, g := range [][]float32{{0.1, -0.2, 0.3, 0.0}, {-0.05, 0.4, 0.0, 1e-3}, {0.2, 0.2, -0.1, -2.0}} {
		a.update(params, [][]float32{g})
	}
	assert.InDeltaSlice(t, []float32{0.484485924243927, -0.9988438487052917, 1.9838480949401855, -0.0008443254046142101},
		params[0], 1e-6, "parameters")
	assert.InDeltaSlice(t, []float32{0.023600000888109207, 0.0398000031709671, 0.014299999922513962, -0.1999099999666214},
		a.m[0], 1e-6, "first moments")
	assert.InDeltaSlice(t, []float32{5.2477513236226514e-05, 0.0002397600474068895, 9.982010669773445e-05, 0.00400000112131238},
		a.v[0], 1e-9, "second moments")
	assert.Equal(t, 3, a.step)
}
