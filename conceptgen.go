package neti

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"maps"
	"math"
	"regexp"
	"slices"
	"strings"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/org/neti/unet"
)

// Generation with concepts (paper §3; spec §5, §7, §13 #5–6). Before the first step, one batched
// text-encoder pass per prompt (EncodeConcepts) computes the keys and values states of every (step, layer);
// the negative prompt is encoded once, as plain CLIP. Each step then runs the UNet once on the batched
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
	if _, _, err := PlaceholderOccurrences(tokens, ids); err != nil {
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

// conceptDenoiser computes the conditioning of every step up front (one EncodeConcepts pass; the mapper's
// timesteps are the sampler's, rounded to integers) and returns the per-step denoiser with per-layer states.
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

// conceptConditioning is the NeTI conditioning of one prompt: keys and values [layers, 77, D] of each
// sampler step, with the key of what it was computed from.
type conceptConditioning struct {
	key          string
	keys, values []*tensors.Tensor
}

// conditioning returns the per-step states of prompt with plan's concepts at the sampler's timesteps
// (rounded to integers for the mapper): from the pipeline's one-entry cache when the prompt, concepts
// (weights included), truncations and timesteps are those of the previous call, so that further seeds or
// images of a prompt cost no text-encoder work, as the original computes them once per prompt (spec §7).
func (p *Pipeline) conditioning(prompt string, plan *conceptPlan, timesteps []float64) (*conceptConditioning, error) {
	ts := make([]int, len(timesteps))
	for i, t := range timesteps {
		ts[i] = int(math.Round(t))
	}
	var key strings.Builder
	fmt.Fprintf(&key, "%q %v %v", prompt, ts, plan.truncations)
	for _, c := range plan.concepts {
		fmt.Fprintf(&key, " %s", c.fingerprint())
	}
	if p.conceptCache != nil && p.conceptCache.key == key.String() {
		return p.conceptCache, nil
	}
	p.conceptCache = nil // release the previous states before computing new ones
	keyParts, valueParts, _, err := p.encodeConcepts(prompt, plan.concepts, ts, plan.truncations)
	if err != nil {
		return nil, err
	}
	layers := len(p.unet.CrossAttentionLayers())
	cond := &conceptConditioning{key: key.String()}
	for i := range keyParts { // each chunk holds whole steps
		k, err := splitRows(keyParts[i], layers)
		if err != nil {
			return nil, err
		}
		v, err := splitRows(valueParts[i], layers)
		if err != nil {
			return nil, err
		}
		cond.keys, cond.values = append(cond.keys, k...), append(cond.values, v...)
	}
	if len(cond.keys) != len(ts) {
		return nil, fmt.Errorf("neti: concept conditioning has %d steps for %d timesteps", len(cond.keys), len(ts))
	}
	p.conceptCache = cond
	return cond, nil
}

// fingerprint identifies everything of c that its conditioning depends on: placeholder, α, mapper
// configuration and a 64-bit FNV-1a hash of the weights.
func (c *Concept) fingerprint() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := fnv.New64a()
	for _, name := range slices.Sorted(maps.Keys(c.weights)) {
		w := c.weights[name]
		buf := make([]byte, len(name), len(name)+4*len(w))
		copy(buf, name)
		for _, v := range w {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		}
		h.Write(buf)
	}
	return fmt.Sprintf("%q/%v/%+v/%x", c.Placeholder, c.Alpha, c.Mapper, h.Sum64())
}

// conceptDenoise returns (building it once) the UNet graph with per-layer conditioning. Inputs: sample
// [batch, channels, h, w] float32, timestep scalar float32, keys and values [layers, 77, D] (the step's
// conditional states of each cross-attention layer), and under guidance uncond [batch/2, 77, D] (the
// negative prompt's states, the same for every layer). Layer ℓ gets keys/values = uncond ‖ the step's
// row ℓ broadcast over the images.
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
			dims := states.Shape().Dimensions // [layers, 77, D]
			out := make([]*graph.Node, dims[0])
			for l := range out {
				row := graph.Slice(states, graph.AxisElem(l))         // [1, 77, D]
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

// splitRows splits t [S·rows, ...] along axis 0 into S tensors [rows, ...] (host copies, any dtype).
func splitRows(t *tensors.Tensor, rows int) ([]*tensors.Tensor, error) {
	dims := t.Shape().Dimensions
	if rows <= 0 || dims[0]%rows != 0 {
		return nil, fmt.Errorf("neti: splitting %v into blocks of %d rows", dims, rows)
	}
	partDims := append([]int{rows}, dims[1:]...)
	parts := make([]*tensors.Tensor, dims[0]/rows)
	var err error
	readErr := t.ConstBytes(func(src []byte) {
		size := len(src) / len(parts)
		for i := range parts {
			parts[i] = tensors.FromShape(shapes.Make(t.DType(), partDims...))
			if e := parts[i].MutableBytes(func(dst []byte) { copy(dst, src[i*size:(i+1)*size]) }); e != nil {
				err = e
			}
		}
	})
	if readErr != nil {
		return nil, readErr
	}
	return parts, err
}
