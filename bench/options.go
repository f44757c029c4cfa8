package bench

import (
	"fmt"
	"slices"
	"strings"

	"github.com/org/neti"
	"github.com/org/neti/toyworld"
)

// Methods of Options.Methods: the training methods of neti.TrainOptions.Method under their neti names,
// NeTI also without its textual bypass (the paper's ablation).
const (
	NeTI         = string(neti.MethodNeTI)
	NeTINoBypass = "neti-nobypass"
	PPlus        = string(neti.MethodPPlus)
	TI           = string(neti.MethodTI)
)

// Methods lists the accepted values of Options.Methods, in the default order.
var Methods = []string{NeTI, NeTINoBypass, PPlus, TI}

// Options configures Run. Zero fields take the documented defaults. The JSON names are those of
// bench.json.
type Options struct {
	// Concepts are folder names under the examples folder, each holding a toy-world concept.json (as
	// written by toyworld.WriteConcepts) and the training images. Default: every toyworld.Concepts name.
	Concepts []string `json:"concepts"`
	// Methods are the compared methods (Methods). Default all four.
	Methods []string `json:"methods"`
	// Truncations are the nested-dropout truncations (hidden units kept) at which NeTI (method "neti"
	// only; the others have no importance ordering) is evaluated besides the full mapper, each in
	// 1..Mapper.Hidden. Default 4, 16, 64. An empty non-nil slice evaluates the full mapper only.
	Truncations []int `json:"truncations"`
	// Steps is the number of training steps of every run. Default neti.ToyPreset's MaxTrainSteps (200).
	Steps int `json:"steps"`
	// EvalEvery is the period, in training steps, of the fidelity curve (reconstruction prompts only),
	// from which the steps needed to reach each FidelityLevels fraction are read. The final step is always
	// a point. Default 50.
	EvalEvery int `json:"eval_every"`
	// ContextPrompts is the number of editability prompts per concept: the concept in contexts it was not
	// trained in (see Prompts). Default 4.
	ContextPrompts int `json:"context_prompts"`
	// Seeds is the number of images per prompt; image j uses seed Seed+j. Default 4.
	Seeds int `json:"seeds"`
	// SkipReferences leaves out each concept's reference fidelities (ConceptResult.References: the
	// super-category word, the coarse words, the full description and the VAE round trip), which cost
	// three prompts' images per concept and no training. Default false: measured.
	SkipReferences bool `json:"skip_references,omitempty"`
	// SampleSteps is the number of denoising steps of each evaluation image (DPM-Solver++(2M)). Default 20.
	SampleSteps int `json:"sample_steps"`
	// GuidanceScale is the classifier-free guidance of every evaluation image, the references' included
	// (neti.GenerateOptions.GuidanceScale; 1 disables guidance). Default 7.5, Stable Diffusion's.
	GuidanceScale float64 `json:"guidance_scale,omitempty"`
	// GuidanceRescale is the guidance rescale φ of every evaluation image, the references' included
	// (neti.GenerateOptions.GuidanceRescale, in [0, 1]). Default 0: plain guidance.
	GuidanceRescale float64 `json:"guidance_rescale,omitempty"`
	// FidelityLevels are fractions of a concept's reference fidelity (the best final reconstruction
	// fidelity among the benchmarked methods on that concept); MethodResult.StepsTo reports the first
	// curve step at which a run reaches each. Default 0.5, 0.7, 0.9.
	FidelityLevels []float64 `json:"fidelity_levels"`
	// Seed is the training seed of every run (same data order, timesteps and noise for every method) and
	// the first evaluation seed.
	Seed uint64 `json:"seed"`
	// Train, if set, adjusts the training options of every run (e.g. Resolution, BatchSize), after
	// neti.ToyPreset, the method and Seed are filled in; the bench then sets MaxTrainSteps to Steps and its
	// own Placeholder, SuperCategory, validation, checkpoint and output fields.
	Train func(o *neti.TrainOptions) `json:"-"`
}

// withDefaults fills the zero fields of o.
func (o Options) withDefaults() Options {
	if o.Concepts == nil {
		for _, c := range toyworld.Concepts() {
			o.Concepts = append(o.Concepts, c.Name)
		}
	}
	if o.Methods == nil {
		o.Methods = slices.Clone(Methods)
	}
	if o.Truncations == nil {
		o.Truncations = []int{4, 16, 64}
	}
	if o.Steps == 0 {
		o.Steps = neti.ToyPreset().MaxTrainSteps
	}
	if o.EvalEvery == 0 {
		o.EvalEvery = 50
	}
	if o.ContextPrompts == 0 {
		o.ContextPrompts = 4
	}
	if o.Seeds == 0 {
		o.Seeds = 4
	}
	if o.SampleSteps == 0 {
		o.SampleSteps = 20
	}
	if o.GuidanceScale == 0 {
		o.GuidanceScale = 7.5
	}
	if o.FidelityLevels == nil {
		o.FidelityLevels = []float64{0.5, 0.7, 0.9}
	}
	return o
}

// validate checks the options once defaults are applied.
func (o Options) validate() error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("bench: Options."+format, args...)
	}
	if len(o.Concepts) == 0 {
		return fail("Concepts is empty: expected at least one concept folder name, such as %q", "tealstar")
	}
	for i, c := range o.Concepts {
		if c == "" || strings.ContainsAny(c, `/\ `) || slices.Contains(o.Concepts[:i], c) {
			return fail("Concepts holds %q: expected distinct folder names without separators or spaces", c)
		}
	}
	if len(o.Methods) == 0 {
		return fail("Methods is empty: expected some of %s", strings.Join(Methods, ", "))
	}
	for i, m := range o.Methods {
		if !slices.Contains(Methods, m) || slices.Contains(o.Methods[:i], m) {
			return fail("Methods holds %q: expected distinct values among %s", m, strings.Join(Methods, ", "))
		}
	}
	for i, t := range o.Truncations {
		if t < 1 || slices.Contains(o.Truncations[:i], t) {
			return fail("Truncations holds %d: expected distinct numbers of hidden units kept, at least 1", t)
		}
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"Steps", o.Steps}, {"EvalEvery", o.EvalEvery}, {"ContextPrompts", o.ContextPrompts}, {"Seeds", o.Seeds},
		{"SampleSteps", o.SampleSteps}} {
		if f.v < 1 {
			return fail("%s is %d: expected at least 1", f.name, f.v)
		}
	}
	if err := (neti.GenerateOptions{GuidanceScale: o.GuidanceScale, GuidanceRescale: o.GuidanceRescale}).Validate(); err != nil { // the library's rule
		return fail("GuidanceScale is %g and GuidanceRescale %g, the evaluation images' guidance: %w", o.GuidanceScale, o.GuidanceRescale, err)
	}
	for _, l := range o.FidelityLevels {
		if !(l > 0 && l <= 1) {
			return fail("FidelityLevels holds %g: expected fractions in (0, 1]", l)
		}
	}
	return nil
}
