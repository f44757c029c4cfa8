package neti

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/org/neti/diffusion/vae"
	"github.com/org/neti/internal/malloc"
)

// posterior is the VAE's latent distribution of one (image, flip): mean and standard deviation, and with
// TrainOptions.MaskedLoss the loss weight of each latent pixel ([h·w]).
type posterior struct{ mean, std, weight []float32 }

// encodeImages runs the VAE encoder once per image and flip and keeps the posteriors (with their loss
// weights under MaskedLoss).
func (t *trainer) encodeImages() error {
	size := t.opts.Resolution
	exec, err := context.NewExec(t.p.backend, t.p.ctx.Reuse(), func(ctx *context.Context, images *graph.Node) []*graph.Node {
		mean, logvar := vae.Encode(ctx.In("vae"), t.p.vae, graph.ConvertDType(images, t.p.dtype)) // [1, C, h, w] each
		std := graph.Exp(graph.MulScalar(graph.ConvertDType(logvar, dtypes.Float32), 0.5))
		return []*graph.Node{graph.ConvertDType(mean, dtypes.Float32), std}
	})
	if err != nil {
		return err
	}
	defer exec.Finalize()
	for i, img := range t.data.images {
		for _, flip := range []bool{false, true} {
			if flip && t.opts.FlipProb == 0 {
				t.posteriors = append(t.posteriors, posterior{})
				continue
			}
			var pixels, alpha []float32
			if t.opts.MaskedLoss {
				pixels, alpha = maskedPixels(img, size, t.opts.Squash, flip)
			} else {
				pixels = vaePixels(img, size, t.opts.Squash, flip)
			}
			out, err := exec.Exec(tensors.FromFlatDataAndDimensions(pixels, 1, 3, size, size))
			if err != nil {
				return err
			}
			t.latentShape = out[0].Shape().Dimensions[1:]
			post := posterior{mean: tensors.MustCopyFlatData[float32](out[0]), std: tensors.MustCopyFlatData[float32](out[1])}
			if alpha != nil {
				post.weight = latentWeights(alpha, size, t.latentShape[1], t.latentShape[2], t.opts.MaskedLossBackground)
				if !slices.ContainsFunc(post.weight, func(w float32) bool { return w > 0 }) {
					return fmt.Errorf("neti: train: TrainOptions.MaskedLoss: %s is fully transparent at %dx%d pixels, so "+
						"its loss weight is 0: expected an alpha channel that is opaque where the concept is; fix its "+
						"alpha, remove the image, or set MaskedLossBackground above 0", t.data.Files[i], size, size)
				}
			}
			t.posteriors = append(t.posteriors, post)
		}
	}
	return nil
}

// latentWeights are the masked loss's weights of an h × w latent: each pixel's is background + (1 −
// background) × the mean alpha ([size·size], in [0, 1]) over its patch of the image.
func latentWeights(alpha []float32, size, h, w int, background float64) []float32 {
	ph, pw := size/h, size/w
	out := make([]float32, h*w)
	for y := range h {
		for x := range w {
			var sum float64
			for dy := range ph {
				for dx := range pw {
					sum += float64(alpha[(y*ph+dy)*size+x*pw+dx])
				}
			}
			out[y*w+x] = float32(background + (1-background)*sum/float64(ph*pw))
		}
	}
	return out
}

// nextImage returns the next image of the shuffled order, reshuffling at each epoch.
func (t *trainer) nextImage() int {
	if t.cursor >= len(t.order) {
		t.order = t.rng.Perm(len(t.data.images))
		t.cursor = 0
	}
	i := t.order[t.cursor]
	t.cursor++
	return i
}

// microInputs are the values of one micro-batch of B samples, drawn in Go from the recorded streams.
type microInputs struct {
	x0, noise, noisy, target []float32 // [B, C, h, w] each: scaled latents, ε, x_t, the loss target
	weight                   []float32 // [B, 1, h, w]: the masked loss's weights (nil without MaskedLoss)
	timesteps                []int     // [B], t ~ U{0..999}
	ids                      []int32   // [B, 77] caption ids
	positions                []int32   // [B] placeholder positions
	rowT, rowL               []float32 // [B·layers] mapper inputs, in conditioningRows' order (row i·layers + ℓ)
	keep                     []int32   // [B·layers] nested-dropout truncations, same rows
}

// drawMicroBatch draws BatchSize samples: per sample, in this order, the image (shuffled epochs), the
// flip, the caption template, t, the posterior sample and the noise; then the nested-dropout truncations
// of the 16 mapper calls (one per layer, as the original). The target is ε, v (v_prediction) or x0
// (sample) by the model's prediction type.
func (t *trainer) drawMicroBatch() (microInputs, error) {
	b := t.opts.BatchSize
	size := 1
	for _, d := range t.latentShape {
		size *= d
	}
	in := microInputs{x0: make([]float32, b*size), noise: make([]float32, b*size), timesteps: make([]int, b),
		ids: make([]int32, 0, b*len(t.prompts[0])), positions: make([]int32, b)}
	ts := make([]float32, b)
	for i := range b {
		img := t.nextImage()
		flip := 0
		if t.opts.FlipProb > 0 && t.rng.Float64() < t.opts.FlipProb {
			flip = 1
		}
		k := t.rng.IntN(len(t.prompts))
		in.ids, in.positions[i] = append(in.ids, t.prompts[k]...), t.positions[k]
		in.timesteps[i] = t.rng.IntN(t.schedule.NumTrainTimesteps())
		ts[i] = float32(in.timesteps[i])
		post := t.posteriors[2*img+flip]
		if post.weight != nil {
			in.weight = append(in.weight, post.weight...)
		}
		for j := range size { // a posterior sample, scaled as the UNet expects
			z := post.mean[j] + post.std[j]*float32(t.rng.NormFloat64())
			in.x0[i*size+j] = float32((float64(z) - t.p.vae.Shift()) * t.p.vae.ScalingFactor)
		}
		for j := range size {
			in.noise[i*size+j] = float32(t.rng.NormFloat64())
		}
	}
	var err error
	if in.noisy, err = t.schedule.AddNoise(in.x0, in.noise, in.timesteps...); err != nil {
		return in, err
	}
	in.target = in.noise
	switch t.p.schedule.PredictionType {
	case "v_prediction":
		if in.target, err = t.schedule.Velocity(in.x0, in.noise, in.timesteps...); err != nil {
			return in, err
		}
	case "sample":
		in.target = in.x0
	}
	in.rowT, in.rowL = conditioningRows(ts, t.numLayers) // [B·layers] each
	in.keep = t.dropout.draw(b, t.numLayers)             // [B·layers]
	return in, nil
}

// microBatch draws a micro-batch and runs the step graph: the mean loss and the gradient of every trained
// tensor.
func (t *trainer) microBatch() (float64, [][]float32, error) {
	in, err := t.drawMicroBatch()
	if err != nil {
		return 0, nil, err
	}
	if err := t.buildExec(); err != nil {
		return 0, nil, err
	}
	b, r := len(in.timesteps), len(in.rowT)
	dims := append([]int{b}, t.latentShape...)
	ts := make([]float32, b) // [B]: the samples' timesteps, for the UNet
	for i, step := range in.timesteps {
		ts[i] = float32(step)
	}
	args := []any{tensors.FromFlatDataAndDimensions(in.noisy, dims...),
		tensors.FromFlatDataAndDimensions(in.target, dims...), tensors.FromFlatDataAndDimensions(ts, b),
		tensors.FromFlatDataAndDimensions(in.ids, b, len(t.prompts[0])),
		tensors.FromFlatDataAndDimensions(in.positions, b, 1), tensors.FromFlatDataAndDimensions(in.rowT, r),
		tensors.FromFlatDataAndDimensions(in.rowL, r), tensors.FromFlatDataAndDimensions(in.keep, r, 1)}
	if t.opts.MaskedLoss {
		args = append(args, tensors.FromFlatDataAndDimensions(in.weight, b, 1, t.latentShape[1], t.latentShape[2]))
	}
	if !t.compiled {
		// Compile first and give the compiler's freed heap back before the step's buffers are allocated:
		// at SD size that is gigabytes of peak resident memory (internal/malloc).
		if err := t.exec.PreCompile(args...); err != nil {
			return 0, nil, err
		}
		malloc.Trim()
		t.compiled = true
	}
	out, err := t.exec.Exec(args...)
	if err != nil {
		return 0, nil, err
	}
	loss := float64(tensors.MustCopyFlatData[float32](out[0])[0])
	grads := make([][]float32, len(t.names))
	for i := range grads {
		grads[i] = tensors.MustCopyFlatData[float32](out[1+i])
	}
	return loss, grads, nil
}

// DefaultNestedDropoutProb is the probability that one mapper call applies nested dropout (the original's
// nested_dropout_prob; TrainOptions.NestedDropoutProb).
const DefaultNestedDropoutProb = 0.5

// nestedDropoutSampler draws the training truncations of nested dropout (ordering.go) in Go, from a PCG
// stream whose state is saved with MarshalBinary and restored with UnmarshalBinary (exact resume).
//
// As the original (spec §4): per mapper call, one coin with probability prob; if it falls, each sample of
// the call draws k ~ U{0..hidden-1} and keeps units 0..k-1 (k = 0 drops all); otherwise every sample keeps
// all hidden units. The original calls the mapper once per cross-attention layer, so one micro-batch has
// one call per layer, of batch-size samples each.
type nestedDropoutSampler struct {
	prob   float64 // probability of applying nested dropout to a call
	hidden int     // number of ordered units
	pcg    *rand.PCG
	rng    *rand.Rand
}

// newNestedDropoutSampler returns a sampler seeded with seed.
func newNestedDropoutSampler(seed uint64, prob float64, hidden int) *nestedDropoutSampler {
	pcg := rand.NewPCG(seed, 0x6e657374) // "nest"
	return &nestedDropoutSampler{prob: prob, hidden: hidden, pcg: pcg, rng: rand.New(pcg)}
}

// draw returns the keep values of one micro-batch, [samples·layers] in the conditioning's row order
// (conditioning.go: element n·layers + ℓ is sample n at layer ℓ). The draws are made in the original's
// order: layer by layer (one mapper call each), its coin, then one k per sample.
func (s *nestedDropoutSampler) draw(samples, layers int) []int32 {
	out := make([]int32, samples*layers)
	for l := range layers {
		drop := s.rng.Float64() < s.prob
		for n := range samples {
			k := s.hidden
			if drop {
				k = s.rng.IntN(s.hidden)
			}
			out[n*layers+l] = int32(k)
		}
	}
	return out
}

// MarshalBinary returns the sampler's random state (not prob or hidden).
func (s *nestedDropoutSampler) MarshalBinary() ([]byte, error) { return s.pcg.MarshalBinary() }

// UnmarshalBinary restores a random state saved by MarshalBinary.
func (s *nestedDropoutSampler) UnmarshalBinary(state []byte) error {
	if err := s.pcg.UnmarshalBinary(state); err != nil {
		return fmt.Errorf("neti: restoring the nested-dropout sampler: %w", err)
	}
	return nil
}
