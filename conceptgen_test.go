package neti

import (
	stdcontext "context"
	"path/filepath"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/neti/internal/tensortest"
	"github.com/org/neti/unet"
)

// tinyPipeline loads testdata/tiny-sd1 on the CPU backend.
func tinyPipeline(t testing.TB) *Pipeline {
	t.Helper()
	p, err := LoadPipeline(filepath.Join("testdata", "tiny-sd1"), LoadOptions{})
	require.NoError(t, err)
	t.Cleanup(p.Close)
	return p
}

// latentsOf runs the sampler and returns the final latents.
func latentsOf(t *testing.T, p *Pipeline, prompt string, opts GenerateOptions) []float32 {
	t.Helper()
	latents, _, err := p.sample(stdcontext.Background(), prompt, opts)
	require.NoError(t, err, "prompt %q", prompt)
	return latents
}

// TestGenerateWithConcept generates with a random-mapper concept (p.InitConcept): deterministic per seed,
// different from plain generation with the super-category word, and sensitive to the truncation.
func TestGenerateWithConcept(t *testing.T) {
	p := tinyPipeline(t)
	c, err := p.InitConcept("<tiny-toy>", "happy", 3)
	require.NoError(t, err)
	ctx := stdcontext.Background()
	opts := GenerateOptions{Steps: 2, Seed: 5, Concepts: []*Concept{c}}
	const prompt = "a photo of <tiny-toy>"

	a, err := p.Generate(ctx, prompt, opts)
	require.NoError(t, err)
	b, err := p.Generate(ctx, prompt, opts)
	require.NoError(t, err)
	require.Len(t, a, 1)
	assert.Equal(t, a[0].Pix, b[0].Pix, "same seed and concept, same image")
	denoiseExec := p.conceptDenoiseExec
	require.NotNil(t, denoiseExec)
	assert.Len(t, p.conceptEncodeExecs, 1, "one cached text-encoder graph for one concept setup")

	full := latentsOf(t, p, prompt, opts)
	assert.Equal(t, full, latentsOf(t, p, prompt, opts), "deterministic latents")
	plain := latentsOf(t, p, "a photo of happy", GenerateOptions{Steps: 2, Seed: 5})
	assert.Greater(t, tensortest.MaxDeltaFloats(full, plain), 1e-3, "the concept changes the result vs its super-category word")
	other := opts
	other.Seed = 6
	assert.Greater(t, tensortest.MaxDeltaFloats(full, latentsOf(t, p, prompt, other)), 1e-3, "seed 6 vs 5")

	truncated := opts
	truncated.Truncation = 1
	coarse := latentsOf(t, p, prompt, truncated)
	assert.Greater(t, tensortest.MaxDeltaFloats(full, coarse), 1e-5, "truncation 1 vs the concept's %d", c.Truncation)
	c.Truncation = 1
	assert.Equal(t, coarse, latentsOf(t, p, prompt, opts), "GenerateOptions.Truncation overrides Concept.Truncation")
	c.Truncation = c.Mapper.Hidden

	// The conditioning is cached for the last prompt and recomputed when the concept's weights change.
	assert.Equal(t, full, latentsOf(t, p, prompt, opts))
	cached := p.conceptCache
	require.NotNil(t, cached)
	latentsOf(t, p, prompt, other)
	assert.Same(t, cached, p.conceptCache, "another seed of the same prompt reuses the conditioning")
	ws := c.Weights()
	bias := tensors.MustCopyFlatData[float32](ws["output_layer.0.bias"])
	bias[0] += 0.5
	ws["output_layer.0.bias"] = tensors.FromFlatDataAndDimensions(bias, len(bias))
	require.NoError(t, c.SetWeights(ws))
	changed := latentsOf(t, p, prompt, opts)
	assert.NotSame(t, cached, p.conceptCache, "new weights, new conditioning")
	assert.Greater(t, tensortest.MaxDeltaFloats(full, changed), 1e-5, "changed weights change the result")

	unguided := opts
	unguided.GuidanceScale = 1
	unguided.NumImages = 2
	imgs, err := p.Generate(ctx, prompt, unguided)
	require.NoError(t, err)
	assert.Len(t, imgs, 2, "unguided, two images")
	assert.Same(t, denoiseExec, p.conceptDenoiseExec, "the per-layer UNet graph is built once")

	// Euler's fractional timesteps are rounded for the mapper; every sampler works with concepts.
	for _, sampler := range []Sampler{SamplerEuler, SamplerDDIM} {
		o := opts
		o.Sampler = sampler
		got := latentsOf(t, p, prompt, o)
		assert.Greater(t, tensortest.MaxDeltaFloats(changed, got), 1e-4, "sampler %s vs dpm++2m", sampler)
	}
}

// TestGenerateTwoConcepts puts two concepts in one prompt: the order of GenerateOptions.Concepts does not
// matter, while swapping the placeholders in the prompt changes the result.
func TestGenerateTwoConcepts(t *testing.T) {
	p := tinyPipeline(t)
	a, err := p.InitConcept("<toy-a>", "happy", 1)
	require.NoError(t, err)
	b, err := p.InitConcept("<toy-b>", "good", 2)
	require.NoError(t, err)
	opts := GenerateOptions{Steps: 2, Seed: 9, Concepts: []*Concept{a, b}}
	ab := latentsOf(t, p, "<toy-a> next to <toy-b>", opts)
	reordered := opts
	reordered.Concepts = []*Concept{b, a}
	assert.Equal(t, ab, latentsOf(t, p, "<toy-a> next to <toy-b>", reordered), "concept order is irrelevant")
	ba := latentsOf(t, p, "<toy-b> next to <toy-a>", opts)
	assert.Greater(t, tensortest.MaxDeltaFloats(ab, ba), 1e-4, "swapping the placeholders in the prompt")
	only := opts
	only.Concepts = []*Concept{a}
	alone := latentsOf(t, p, "<toy-a> next to happy", only)
	assert.Greater(t, tensortest.MaxDeltaFloats(ab, alone), 1e-4, "the second concept contributes")
}

// superCategoryConcept returns a concept whose mapper outputs exactly the super-category's token embedding
// as its word at every (t, ℓ) (output layer weight 0, bias = [embedding; random bypass]), with bypass α.
func superCategoryConcept(t *testing.T, p *Pipeline, placeholder, super string, alpha float64) *Concept {
	t.Helper()
	c, err := p.InitConcept(placeholder, super, 4)
	require.NoError(t, err)
	ids := p.tokenizer.TokenIDs(super)
	require.Len(t, ids, 1)
	v := p.ctx.In("text_encoder").In("text_model").In("embeddings").In("token_embedding").InspectVariableInScope("weight")
	require.NotNil(t, v)
	table, err := v.Value()
	require.NoError(t, err)
	d := c.Mapper.TextWidth
	row := tensors.MustCopyFlatData[float32](table)[int(ids[0])*d : (int(ids[0])+1)*d]

	ws := c.Weights()
	w := tensors.MustCopyFlatData[float32](ws["output_layer.0.weight"])
	clear(w)
	ws["output_layer.0.weight"] = tensors.FromFlatDataAndDimensions(w, ws["output_layer.0.weight"].Shape().Dimensions...)
	bias := tensors.MustCopyFlatData[float32](ws["output_layer.0.bias"]) // [2D]: word ‖ bypass
	copy(bias[:d], row)
	ws["output_layer.0.bias"] = tensors.FromFlatDataAndDimensions(bias, 2*d)
	require.NoError(t, c.SetWeights(ws))
	c.Alpha = alpha
	word, _, err := c.Embed(500, 7)
	require.NoError(t, err)
	require.InDeltaSlice(t, row, word, 1e-6, "the word output is the super-category's embedding")
	return c
}

// TestConceptEquivalentToSuperCategory is the strong equivalence check of the whole concept path: a concept
// whose word is the super-category's embedding at every (t, ℓ), with bypass α = 0, must generate what the
// plain prompt with the super-category word generates (per-layer states, batched guidance, truncation,
// placeholder injection all included). With α = 0.2 the bypass must change the result.
func TestConceptEquivalentToSuperCategory(t *testing.T) {
	p := tinyPipeline(t)
	c := superCategoryConcept(t, p, "<tiny-toy>", "happy", 0)
	opts := GenerateOptions{Steps: 3, Seed: 11, NegativePrompt: "good", Concepts: []*Concept{c}}
	got, shape, err := p.sample(stdcontext.Background(), "a photo of <tiny-toy> on a table", opts)
	require.NoError(t, err)
	plainOpts := opts
	plainOpts.Concepts = nil
	want := latentsOf(t, p, "a photo of happy on a table", plainOpts)
	// Same float32 computation with the text encoder batched differently (48 rows vs 2) and the states
	// routed per layer: rounding only.
	tensortest.AllClose(t, tensors.FromFlatDataAndDimensions(want, shape[:]...), tensors.FromFlatDataAndDimensions(got, shape[:]...),
		1e-4, "concept (α = 0, word = super-category) vs plain super-category prompt")

	c.Alpha = 0.2
	bypassed := latentsOf(t, p, "a photo of <tiny-toy> on a table", opts)
	assert.Greater(t, tensortest.MaxDeltaFloats(want, bypassed), 1e-4, "α = 0.2: the bypass changes the values")
}

// TestGenerateConceptErrors checks that bad concept setups fail before any denoising step, with errors that
// say what is wrong.
func TestGenerateConceptErrors(t *testing.T) {
	p := tinyPipeline(t)
	c, err := p.InitConcept("<tiny-toy>", "happy", 3)
	require.NoError(t, err)
	dup, err := p.InitConcept("<tiny-toy>", "good", 4)
	require.NoError(t, err)
	big, err := NewConcept(DefaultMapperConfig(768, 0.4, 1))
	require.NoError(t, err)
	big.Placeholder = "<big>"
	for name, tc := range map[string]struct {
		prompt string
		opts   GenerateOptions
		want   string
	}{
		"prompt without placeholder":  {"a photo of happy", GenerateOptions{Concepts: []*Concept{c}}, "does not contain the placeholder"},
		"placeholder without concept": {"a photo of <other>", GenerateOptions{}, "no concept for it"},
		"second placeholder unknown":  {"<tiny-toy> and <other>", GenerateOptions{Concepts: []*Concept{c}}, "<other> but no concept"},
		"concept of another model":    {"a photo of <big>", GenerateOptions{Concepts: []*Concept{big}}, "768-wide"},
		"truncation too large":        {"a photo of <tiny-toy>", GenerateOptions{Concepts: []*Concept{c}, Truncation: 129}, "expected 1..128"},
		"negative truncation":         {"a photo of <tiny-toy>", GenerateOptions{Concepts: []*Concept{c}, Truncation: -1}, "Truncation is -1"},
		"duplicate placeholder":       {"a photo of <tiny-toy>", GenerateOptions{Concepts: []*Concept{c, dup}}, "both use placeholder"},
		"nil concept":                 {"a photo of <tiny-toy>", GenerateOptions{Concepts: []*Concept{nil}}, "Concepts[0] is nil"},
		"placeholder in negative":     {"a photo of <tiny-toy>", GenerateOptions{Concepts: []*Concept{c}, NegativePrompt: "<tiny-toy>"}, "negative prompt"},
	} {
		t.Run(name, func(t *testing.T) {
			steps := 0
			tc.opts.Steps = 2
			tc.opts.OnStep = func(int, int) { steps++ }
			_, err := p.Generate(stdcontext.Background(), tc.prompt, tc.opts)
			require.Error(t, err, "prompt %q", tc.prompt)
			assert.Contains(t, err.Error(), tc.want)
			assert.Zero(t, steps, "no denoising step before the error")
		})
	}
	// A placeholder without angle brackets, registered by an earlier generation, is an added token: used
	// without its concept it is an error too.
	bare, err := p.InitConcept("zqxtoy", "happy", 5)
	require.NoError(t, err)
	_, err = p.Generate(stdcontext.Background(), "a photo of zqxtoy", GenerateOptions{Steps: 1, Concepts: []*Concept{bare}})
	require.NoError(t, err)
	_, err = p.Generate(stdcontext.Background(), "a photo of zqxtoy", GenerateOptions{Steps: 1})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `added token "zqxtoy", which has no concept`)
}

// TestConceptDenoiseRouting checks that step k's UNet call gets, at cross-attention layer ℓ, row k·16 + ℓ of
// the prompt's conditioning (conditional half) and the negative prompt's states (unconditional half): the generation
// path is compared with a UNet graph fed 16 per-layer states assembled on the host.
func TestConceptDenoiseRouting(t *testing.T) {
	p := tinyPipeline(t)
	c, err := p.InitConcept("<tiny-toy>", "happy", 3)
	require.NoError(t, err)
	const prompt, negative = "a photo of <tiny-toy>", "good"
	opts := GenerateOptions{Concepts: []*Concept{c}}
	plan, err := p.planConcepts(prompt, opts)
	require.NoError(t, err)
	timesteps := []float64{999, 500, 20}
	denoise, err := p.conceptDenoiser(prompt, negative, plan, timesteps, 1, true)
	require.NoError(t, err)

	keys, values, err := encodeAll(p, prompt, []*Concept{c}, []int{999, 500, 20})
	require.NoError(t, err)
	uncond, err := p.encodePrompts([]string{negative})
	require.NoError(t, err)
	allK, allV := tensors.MustCopyFlatData[float32](keys), tensors.MustCopyFlatData[float32](values)
	u := tensors.MustCopyFlatData[float32](uncond)
	row := 77 * 32
	layerStates := func(all []float32, r int) *tensors.Tensor { // [2, 77, D]: uncond, then row r
		return tensors.FromFlatDataAndDimensions(append(append([]float32{}, u...), all[r*row:(r+1)*row]...), 2, 77, 32)
	}
	exec, err := context.NewExec(p.backend, p.ctx.Reuse(), func(ctx *context.Context, in []*graph.Node) *graph.Node {
		sample, timestep := in[0], in[1]
		ks, vs := in[2:18], in[18:34]
		return unet.Forward(ctx.In("unet"), p.unet, sample, graph.BroadcastToDims(timestep, 2), unet.PerLayer(ks, vs))
	})
	require.NoError(t, err)
	defer exec.Finalize()
	input := seededNoise(1, 2, 4*16*16)
	batch := [4]int{2, 4, 16, 16}
	for _, k := range []int{0, 2} {
		got, err := denoise(input, k, batch)
		require.NoError(t, err)
		build := func(step int) []any {
			args := []any{tensors.FromFlatDataAndDimensions(input, batch[:]...), float32(timesteps[k])}
			for l := range 16 {
				args = append(args, layerStates(allK, step*16+l))
			}
			for l := range 16 {
				args = append(args, layerStates(allV, step*16+l))
			}
			return args
		}
		want, err := exec.Exec1(build(k)...)
		require.NoError(t, err)
		tensortest.AllClose(t, want, tensors.FromFlatDataAndDimensions(got, batch[:]...), 1e-5, "step %d", k)
		other, err := exec.Exec1(build(1)...)
		require.NoError(t, err)
		assert.Greater(t, tensortest.MaxDeltaFloats(tensors.MustCopyFlatData[float32](other), got), 1e-5,
			"step %d with step 1's states differs: the routing is observable", k)
	}
}
