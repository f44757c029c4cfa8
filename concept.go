package neti

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/dtypes/bfloat16"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/x448/float16"

	"github.com/org/neti/internal/backend"
)

// Concept is a learned NeTI concept: the mapper M(t, ℓ) (its configuration, trained weights and the fixed
// Fourier matrix W) and what is needed to use it: the placeholder token, the super-category whose
// embedding norm set TargetNorm, the bypass weight, the default truncation and the model it was made for.
// Save it with SaveConcept and read it with LoadConcept.
//
// The exported fields are metadata; the weights are set by NewConcept (initialisation), SetWeights,
// TrainConcept or LoadConcept. A Concept is safe for concurrent use once its weights are no longer being
// changed.
type Concept struct {
	// Mapper is the mapper's architecture, target norm and seed.
	Mapper MapperConfig
	// Placeholder is the new token that stands for the concept in prompts, e.g. "<cat-toy>".
	Placeholder string
	// SuperCategory is the word whose token embedding norm is Mapper.TargetNorm unless training set
	// another (TrainOptions.TargetNorm), e.g. "object".
	SuperCategory string
	// Alpha is the textual bypass weight α (DefaultBypassAlpha).
	Alpha float64
	// Truncation is the default nested-dropout truncation at inference: the number of hidden units kept,
	// 0..Mapper.Hidden (Mapper.Hidden = full).
	Truncation int
	// BaseModel identifies the Stable Diffusion model the concept was trained on (a folder name or hub id).
	BaseModel string
	// BaseIdentity is the identity of that model's text encoder (Pipeline.Identity), checked when the
	// concept is used with a pipeline (CheckConcept, Generate); nil in files of older versions, which are
	// then checked on width and layers only.
	BaseIdentity *ModelIdentity
	// LayerNames are the names of the cross-attention layers ℓ = 0..NumLayers-1 (IN01 ... OUT11), checked by
	// Fits.
	LayerNames []string
	// Training records the training options (JSON, written by the trainer); nil if unknown.
	Training json.RawMessage

	mu      sync.Mutex
	weights map[string][]float32 // by state-dict name (Mapper.params() and EncoderWeightName), float32
	embed   *context.Exec        // Embed's graph on the CPU backend, built on first use
}

// NewConcept returns a concept with freshly initialised mapper weights (deterministic in cfg.Seed, see
// initMapperWeights), α = DefaultBypassAlpha and full truncation. The caller fills in the metadata.
func NewConcept(cfg MapperConfig) (*Concept, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Concept{Mapper: cfg, Alpha: DefaultBypassAlpha, Truncation: cfg.Hidden, weights: initMapperWeights(cfg)}, nil
}

// Validate checks the metadata and that every weight is present with its shape and finite (no NaN or
// ±Inf: such a concept would draw black or noise images).
func (c *Concept) Validate() error {
	if c == nil {
		return errNilConcept
	}
	if err := c.Mapper.Validate(); err != nil {
		return err
	}
	if c.Truncation < 0 || c.Truncation > c.Mapper.Hidden {
		return fmt.Errorf("neti: Concept.Truncation is %d: expected 0..%d (Mapper.Hidden keeps all units)",
			c.Truncation, c.Mapper.Hidden)
	}
	if !(c.Alpha >= 0) || math.IsInf(c.Alpha, 0) {
		return fmt.Errorf("neti: Concept.Alpha is %g: expected a finite non-negative bypass weight (default %g)",
			c.Alpha, DefaultBypassAlpha)
	}
	if len(c.LayerNames) != 0 && len(c.LayerNames) != c.Mapper.NumLayers {
		return fmt.Errorf("neti: Concept.LayerNames has %d names for %d layers: expected one per layer or none",
			len(c.LayerNames), c.Mapper.NumLayers)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.weights == nil {
		return errNoWeights
	}
	if err := checkWeights(c.Mapper, func(name string) (int, bool) {
		w, ok := c.weights[name]
		return len(w), ok
	}); err != nil {
		return err
	}
	return checkFinite(c.weights)
}

// checkFinite says which tensors of weights hold NaN or ±Inf: the first by name, with where and how many.
func checkFinite(weights map[string][]float32) error {
	var bad []string
	first := ""
	for _, name := range slices.Sorted(maps.Keys(weights)) {
		count, at := 0, -1
		for i, v := range weights[name] {
			if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
				if count == 0 {
					at = i
				}
				count++
			}
		}
		if count == 0 {
			continue
		}
		bad = append(bad, name)
		if first == "" {
			first = fmt.Sprintf("tensor %s holds %d non-finite values of %d (the first, at index %d, is %g)",
				name, count, len(weights[name]), at, weights[name][at])
		}
	}
	if len(bad) == 0 {
		return nil
	}
	others := ""
	if len(bad) > 1 {
		others = fmt.Sprintf(", and %d more tensors do (%s)", len(bad)-1, strings.Join(bad[1:], ", "))
	}
	return fmt.Errorf("neti: concept weights: %s%s: expected finite numbers; the concept is damaged or its training "+
		"diverged: train it again (with a lower TrainOptions.LearningRate, --learning_rate) or use an earlier checkpoint",
		first, others)
}

// expectedShapes maps every tensor name of cfg's mapper (params and W) to its dimensions.
func expectedShapes(cfg MapperConfig) map[string][]int {
	out := map[string][]int{EncoderWeightName: {cfg.NumFourier, 2}}
	for _, p := range cfg.params() {
		out[p.name] = p.shape.Dimensions
	}
	return out
}

// checkWeights checks that size(name) gives every expected tensor with its number of elements.
func checkWeights(cfg MapperConfig, size func(name string) (int, bool)) error {
	var problems []string
	for name, dims := range expectedShapes(cfg) {
		n, ok := size(name)
		want := 1
		for _, d := range dims {
			want *= d
		}
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("missing %s %v", name, dims))
		case n != want:
			problems = append(problems, fmt.Sprintf("%s has %d values, expected %v", name, n, dims))
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return fmt.Errorf("neti: concept weights: %s", strings.Join(problems, "; "))
	}
	return nil
}

// SetWeights replaces the mapper's weights: ts maps every state-dict name (net.0.weight, ...,
// output_layer.0.bias, and encoder.w) to a float tensor of its shape; other names are an error.
func (c *Concept) SetWeights(ts map[string]*tensors.Tensor) error {
	if c == nil {
		return errNilConcept
	}
	expected := expectedShapes(c.Mapper)
	var problems []string
	weights := make(map[string][]float32, len(ts))
	for name, t := range ts {
		dims, ok := expected[name]
		switch {
		case !ok:
			problems = append(problems, "unexpected tensor "+name)
		case !slices.Equal(dims, t.Shape().Dimensions):
			problems = append(problems, fmt.Sprintf("%s has shape %v, expected %v", name, t.Shape().Dimensions, dims))
		default:
			values, err := float32s(t)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", name, err))
			}
			weights[name] = values
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return fmt.Errorf("neti: concept weights: %s", strings.Join(problems, "; "))
	}
	if err := checkWeights(c.Mapper, func(name string) (int, bool) { w, ok := weights[name]; return len(w), ok }); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.weights, c.embed = weights, nil
	return nil
}

// float32s copies a float tensor's values as float32.
func float32s(t *tensors.Tensor) ([]float32, error) {
	switch t.DType() {
	case dtypes.Float32:
		return tensors.CopyFlatData[float32](t)
	case dtypes.Float64:
		v, err := tensors.CopyFlatData[float64](t)
		out := make([]float32, len(v))
		for i, x := range v {
			out[i] = float32(x)
		}
		return out, err
	}
	return nil, fmt.Errorf("dtype %s: expected float32 or float64", t.DType())
}

// Weights returns copies of the mapper's tensors (float32) by state-dict name, W (encoder.w) included;
// nil for a nil concept.
func (c *Concept) Weights() map[string]*tensors.Tensor {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	shapes := expectedShapes(c.Mapper)
	out := make(map[string]*tensors.Tensor, len(c.weights))
	for name, w := range c.weights {
		out[name] = tensors.FromFlatDataAndDimensions(slices.Clone(w), shapes[name]...)
	}
	return out
}

// variableScope returns the scope of the state-dict name under ctx and the variable name:
// "net.0.weight" → ctx.In("net").In("0"), "weight".
func variableScope(ctx *context.Context, name string) (*context.Context, string) {
	parts := strings.Split(name, ".")
	for _, p := range parts[:len(parts)-1] {
		ctx = ctx.In(p)
	}
	return ctx, parts[len(parts)-1]
}

// loadInto writes the mapper's weights into variables under ctx (the scope mapper is given), in dtype
// (float32, or float64 for gradient checks), creating or overwriting them. W is marked not trainable; the
// rest is trainable. The variables hold copies: training them does not change c until updateFrom.
func (c *Concept) loadInto(ctx *context.Context, dtype dtypes.DType) error {
	if c == nil {
		return errNilConcept
	}
	if dtype != dtypes.Float32 && dtype != dtypes.Float64 {
		return fmt.Errorf("neti: concept variables: dtype %s: expected float32 or float64", dtype)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	shapes := expectedShapes(c.Mapper)
	for name, w := range c.weights {
		var t *tensors.Tensor
		if dtype == dtypes.Float64 {
			v := make([]float64, len(w))
			for i, x := range w {
				v[i] = float64(x)
			}
			t = tensors.FromFlatDataAndDimensions(v, shapes[name]...)
		} else {
			t = tensors.FromFlatDataAndDimensions(slices.Clone(w), shapes[name]...)
		}
		scope, varName := variableScope(ctx, name)
		v := scope.InspectVariableInScope(varName)
		if v == nil {
			v = scope.Checked(false).VariableWithValue(varName, t)
		} else if !v.Shape().Equal(t.Shape()) {
			return fmt.Errorf("neti: concept variables: variable %s exists with shape %s, expected %s",
				v.ScopeAndName(), v.Shape(), t.Shape())
		} else if err := v.SetValue(t); err != nil {
			return fmt.Errorf("neti: concept variables: %s: %w", v.ScopeAndName(), err)
		}
		v.SetTrainable(name != EncoderWeightName)
	}
	return nil
}

// updateFrom copies the mapper's trained weights back from the variables under ctx (as written by
// loadInto and updated by an optimizer). W is read too, so a W changed by mistake shows up in the file.
func (c *Concept) updateFrom(ctx *context.Context) error {
	if c == nil {
		return errNilConcept
	}
	weights := make(map[string]*tensors.Tensor)
	for name := range expectedShapes(c.Mapper) {
		scope, varName := variableScope(ctx, name)
		v := scope.InspectVariableInScope(varName)
		if v == nil {
			return fmt.Errorf("neti: concept variables: no variable %s/%s: expected the scope given to loadInto",
				scope.Scope(), varName)
		}
		t, err := v.Value()
		if err != nil {
			return fmt.Errorf("neti: concept variables: %s: %w", v.ScopeAndName(), err)
		}
		weights[name] = t
	}
	return c.SetWeights(weights)
}

// Embed returns the mapper's outputs for timestep t (0..NumTimesteps-1) and layer ℓ (0..NumLayers-1) at the
// concept's Truncation: word and bypass, TextWidth values each (bypass nil without Mapper.Bypass). It runs
// on the CPU backend, with the graph built once and reused.
func (c *Concept) Embed(t, layer int) (word, bypass []float32, err error) {
	if c == nil {
		return nil, nil, errNilConcept
	}
	return c.EmbedTruncated(t, layer, c.Truncation)
}

// EmbedTruncated is Embed at truncation k (0..Hidden hidden units kept).
func (c *Concept) EmbedTruncated(t, layer, k int) (word, bypass []float32, err error) {
	return c.EmbedBatch([]int{t}, []int{layer}, k)
}

// EmbedBatch evaluates the mapper for N pairs (timesteps[i], layers[i]) at truncation k in one call:
// words and bypass are [N·TextWidth] row-major (bypass nil without Mapper.Bypass).
func (c *Concept) EmbedBatch(timesteps, layers []int, k int) (words, bypass []float32, err error) {
	defer recoverError("concept embed", &err)
	if c == nil {
		return nil, nil, errNilConcept
	}
	cfg := c.Mapper
	if len(timesteps) != len(layers) || len(timesteps) == 0 {
		return nil, nil, fmt.Errorf("neti: embed: %d timesteps and %d layers: expected the same positive number",
			len(timesteps), len(layers))
	}
	if k < 0 || k > cfg.Hidden {
		return nil, nil, fmt.Errorf("neti: embed: truncation %d: expected 0..%d", k, cfg.Hidden)
	}
	ts, ls := make([]float32, len(timesteps)), make([]float32, len(layers))
	for i := range timesteps {
		if timesteps[i] < 0 || timesteps[i] >= cfg.NumTimesteps || layers[i] < 0 || layers[i] >= cfg.NumLayers {
			return nil, nil, fmt.Errorf("neti: embed: (t, ℓ) = (%d, %d): expected t in 0..%d and ℓ in 0..%d",
				timesteps[i], layers[i], cfg.NumTimesteps-1, cfg.NumLayers-1)
		}
		ts[i], ls[i] = float32(timesteps[i]), float32(layers[i])
	}
	exec, err := c.embedExec()
	if err != nil {
		return nil, nil, err
	}
	n := len(ts)
	keep := make([]int32, n) // [N]: truncation k on every row
	for i := range keep {
		keep[i] = int32(k)
	}
	out, err := exec.Exec(tensors.FromFlatDataAndDimensions(ts, n), tensors.FromFlatDataAndDimensions(ls, n),
		tensors.FromFlatDataAndDimensions(keep, n))
	if err != nil {
		return nil, nil, err
	}
	words = tensors.MustCopyFlatData[float32](out[0])
	if cfg.Bypass {
		bypass = tensors.MustCopyFlatData[float32](out[1])
	}
	return words, bypass, nil
}

// embedExec builds (once) the mapper graph on the CPU backend with a private copy of the weights.
func (c *Concept) embedExec() (*context.Exec, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	exec := c.embed
	c.mu.Unlock()
	if exec != nil {
		return exec, nil
	}
	b, ctx, err := c.cpuCopy()
	if err != nil {
		return nil, err
	}
	cfg := c.Mapper
	exec, err = context.NewExec(b, ctx.Reuse(), func(ctx *context.Context, t, l, keep *graph.Node) []*graph.Node {
		word, bypass := mapper(ctx, &cfg, t, l, keep) // [N, D] each
		if bypass == nil {
			return []*graph.Node{word}
		}
		return []*graph.Node{word, bypass}
	})
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.embed == nil {
		c.embed = exec
	}
	return c.embed, nil
}

// Fits checks that the concept was made for a model with this text width and these cross-attention layer
// names (in forward order, e.g. from unet.Config.CrossAttentionLayers), and says what differs otherwise.
func (c *Concept) Fits(textWidth int, layerNames []string) error {
	if c == nil {
		return errNilConcept
	}
	made := c.BaseModel
	if made == "" {
		made = "an unrecorded model"
	}
	if textWidth != c.Mapper.TextWidth {
		return fmt.Errorf("neti: concept %q was made for %s with a %d-wide text encoder; this model's is %d wide: "+
			"train the concept on this model", c.Placeholder, made, c.Mapper.TextWidth, textWidth)
	}
	if len(layerNames) != c.Mapper.NumLayers {
		return fmt.Errorf("neti: concept %q was made for %s with %d cross-attention layers; this model has %d: "+
			"train the concept on this model", c.Placeholder, made, c.Mapper.NumLayers, len(layerNames))
	}
	if len(c.LayerNames) != 0 && !slices.Equal(c.LayerNames, layerNames) {
		return fmt.Errorf("neti: concept %q was made for %s with cross-attention layers %v; this model's are %v: "+
			"train the concept on this model", c.Placeholder, made, c.LayerNames, layerNames)
	}
	return nil
}

// cpuCopy returns the CPU backend and a new context holding a float32 copy of the concept's weights.
func (c *Concept) cpuCopy() (backends.Backend, *context.Context, error) {
	b, err := cpuBackend()
	if err != nil {
		return nil, nil, err
	}
	ctx := context.New()
	if err := c.loadInto(ctx, dtypes.Float32); err != nil {
		return nil, nil, err
	}
	return b, ctx, nil
}

// cpuBackend is the SimpleGo backend shared by every concept's Embed.
var cpuBackend = sync.OnceValues(func() (backends.Backend, error) { return backend.New(backend.CPUName) })

// errNoWeights is returned when a concept without weights is used.
var errNoWeights = errors.New("neti: concept has no weights: create it with NewConcept or LoadConcept")

// errNilConcept is returned by the methods of a nil *Concept (and by functions given one).
var errNilConcept = errors.New("neti: the concept is nil: expected one from LoadConcept, NewConcept, " +
	"Pipeline.InitConcept or TrainConcept (check the error that call returned)")

// SuperCategoryNorm returns the norm of word's row in the text encoder's token embedding table: the
// TargetNorm of a concept with super-category word (the original's norm_scale, spec §3). word must be a
// single token of the vocabulary.
func (p *Pipeline) SuperCategoryNorm(word string) (norm float64, err error) {
	defer recoverError("super-category norm", &err)
	if err := p.usable("super-category norm"); err != nil {
		return 0, err
	}
	ids := p.tokenizer.TokenIDs(word)
	if len(ids) != 1 {
		return 0, fmt.Errorf("neti: super-category %q is %d tokens (%v): expected a single-token word such as "+
			"\"object\", \"dog\" or \"toy\"", word, len(ids), ids)
	}
	id := int(ids[0])
	v := p.ctx.In("text_encoder").In("text_model").In("embeddings").In("token_embedding").InspectVariableInScope("weight")
	if v == nil {
		return 0, errors.New("neti: super-category norm: the text encoder has no token embedding table")
	}
	table, err := v.Value()
	if err != nil {
		return 0, err
	}
	dims := table.Shape().Dimensions // [vocab, D]
	if id >= dims[0] {
		return 0, fmt.Errorf("neti: super-category %q has id %d, past the %d embedded tokens: expected a word of "+
			"the base vocabulary, not an added token", word, id, dims[0])
	}
	d := dims[1]
	sum := 0.0
	err = table.ConstFlatData(func(flat any) {
		for i := id * d; i < (id+1)*d; i++ {
			x := floatAt(flat, i)
			sum += x * x
		}
	})
	return math.Sqrt(sum), err
}

// floatAt reads element i of a flat float slice of any float dtype.
func floatAt(flat any, i int) float64 {
	switch f := flat.(type) {
	case []float32:
		return float64(f[i])
	case []float64:
		return f[i]
	case []bfloat16.BFloat16:
		return float64(f[i].Float32())
	case []float16.Float16:
		return float64(f[i].Float32())
	}
	panic(fmt.Sprintf("neti: unexpected embedding table type %T", flat))
}

// InitConcept returns a new concept for this model (spec §13): the default mapper at the text encoder's
// width, its target norm from superCategory (SuperCategoryNorm), the UNet's cross-attention layer names
// and the model folder as BaseModel. The placeholder must be a new word (register it with the tokenizer
// before training); seed draws W and the initial weights.
func (p *Pipeline) InitConcept(placeholder, superCategory string, seed uint64) (*Concept, error) {
	if err := p.usable("init concept"); err != nil {
		return nil, err
	}
	if ids := p.tokenizer.TokenIDs(placeholder); placeholder == "" || len(ids) == 1 && int(ids[0]) < p.tokenizer.VocabSize() {
		return nil, fmt.Errorf("neti: placeholder %q is empty or already a word of the vocabulary: expected a new "+
			"token such as \"<my-cat>\"", placeholder)
	}
	norm, err := p.SuperCategoryNorm(superCategory)
	if err != nil {
		return nil, err
	}
	layers := p.unet.CrossAttentionLayers()
	cfg := DefaultMapperConfig(p.text.HiddenSize, norm, seed)
	cfg.NumLayers, cfg.NumTimesteps = len(layers), p.schedule.NumTrainTimesteps
	c, err := NewConcept(cfg)
	if err != nil {
		return nil, err
	}
	if c.BaseIdentity, err = p.Identity(); err != nil {
		return nil, err
	}
	c.Placeholder, c.SuperCategory, c.BaseModel = placeholder, superCategory, p.Dir
	for _, l := range layers {
		c.LayerNames = append(c.LayerNames, l.Name)
	}
	return c, nil
}

// CheckConcept checks that c was made for this model: its text encoder (the identity recorded in
// c.BaseIdentity, when the file has one), width and cross-attention layers.
func (p *Pipeline) CheckConcept(c *Concept) error {
	if err := p.fitsModel(c); err != nil {
		return err
	}
	_, err := p.checkBase(c)
	return err
}

// fitsModel checks that c was made for this model's text encoder width and cross-attention layers.
func (p *Pipeline) fitsModel(c *Concept) error {
	if err := p.usable("check concept"); err != nil {
		return err
	}
	names := make([]string, 0, 16)
	for _, l := range p.unet.CrossAttentionLayers() {
		names = append(names, l.Name)
	}
	return c.Fits(p.text.HiddenSize, names)
}
