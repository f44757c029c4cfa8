package neti

import (
	stdcontext "context"
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/org/neti/clip"
	"github.com/org/neti/diffusion"
	"github.com/org/neti/diffusion/vae"
	"github.com/org/neti/unet"
)

// Generate draws opts.NumImages images for prompt with classifier-free guidance, as diffusers'
// StableDiffusionPipeline does: the unconditional (negative) and conditional halves go through the UNet in
// one batched call per step. Cancelling ctx stops between steps and returns ctx's error.
//
// With opts.Concepts the prompt is personalised with NeTI (spec §5, §7): each concept's placeholder is
// replaced, per timestep and cross-attention layer, by its mapper's word embedding and textual bypass, the
// conditioning of all steps × layers being computed up front in one batched text-encoder pass; the
// unconditional half stays plain CLIP. Several concepts may share a prompt. Concepts are checked against
// the model and the prompt before any work (see GenerateOptions.Concepts).
//
// A prompt (or negative prompt) longer than the text encoder reads (75 tokens for Stable Diffusion, see
// PromptTokens) is cut to its first tokens, as diffusers does, and a note through opts.OnNote says how
// many tokens were dropped.
func (p *Pipeline) Generate(ctx stdcontext.Context, prompt string, opts GenerateOptions) (images []*image.RGBA, err error) {
	defer recoverError("generate", &err)
	if err := p.usable("generate"); err != nil {
		return nil, err
	}
	latents, shape, err := p.sample(ctx, prompt, opts)
	if err != nil {
		return nil, err
	}
	pixels, dims, err := p.decode(latents, shape)
	if err != nil {
		return nil, err
	}
	return toImages(pixels, dims[0], dims[2], dims[3]), nil
}

// sample runs the denoising loop and returns the final latents, [n, channels, h, w] in row-major order.
func (p *Pipeline) sample(ctx stdcontext.Context, prompt string, opts GenerateOptions) ([]float32, [4]int, error) {
	opts = opts.withDefaults()
	scale := p.vae.ScaleFactor()
	if opts.Width == 0 {
		opts.Width = p.unet.SampleSize * scale
	}
	if opts.Height == 0 {
		opts.Height = p.unet.SampleSize * scale
	}
	if err := opts.validate(scale << p.unet.NumUpsamplers()); err != nil {
		return nil, [4]int{}, err
	}
	n := opts.NumImages
	shape := [4]int{n, p.unet.InChannels, opts.Height / scale, opts.Width / scale}
	size := shape[1] * shape[2] * shape[3]
	if opts.InitialLatents != nil && len(opts.InitialLatents) != n*size {
		return nil, shape, fmt.Errorf("neti: GenerateOptions.InitialLatents has %d values; expected %v = %d",
			len(opts.InitialLatents), shape, n*size)
	}
	plan, err := p.planConcepts(prompt, opts) // nil for a plain prompt
	if err != nil {
		return nil, shape, err
	}
	var placeholders []string
	for _, c := range opts.Concepts {
		placeholders = append(placeholders, strings.ToLower(c.Placeholder))
	}
	for _, text := range []string{prompt, opts.NegativePrompt} {
		if err := p.checkVocabulary(text, placeholders); err != nil {
			return nil, shape, err
		}
	}
	if opts.OnNote != nil {
		for _, text := range []struct{ what, text string }{{"prompt", prompt}, {"negative prompt", opts.NegativePrompt}} {
			if note := p.truncationNote(text.what, text.text); note != "" {
				opts.OnNote(note)
			}
		}
	}
	sampler, err := diffusion.NewSampler(string(opts.Sampler), p.schedule, opts.Steps)
	if err != nil {
		return nil, shape, err
	}
	timesteps := sampler.Timesteps()

	guided := opts.GuidanceScale > 1
	var denoise stepDenoiser
	if plan != nil {
		if denoise, err = p.conceptDenoiser(prompt, opts.NegativePrompt, plan, timesteps, n, guided); err != nil {
			return nil, shape, err
		}
	} else {
		prompts := []string{prompt}
		if guided {
			prompts = []string{opts.NegativePrompt, prompt} // diffusers' order: uncond first
		}
		states, err := p.encodePrompts(prompts)
		if err != nil {
			return nil, shape, err
		}
		defer states.FinalizeAll()
		denoise = func(input []float32, k int, batch [4]int) ([]float32, error) {
			return p.denoise(input, float32(timesteps[k]), batch, states)
		}
	}

	latents := opts.InitialLatents
	if latents == nil {
		latents = seededNoise(opts.Seed, n, size)
	}
	latents = scaled(latents, sampler.InitNoiseSigma())
	for k := range timesteps {
		if err := ctx.Err(); err != nil {
			return nil, shape, err
		}
		input, err := sampler.ScaleModelInput(latents, k)
		if err != nil {
			return nil, shape, err
		}
		batch := shape
		if guided {
			input = append(append(make([]float32, 0, 2*len(input)), input...), input...)
			batch[0] = 2 * n
		}
		out, err := denoise(input, k, batch)
		if err != nil {
			return nil, shape, err
		}
		if guided {
			uncond, cond := out[:len(out)/2], out[len(out)/2:]
			out = diffusion.Guidance(uncond, cond, opts.GuidanceScale)
			if opts.GuidanceRescale > 0 {
				if out, err = diffusion.RescaleGuidance(out, cond, n, opts.GuidanceRescale); err != nil {
					return nil, shape, err
				}
			}
		}
		if latents, err = sampler.Step(out, k, latents); err != nil {
			return nil, shape, err
		}
		if opts.OnStep != nil {
			opts.OnStep(k+1, len(timesteps))
		}
	}
	return latents, shape, nil
}

// encodePrompts tokenizes the prompts and runs the text encoder once per prompt: [len(prompts), 77, D]. The
// UNet graph repeats each prompt's states for the images of a batch, so this graph does not depend on how
// many images are drawn.
func (p *Pipeline) encodePrompts(prompts []string) (*tensors.Tensor, error) {
	ids := make([]int32, 0, len(prompts)*p.tokenizer.MaxLength())
	for _, pr := range prompts {
		ids = append(ids, p.tokenizer.Encode(pr)...)
	}
	if p.encodeExec == nil {
		var err error
		p.encodeExec, err = context.NewExec(p.backend, p.ctx.Reuse(), func(ctx *context.Context, ids *graph.Node) *graph.Node {
			return clip.Forward(ctx.In("text_encoder"), p.text, ids) // [prompts, 77, D]
		})
		if err != nil {
			return nil, err
		}
	}
	return p.encodeExec.Exec1(tensors.FromFlatDataAndDimensions(ids, len(prompts), len(ids)/len(prompts)))
}

// denoise runs the UNet on input [batch, channels, h, w] at timestep t with the same encoder states for every
// cross-attention layer, returning the model output in the same layout. states is [prompts, 77, D]: the
// batch holds batch/prompts images of each prompt, in the order of the prompts.
func (p *Pipeline) denoise(input []float32, t float32, shape [4]int, states *tensors.Tensor) ([]float32, error) {
	if p.denoiseExec == nil {
		var err error
		p.denoiseExec, err = context.NewExec(p.backend, p.ctx.Reuse(),
			func(ctx *context.Context, sample, timestep, states *graph.Node) *graph.Node {
				sample = graph.ConvertDType(sample, p.dtype)
				batch := sample.Shape().Dim(0)
				timesteps := graph.BroadcastToDims(timestep, batch) // [batch]
				// [prompts, 77, D] → [prompts, batch/prompts, 77, D] → [batch, 77, D]
				prompts, length, width := states.Shape().Dim(0), states.Shape().Dim(1), states.Shape().Dim(2)
				states = graph.BroadcastToDims(graph.ExpandAxes(states, 1), prompts, batch/prompts, length, width)
				states = graph.Reshape(states, batch, length, width)
				out := unet.Forward(ctx.In("unet"), p.unet, sample, timesteps, unet.Shared(states))
				return graph.ConvertDType(out, dtypes.Float32)
			})
		if err != nil {
			return nil, err
		}
	}
	out, err := p.denoiseExec.Exec1(tensors.FromFlatDataAndDimensions(input, shape[:]...), t, states)
	if err != nil {
		return nil, err
	}
	defer out.FinalizeAll() // free the device buffer now, not at garbage collection
	return tensors.MustCopyFlatData[float32](out), nil
}

// decode runs the VAE decoder on latents of the given shape and returns the pixels, NCHW in about [-1, 1],
// with their dimensions.
func (p *Pipeline) decode(latents []float32, shape [4]int) ([]float32, []int, error) {
	if p.decodeExec == nil {
		var err error
		p.decodeExec, err = context.NewExec(p.backend, p.ctx.Reuse(), func(ctx *context.Context, latents *graph.Node) *graph.Node {
			z := vae.UnscaleLatents(p.vae, graph.ConvertDType(latents, p.dtype))
			pixels := vae.Decode(ctx.In("vae"), p.vae, z) // [n, 3, H, W] in about [-1, 1]
			return graph.ConvertDType(pixels, dtypes.Float32)
		})
		if err != nil {
			return nil, nil, err
		}
	}
	out, err := p.decodeExec.Exec1(tensors.FromFlatDataAndDimensions(latents, shape[:]...))
	if err != nil {
		return nil, nil, err
	}
	defer out.FinalizeAll()
	return tensors.MustCopyFlatData[float32](out), out.Shape().Dimensions, nil
}

// toImages converts NCHW pixels in [-1, 1] to images, as diffusers' postprocess: (x/2 + 0.5) clamped to
// [0, 1], then rounded to 8 bits.
func toImages(pixels []float32, n, h, w int) []*image.RGBA {
	images := make([]*image.RGBA, n)
	plane := h * w
	for i := range n {
		img := image.NewRGBA(image.Rect(0, 0, w, h))
		base := i * 3 * plane
		for y := range h {
			for x := range w {
				px := y*w + x
				img.SetRGBA(x, y, color.RGBA{
					R: to8(pixels[base+px]), G: to8(pixels[base+plane+px]), B: to8(pixels[base+2*plane+px]), A: 255,
				})
			}
		}
		images[i] = img
	}
	return images
}

func to8(v float32) uint8 {
	x := math.Min(math.Max(float64(v)/2+0.5, 0), 1)
	return uint8(math.Round(x * 255))
}

// seededNoise draws n·size standard normal values; image i uses the stream seeded with seed+i so that each
// image of a batch can be regenerated alone.
func seededNoise(seed uint64, n, size int) []float32 {
	out := make([]float32, 0, n*size)
	for i := range n {
		rng := rand.New(rand.NewPCG(seed+uint64(i), 0x6e657469)) // "neti"
		for range size {
			out = append(out, float32(rng.NormFloat64()))
		}
	}
	return out
}

func scaled(x []float32, s float64) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(float64(v) * s)
	}
	return out
}
