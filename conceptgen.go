package neti

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/org/neti/unet"
)

// Generation with concepts (paper §3; spec §5, §7, §13 #5–6): planConcepts checks the concepts against the
// model and the prompt before any work; before the first step, the prompt's conditioning (conditioning.go:
// one batched text-encoder pass per prompt, cached) gives the keys and values states of every (step,
// layer); the negative prompt is encoded once, as plain CLIP. Each step then runs the UNet once on the batched
// guidance pair: the unconditional half gets the negative prompt's states at every layer, the conditional
// half layer ℓ's keys and values of that step (unet.PerLayer). The per-layer graph takes the step's
// states as inputs, so it is compiled once and reused by every step and call.

// conceptPlan is the validated concept setup of one generation.
type conceptPlan struct {
	concepts    []*Concept
	truncations []int // truncations[j] of concepts[j]
}

// placeholderPattern matches the placeholder-like words of a prompt: "<...>" without spaces.
var placeholderPattern = regexp.MustCompile(`<[^<>\s]+>`)

// planConcepts checks the concepts of opts against the model and the prompt before any work: every
// concept fits the model (its base model's identity too, unless opts.AllowOtherBaseModel, and a concept
// without one gets a note through opts.OnNote) and has its own placeholder, which occurs in the prompt (once or more); every
// placeholder-like word of the prompt ("<...>" or a token added to the tokenizer) has a concept; the
// negative prompt has none. It returns nil for a plain prompt without concepts.
func (p *Pipeline) planConcepts(prompt string, opts GenerateOptions) (*conceptPlan, error) {
	plan := &conceptPlan{}
	owner := make(map[string]int) // lower-cased placeholder → concept index
	for j, c := range opts.Concepts {
		if c == nil {
			return nil, fmt.Errorf("neti: GenerateOptions.Concepts[%d] is nil: expected a concept (LoadConcept)", j)
		}
		if err := c.Validate(); err != nil {
			return nil, fmt.Errorf("neti: concept %q: %w", c.Placeholder, err)
		}
		if err := p.fitsModel(c); err != nil {
			return nil, err
		}
		note, err := p.checkBase(c)
		if err != nil {
			if !opts.AllowOtherBaseModel {
				return nil, err
			}
			note = fmt.Sprintf("using concept %q on another base model, as GenerateOptions.AllowOtherBaseModel "+
				"asks: %v", c.Placeholder, strings.TrimPrefix(err.Error(), "neti: "))
		}
		if note != "" && opts.OnNote != nil {
			opts.OnNote(note)
		}
		key := strings.ToLower(c.Placeholder)
		if c.Placeholder == "" {
			return nil, fmt.Errorf("neti: GenerateOptions.Concepts[%d] has no placeholder: expected a token such as \"<my-cat>\"", j)
		}
		if i, dup := owner[key]; dup {
			return nil, fmt.Errorf("neti: GenerateOptions.Concepts[%d] and [%d] both use placeholder %q: expected one "+
				"concept per placeholder (change Concept.Placeholder of one)", i, j, c.Placeholder)
		}
		owner[key] = j
		k := c.Truncation
		if opts.Truncation > 0 {
			if opts.Truncation > c.Mapper.Hidden {
				return nil, fmt.Errorf("neti: GenerateOptions.Truncation is %d but concept %q has %d hidden units: "+
					"expected 1..%d", opts.Truncation, c.Placeholder, c.Mapper.Hidden, c.Mapper.Hidden)
			}
			k = opts.Truncation
		}
		if !strings.Contains(strings.ToLower(prompt), key) {
			return nil, fmt.Errorf("neti: prompt %q does not contain the placeholder %q of a given concept: "+
				"use it in the prompt (e.g. \"a photo of %s\") or drop the concept", prompt, c.Placeholder, c.Placeholder)
		}
		plan.concepts, plan.truncations = append(plan.concepts, c), append(plan.truncations, k)
	}
	for _, word := range placeholderPattern.FindAllString(prompt, -1) {
		if _, ok := owner[strings.ToLower(word)]; !ok {
			return nil, fmt.Errorf("neti: prompt %q uses placeholder %s but no concept for it was given: "+
				"pass its concept (GenerateOptions.Concepts, neti generate --concept FILE)", prompt, word)
		}
	}
	if words := placeholderPattern.FindAllString(opts.NegativePrompt, -1); len(words) > 0 {
		return nil, fmt.Errorf("neti: negative prompt %q uses placeholder(s) %v: concepts are only supported in the "+
			"prompt", opts.NegativePrompt, words)
	}

	// Token level: the placeholders are registered, each occurs (once or more), and no other added token is used.
	ids := make([]int32, len(plan.concepts))
	for j, c := range plan.concepts {
		var err error
		if ids[j], err = p.placeholderID(c.Placeholder); err != nil {
			return nil, err
		}
	}
	tokens := p.tokenizer.Encode(prompt)
	if _, _, err := placeholderOccurrences(tokens, ids); err != nil {
		return nil, fmt.Errorf("neti: prompt %q: %w", prompt, err)
	}
	for _, id := range tokens {
		if int(id) >= p.tokenizer.VocabSize() && !slices.Contains(ids, id) {
			return nil, fmt.Errorf("neti: prompt %q uses the added token %q, which has no concept: pass its concept "+
				"(GenerateOptions.Concepts)", prompt, p.tokenizer.Decode([]int32{id}, false))
		}
	}
	if len(plan.concepts) == 0 {
		return nil, nil
	}
	return plan, nil
}

// stepDenoiser runs the UNet for step k of the sampler on input [batch, channels, h, w] (flat) and returns
// the model output in the same layout; batch is doubled (uncond first) under guidance.
type stepDenoiser func(input []float32, k int, batch [4]int) ([]float32, error)

// conceptDenoiser computes the conditioning of every step up front (conditioning; the mapper's timesteps
// are the sampler's, rounded to integers) and returns the per-step denoiser with per-layer states.
// n is the number of images; guided adds the negative prompt's plain states as the unconditional half.
func (p *Pipeline) conceptDenoiser(prompt, negative string, plan *conceptPlan, timesteps []float64, n int,
	guided bool) (stepDenoiser, error) {
	cond, err := p.conditioning(prompt, plan, timesteps)
	if err != nil {
		return nil, err
	}
	stepKeys, stepValues := cond.keys, cond.values
	var uncond *tensors.Tensor
	if guided {
		if uncond, err = p.encodePrompts([]string{negative}); err != nil {
			return nil, err
		}
	}
	exec, err := p.conceptDenoise()
	if err != nil {
		return nil, err
	}
	return func(input []float32, k int, batch [4]int) ([]float32, error) {
		args := []any{tensors.FromFlatDataAndDimensions(input, batch[:]...), float32(timesteps[k]), stepKeys[k], stepValues[k]}
		if uncond != nil {
			args = append(args, uncond)
		}
		out, err := exec.Exec1(args...)
		if err != nil {
			return nil, err
		}
		return tensors.MustCopyFlatData[float32](out), nil
	}, nil
}

// conceptDenoise returns (building it once) the UNet graph with per-layer conditioning. Inputs: sample
// [batch, channels, h, w] float32, timestep scalar float32, keys and values [layers, 77, D] (the step's
// conditional states of each cross-attention layer, conditioning.go's rows for one step), and under
// guidance uncond [1, 77, D] (the negative prompt's states, the same for every layer). Layer ℓ gets
// keys/values = uncond ‖ the step's row ℓ, each broadcast over the images.
func (p *Pipeline) conceptDenoise() (*context.Exec, error) {
	if p.conceptDenoiseExec != nil {
		return p.conceptDenoiseExec, nil
	}
	exec, err := context.NewExec(p.backend, p.ctx.Reuse(), func(ctx *context.Context, in []*graph.Node) *graph.Node {
		sample, timestep, keys, values := in[0], in[1], in[2], in[3]
		sample = graph.ConvertDType(sample, p.dtype)
		batch := sample.Shape().Dim(0)
		timesteps := graph.BroadcastToDims(timestep, batch) // [batch]
		var uncond *graph.Node
		n := batch
		if len(in) > 4 {
			n = batch / 2
			dims := in[4].Shape().Dimensions                           // [1, 77, D]: the negative prompt's states
			uncond = graph.BroadcastToDims(in[4], n, dims[1], dims[2]) // [n, 77, D]
		}
		perLayer := func(states *graph.Node) []*graph.Node {
			out := layerStates(states, states.Shape().Dim(0)) // [layers, 77, D]: one step (N = 1) → [1, 77, D] per layer
			for l, row := range out {
				dims := row.Shape().Dimensions
				row = graph.BroadcastToDims(row, n, dims[1], dims[2]) // [n, 77, D]
				if uncond != nil {
					row = graph.Concatenate([]*graph.Node{uncond, row}, 0) // [2n, 77, D]: uncond first
				}
				out[l] = row
			}
			return out
		}
		cond := unet.PerLayer(perLayer(keys), perLayer(values))
		out := unet.Forward(ctx.In("unet"), p.unet, sample, timesteps, cond)
		return graph.ConvertDType(out, dtypes.Float32)
	})
	if err != nil {
		return nil, err
	}
	p.conceptDenoiseExec = exec
	return exec, nil
}
