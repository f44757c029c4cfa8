package bench

import (
	"time"

	"github.com/org/neti"
	"github.com/org/neti/toyworld"
)

// Point is one point of a fidelity curve: the mean reconstruction fidelity after Step training steps.
type Point struct {
	// Step is the number of optimizer steps trained.
	Step int `json:"step"`
	// Fidelity is the mean toyworld.Fidelity of the reconstruction prompt's images, in [0, 1].
	Fidelity float64 `json:"fidelity"`
}

// StepsToFidelity returns the first step of curve (in step order) whose fidelity is at least level, and
// false if no point reaches it.
func StepsToFidelity(curve []Point, level float64) (int, bool) {
	for _, p := range curve {
		if p.Fidelity >= level {
			return p.Step, true
		}
	}
	return 0, false
}

// PromptScore is one prompt's scores: per seed and their means.
type PromptScore struct {
	// Prompt is the prompt's text (Prompt.Text).
	Prompt string `json:"prompt"`
	// Fidelity is toyworld.Fidelity of each seed's image to the concept, in [0, 1]: [Options.Seeds].
	Fidelity []float64 `json:"fidelity"`
	// Editability is toyworld.Editability of each seed's image to the requested attributes, in [0, 1]:
	// [Options.Seeds]; absent for the reconstruction prompt.
	Editability []float64 `json:"editability,omitempty"`
	// MeanFidelity and MeanEditability are the means of Fidelity and Editability (0 for none).
	MeanFidelity    float64 `json:"mean_fidelity"`
	MeanEditability float64 `json:"mean_editability,omitempty"`
}

// Eval is the evaluation of one trained concept at one truncation.
type Eval struct {
	// Truncation is the number of hidden units kept; 0 is the full mapper.
	Truncation int `json:"truncation"`
	// Fidelity is the mean fidelity over the reconstruction prompt's images; Parts the means of its
	// components (toyworld.FidelityDetail) over the same images.
	Fidelity float64                 `json:"fidelity"`
	Parts    *toyworld.FidelityParts `json:"parts,omitempty"`
	// Editability is the mean editability over the context prompts' images.
	Editability float64 `json:"editability"`
	// ContextFidelity is the mean fidelity over the context prompts' images (the concept kept in new
	// contexts).
	ContextFidelity float64 `json:"context_fidelity"`
	// Seconds is the time the evaluation took (image generation and measurement).
	Seconds float64 `json:"seconds"`
	// Prompts holds each prompt's scores, in the order of ConceptResult.Prompts.
	Prompts []PromptScore `json:"prompts"`
	// GapClosed is the fraction of the concept's floor→ceiling gap that Fidelity closes:
	// (Fidelity − floor) / (ceiling − floor), the floor being the super-category word's fidelity
	// (ConceptResult.References); GapClosedFromWords takes the coarse words as the floor. Absent when
	// the references were not measured or the gap is not positive.
	GapClosed          *float64 `json:"gap_closed,omitempty"`
	GapClosedFromWords *float64 `json:"gap_closed_from_words,omitempty"`
}

// Reference kinds of ConceptResult.References: the concept in words at three levels
// (toyworld.Concept.ReferencePrompts) and the VAE round trip of its training images.
const (
	RefSuperCategory = "super_category"
	RefWords         = "words"
	RefDescription   = "description"
	RefCeiling       = "ceiling"
)

// ReferenceKinds lists the reference kinds in order, floor to ceiling.
var ReferenceKinds = []string{RefSuperCategory, RefWords, RefDescription, RefCeiling}

// Reference is the fidelity of a condition without training: a prompt's images (Options.Seeds seeds, the
// evaluation's sampler settings) or, for the ceiling, the concept's own training images passed through the
// model's VAE (neti.Pipeline.Reconstruct), what any generation through this VAE can at best show.
type Reference struct {
	// Prompt is the prompt's text; empty for the ceiling.
	Prompt string `json:"prompt,omitempty"`
	// Fidelity is the mean toyworld.Fidelity of the images, FidelitySE its standard error over them, Parts
	// the means of its components (toyworld.FidelityDetail).
	Fidelity   float64                 `json:"fidelity"`
	FidelitySE float64                 `json:"fidelity_se"`
	Images     int                     `json:"images"`
	Parts      *toyworld.FidelityParts `json:"parts,omitempty"`
	// Skipped says why the reference was not measured (a prompt with words the model does not know:
	// the v1 toy model has no fine words); the other fields are then zero.
	Skipped string `json:"skipped,omitempty"`
}

// MethodResult is one method trained on one concept (a "run" of bench.json).
type MethodResult struct {
	// Method is one of Methods.
	Method string `json:"method"`
	// Train are the training options the run used (before the library's defaults fill zero fields).
	Train neti.TrainOptions `json:"train"`
	// TrainSeconds is the wall time of neti.TrainConcept (loading and encoding the images, compiling, the
	// optimizer steps) without the curve's evaluations; SecondsPerStep is TrainSeconds / steps.
	TrainSeconds   float64 `json:"train_seconds"`
	SecondsPerStep float64 `json:"seconds_per_step"`
	// Curve is the reconstruction fidelity every Options.EvalEvery steps and at the last step.
	Curve []Point `json:"curve"`
	// StepsTo holds, for each of Report.Levels, the first curve step reaching that fraction of the
	// concept's reference fidelity, or null if none does.
	StepsTo []*int `json:"steps_to"`
	// Evals are the full mapper (truncation 0) and, for NeTI, each truncation.
	Evals []Eval `json:"evals"`
	// EqualTime is the run's curve point at equal wall time with the other runs of its concept: the last
	// one trained within the fastest run's TrainSeconds (counting SecondsPerStep a step, 5 % slack); absent
	// when no point falls within that budget.
	EqualTime *Point `json:"equal_time,omitempty"`
}

// ConceptResult holds the results on one concept.
type ConceptResult struct {
	// Name is the concept's folder name (Options.Concepts), SuperCategory its toy-world super-category
	// and Placeholder its token, "<Name>".
	Name          string `json:"name"`
	SuperCategory string `json:"super_category"`
	Placeholder   string `json:"placeholder"`
	// Reference is the best final reconstruction fidelity among the runs: the base of
	// Options.FidelityLevels.
	Reference float64 `json:"reference_fidelity"`
	// References are the fidelities the learned methods are measured against, by kind (ReferenceKinds);
	// absent with Options.SkipReferences.
	References map[string]Reference `json:"references,omitempty"`
	// Prompts are the evaluation prompts (Prompts): the reconstruction prompt first.
	Prompts []Prompt `json:"prompts"`
	// Runs are the methods' results, in the order of Options.Methods.
	Runs []MethodResult `json:"runs"`
	// Seconds is the wall time of the concept: every method's training and evaluations.
	Seconds float64 `json:"seconds"`
}

// Summary is one method at one truncation, averaged over the concepts: a point of the scatter plot.
type Summary struct {
	// Label is the method, with "@k" for truncation k ("neti@16").
	Label string `json:"label"`
	// Method is one of Methods; Truncation the hidden units kept (0: the full mapper).
	Method     string `json:"method"`
	Truncation int    `json:"truncation"`
	// Fidelity, Editability and ContextFidelity are the means over the concepts of Eval's, in [0, 1].
	Fidelity        float64 `json:"fidelity"`
	Editability     float64 `json:"editability"`
	ContextFidelity float64 `json:"context_fidelity"`
	// Parts are the means over the concepts of Eval.Parts (absent if a concept lacks them).
	Parts *toyworld.FidelityParts `json:"parts,omitempty"`
	// FidelitySE, EditabilitySE and ContextFidelitySE are the standard errors of those means over the
	// images they average (every concept's images pooled: sample standard deviation / √images). They count
	// the sampler's noise between evaluation seeds, not the spread between training runs (one run per
	// concept and method), so they are a lower bound on the uncertainty of a mean. Images is the number of
	// reconstruction images behind Fidelity.
	FidelitySE        float64 `json:"fidelity_se"`
	EditabilitySE     float64 `json:"editability_se"`
	ContextFidelitySE float64 `json:"context_fidelity_se"`
	Images            int     `json:"images"`
	// TrainSeconds is the mean training time per concept, in seconds.
	TrainSeconds float64 `json:"train_seconds"`
	// GapClosed and GapClosedFromWords are the means of Eval's over the concepts that have them (absent
	// when none has).
	GapClosed          *float64 `json:"gap_closed,omitempty"`
	GapClosedFromWords *float64 `json:"gap_closed_from_words,omitempty"`
	// StepsTo is, for each level, the mean of MethodResult.StepsTo over the concepts that reached it (null
	// if none did), and Reached how many did; for the full mapper only (the curve is not truncated), so
	// null and 0 for a truncation.
	StepsTo []*float64 `json:"steps_to"`
	Reached []int      `json:"reached"`
	// EqualTimeFidelity is the mean over the concepts of the fidelity at equal wall time: per concept,
	// the curve point at the last step trained within the fastest run's TrainSeconds (step × SecondsPerStep,
	// 5 % slack for timing noise);
	// EqualTimeStep is the mean of those steps. For the full mapper only; absent when no concept has such
	// a point. Curve points are the reconstruction prompt's images, like Fidelity.
	EqualTimeFidelity *float64 `json:"equal_time_fidelity,omitempty"`
	EqualTimeStep     *float64 `json:"equal_time_step,omitempty"`
}

// Report is Run's result, JSON-serialisable: the bench.json that "neti bench" writes.
type Report struct {
	// Options are the run's options, defaults applied.
	Options Options `json:"options"`
	// Model is the pipeline's folder, Backend its backend, Machine the OS, architecture, CPU count and Go
	// version.
	Model   string `json:"model"`
	Backend string `json:"backend"`
	Machine string `json:"machine"`
	// Started is when the run began; Seconds its total wall time.
	Started time.Time `json:"started"`
	Seconds float64   `json:"seconds"`
	// Levels are the fidelity fractions of StepsTo (Options.FidelityLevels).
	Levels []float64 `json:"levels"`
	// Concepts are the per-concept results, in the order of Options.Concepts.
	Concepts []ConceptResult `json:"concepts"`
	// Summary holds each method and truncation averaged over the concepts, in the order of Options.Methods
	// then truncations.
	Summary []Summary `json:"summary"`
	// References holds each reference kind averaged over the concepts that measured it: Fidelity the mean
	// of the concepts' means, FidelitySE the standard error over every image pooled, Images their count.
	References map[string]Reference `json:"references,omitempty"`
}

// Progress is what Run's progress callback receives.
type Progress struct {
	// Concept and Method name the run; Run counts the runs from 1 to Runs.
	Concept, Method string
	Run, Runs       int
	// Phase is "train" (Step of Total optimizer steps) or "eval" (Step of Total images).
	Phase       string
	Step, Total int
}
