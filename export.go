package neti

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/org/neti/internal/history"
	"github.com/org/neti/internal/safetensors"
)

// Exporting a concept as a standard textual-inversion embedding: NeTI's conditioning depends on (t, ℓ),
// which other tools cannot use, so the export averages the mapper's word outputs over the sampler's
// timesteps and the cross-attention layers into one vector. The bypass, and all time and layer
// dependence, are lost: the file is an approximation for tools that only read single-vector embeddings.

// ExportFormat names an embedding file format, the value of ExportOptions.Format: FormatDiffusers (the
// default, "" meaning it) or FormatA1111 (EmbeddingFormats).
type ExportFormat string

// Embedding file formats written by ExportConcept.
const (
	// FormatDiffusers is diffusers' learned_embeds.safetensors: one tensor [D] named by the placeholder
	// (what textual_inversion.py saves and TextualInversionLoaderMixin.load_textual_inversion reads).
	FormatDiffusers ExportFormat = "diffusers"
	// FormatA1111 is the single-tensor embedding of AUTOMATIC1111's web UI (and kohya's sd-scripts):
	// "emb_params" [1, D], the prompt word being the file's name (metadata "name" records it too).
	FormatA1111 ExportFormat = "a1111"
)

// EmbeddingFormats lists the formats ExportOptions.Format accepts.
var EmbeddingFormats = []ExportFormat{FormatDiffusers, FormatA1111}

// ExportOptions configures ExportEmbedding and ExportConcept. The zero value averages over the 50
// DPM-Solver timesteps and all layers at the concept's truncation, in the diffusers format.
type ExportOptions struct {
	// Format is FormatDiffusers (default) or FormatA1111.
	Format ExportFormat
	// Steps is the number of inference steps whose timesteps are averaged over: those of a Steps-step
	// DPM-Solver run over the concept's NumTimesteps (999, 979, ..., 20 for 50 steps of 1000). Default 50;
	// ignored with Timesteps.
	Steps int
	// Timesteps, if set, are the timesteps averaged over (each 0..NumTimesteps-1).
	Timesteps []int
	// Layers are the cross-attention layers averaged over (each 0..NumLayers-1). Default all.
	Layers []int
	// Truncation is the nested-dropout truncation, 1..Hidden. Default 0: the concept's Truncation.
	Truncation int
}

// inferenceTimesteps returns the timesteps of a steps-step run of DPM-Solver (and DDIM) with diffusers'
// "linspace" spacing over numTrain training timesteps, as Stable Diffusion 1.x/2.x configure it
// (spec §2.2): round((numTrain-1)·j/steps) for j = steps..1, ties to even (numpy's round). For 1000 and 50:
// 999, 979, 959, ..., 519, 500, 480, ..., 20.
func inferenceTimesteps(numTrain, steps int) []int {
	out := make([]int, steps)
	for i := range out {
		j := steps - i
		out[i] = int(math.RoundToEven(float64(numTrain-1) * float64(j) / float64(steps)))
	}
	return out
}

// resolved applies the defaults of opts for concept c and checks the ranges.
func (o ExportOptions) resolved(c *Concept) (ExportOptions, error) {
	cfg := c.Mapper
	if o.Format == "" {
		o.Format = FormatDiffusers
	}
	if !slices.Contains(EmbeddingFormats, o.Format) {
		return o, fmt.Errorf("neti: ExportOptions.Format is %q: expected %s", o.Format, quotedOr(enumNames(EmbeddingFormats)))
	}
	if o.Steps == 0 {
		o.Steps = 50
	}
	if len(o.Timesteps) == 0 {
		if o.Steps < 1 || o.Steps > cfg.NumTimesteps {
			return o, fmt.Errorf("neti: ExportOptions.Steps is %d: expected 1..%d", o.Steps, cfg.NumTimesteps)
		}
		o.Timesteps = inferenceTimesteps(cfg.NumTimesteps, o.Steps)
	}
	if len(o.Layers) == 0 {
		o.Layers = make([]int, cfg.NumLayers)
		for l := range o.Layers {
			o.Layers[l] = l
		}
	}
	for _, t := range o.Timesteps {
		if t < 0 || t >= cfg.NumTimesteps {
			return o, fmt.Errorf("neti: ExportOptions.Timesteps has %d: expected 0..%d", t, cfg.NumTimesteps-1)
		}
	}
	for _, l := range o.Layers {
		if l < 0 || l >= cfg.NumLayers {
			return o, fmt.Errorf("neti: ExportOptions.Layers has %d: expected 0..%d", l, cfg.NumLayers-1)
		}
	}
	switch {
	case o.Truncation == 0:
		o.Truncation = c.Truncation
	case o.Truncation < 1 || o.Truncation > cfg.Hidden:
		return o, fmt.Errorf("neti: ExportOptions.Truncation is %d: expected 1..%d, or 0 for the concept's %d",
			o.Truncation, cfg.Hidden, c.Truncation)
	}
	return o, nil
}

// ExportEmbedding returns the concept's single-vector approximation [TextWidth]: the mean of the mapper's
// word outputs Embed(t, ℓ) over opts' timesteps × layers at opts' truncation (computed in float64).
func ExportEmbedding(c *Concept, opts ExportOptions) ([]float32, error) {
	if c == nil {
		return nil, fmt.Errorf("neti: export: %w", errNilConcept)
	}
	opts, err := opts.resolved(c)
	if err != nil {
		return nil, err
	}
	var ts, ls []int
	for _, t := range opts.Timesteps {
		for _, l := range opts.Layers {
			ts, ls = append(ts, t), append(ls, l)
		}
	}
	words, _, err := c.EmbedBatch(ts, ls, opts.Truncation) // [N·D]
	if err != nil {
		return nil, err
	}
	d := c.Mapper.TextWidth
	sum := make([]float64, d)
	for r := range ts {
		for i, v := range words[r*d : (r+1)*d] {
			sum[i] += float64(v)
		}
	}
	out := make([]float32, d)
	for i, s := range sum {
		out[i] = float32(s / float64(len(ts)))
	}
	return out, nil
}

// ExportConcept writes the concept's single-vector embedding (ExportEmbedding) to path as a safetensors
// file in opts.Format, float32, with metadata naming the token and how the vector was made. A file already at
// path is kept as path + ".prevN" (the next free N) before it is replaced.
func ExportConcept(path string, c *Concept, opts ExportOptions) error {
	vec, err := ExportEmbedding(c, opts)
	if err != nil {
		return fmt.Errorf("neti: export %s: %w", path, err)
	}
	opts, _ = opts.resolved(c)
	meta := map[string]string{
		"format":         "pt", // the safetensors convention for PyTorch-made files
		"name":           c.Placeholder,
		"neti_method":    conceptMethod,
		"super_category": c.SuperCategory,
		"base_model":     c.BaseModel,
		"truncation":     strconv.Itoa(opts.Truncation),
		"timesteps":      joinInts(opts.Timesteps),
		"layers":         joinInts(opts.Layers),
	}
	var ts map[string]*tensors.Tensor
	switch opts.Format {
	case FormatA1111:
		ts = map[string]*tensors.Tensor{"emb_params": tensors.FromFlatDataAndDimensions(vec, 1, len(vec))}
	default:
		ts = map[string]*tensors.Tensor{c.Placeholder: tensors.FromFlatDataAndDimensions(vec, len(vec))}
	}
	if _, err := history.Keep(path, false); err != nil {
		return fmt.Errorf("neti: export %s: keeping the file it would replace: %w", path, err)
	}
	if err := safetensors.Write(path, ts, meta); err != nil {
		return fmt.Errorf("neti: export %s: %w", path, err)
	}
	return nil
}

// joinInts formats xs as "1,2,3".
func joinInts(xs []int) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = strconv.Itoa(x)
	}
	return strings.Join(parts, ",")
}
