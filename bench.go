package neti

import (
	stdcontext "context"
	"encoding/json"
	"fmt"
	"image"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/org/neti/toyworld"
)

// Benchmark methods of BenchOptions.Methods: the training methods of TrainOptions.Method, NeTI also
// without its textual bypass (the paper's ablation).
const (
	BenchNeTI         = "neti"
	BenchNeTINoBypass = "neti-nobypass"
	BenchPPlus        = "pplus"
	BenchTI           = "ti"
)

// BenchMethods lists the accepted values of BenchOptions.Methods, in the default order.
var BenchMethods = []string{BenchNeTI, BenchNeTINoBypass, BenchPPlus, BenchTI}

// BenchOptions configures RunBench. Zero fields take the documented defaults.
type BenchOptions struct {
	// Concepts are folder names under the examples folder, each holding a toy-world concept.json (as
	// written by toyworld.WriteConcepts) and the training images. Default: every toyworld.Concepts name.
	Concepts []string `json:"concepts"`
	// Methods are the compared methods (BenchMethods). Default all four.
	Methods []string `json:"methods"`
	// Truncations are the nested-dropout truncations at which NeTI (method "neti" only; the others have no
	// importance ordering) is evaluated besides the full mapper, each in 1..Mapper.Hidden. Default 4, 16,
	// 64. An empty non-nil slice evaluates the full mapper only.
	Truncations []int `json:"truncations"`
	// Steps is the number of training steps of every run. Default ToyPreset's MaxTrainSteps (200).
	Steps int `json:"steps"`
	// EvalEvery is the period, in training steps, of the fidelity curve (reconstruction prompts only),
	// from which the steps needed to reach each FidelityLevels fraction are read. The final step is always
	// a point. Default 50.
	EvalEvery int `json:"eval_every"`
	// ContextPrompts is the number of editability prompts per concept: the concept in contexts it was not
	// trained in (see BenchPrompts). Default 4.
	ContextPrompts int `json:"context_prompts"`
	// Seeds is the number of images per prompt; image j uses seed Seed+j. Default 4.
	Seeds int `json:"seeds"`
	// SampleSteps is the number of denoising steps of each evaluation image (DPM-Solver++(2M), guidance
	// 7.5). Default 20.
	SampleSteps int `json:"sample_steps"`
	// FidelityLevels are fractions of a concept's reference fidelity (the best final reconstruction
	// fidelity among the benchmarked methods on that concept); StepsTo reports the first curve step at which
	// a run reaches each. Default 0.5, 0.7, 0.9.
	FidelityLevels []float64 `json:"fidelity_levels"`
	// Seed is the training seed of every run (same data order, timesteps and noise for every method) and
	// the first evaluation seed.
	Seed uint64 `json:"seed"`
	// Train, if set, adjusts the training options of every run (e.g. Resolution, BatchSize), after
	// ToyPreset, the method and Seed are filled in; the bench then sets MaxTrainSteps to Steps and its own
	// Placeholder, SuperCategory, validation, checkpoint and output fields.
	Train func(o *TrainOptions) `json:"-"`
}

// withDefaults fills the zero fields of o.
func (o BenchOptions) withDefaults() BenchOptions {
	if o.Concepts == nil {
		for _, c := range toyworld.Concepts() {
			o.Concepts = append(o.Concepts, c.Name)
		}
	}
	if o.Methods == nil {
		o.Methods = slices.Clone(BenchMethods)
	}
	if o.Truncations == nil {
		o.Truncations = []int{4, 16, 64}
	}
	if o.Steps == 0 {
		o.Steps = ToyPreset().MaxTrainSteps
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
	if o.FidelityLevels == nil {
		o.FidelityLevels = []float64{0.5, 0.7, 0.9}
	}
	return o
}

// validate checks the options once defaults are applied.
func (o BenchOptions) validate() error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("neti: bench: BenchOptions."+format, args...)
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
		return fail("Methods is empty: expected some of %s", strings.Join(BenchMethods, ", "))
	}
	for i, m := range o.Methods {
		if !slices.Contains(BenchMethods, m) || slices.Contains(o.Methods[:i], m) {
			return fail("Methods holds %q: expected distinct values among %s", m, strings.Join(BenchMethods, ", "))
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
	for _, l := range o.FidelityLevels {
		if !(l > 0 && l <= 1) {
			return fail("FidelityLevels holds %g: expected fractions in (0, 1]", l)
		}
	}
	return nil
}

// BenchPrompt is one evaluation prompt of a concept.
type BenchPrompt struct {
	// Text is the prompt, with the concept's placeholder ("<tealstar>").
	Text string `json:"text"`
	// Reconstruction marks the reconstruction prompt ("a <c>"), scored by fidelity; the others are context
	// prompts, scored by editability (and fidelity in context).
	Reconstruction bool `json:"reconstruction,omitempty"`
	// Requested are the coarse attributes the prompt asks for (size, position, background), the ones
	// toyworld.Editability checks; none for the reconstruction prompt.
	Requested toyworld.Attributes `json:"requested"`
}

// BenchPrompts returns the evaluation prompts of a concept: "a <placeholder>" for reconstruction, then n
// context prompts that put the concept in contexts absent from its training images: a background none of
// them has (nor the object's colour), the sizes and positions least used in training first, asking for
// the background alone, with a size, with a position, then with both, in turn. Phrasings come from
// toyworld.Describe, seeded by the prompt's index.
func BenchPrompts(c toyworld.Concept, placeholder string, n int) []BenchPrompt {
	out := []BenchPrompt{{Text: "a " + placeholder, Reconstruction: true}}
	var bgs []string
	for _, col := range toyworld.Colors {
		used := col == c.Scene.Color
		for _, a := range c.Contexts {
			used = used || a.Background == col
		}
		if !used {
			bgs = append(bgs, col)
		}
	}
	if len(bgs) == 0 { // every colour seen: any background but the object's
		for _, col := range toyworld.Colors {
			if col != c.Scene.Color {
				bgs = append(bgs, col)
			}
		}
	}
	sizes := leastUsedFirst(toyworld.Sizes, c.Contexts, func(a toyworld.Attributes) string { return a.Size })
	positions := leastUsedFirst(toyworld.Positions, c.Contexts, func(a toyworld.Attributes) string { return a.Position })
	for j := range n {
		req := toyworld.Attributes{Background: bgs[j%len(bgs)]}
		if j%4 == 1 || j%4 == 3 {
			req.Size = sizes[(j/2)%len(sizes)]
		}
		if j%4 >= 2 {
			req.Position = positions[(j/2)%len(positions)]
		}
		phrase := req
		phrase.Shape = placeholder
		text := toyworld.Describe(phrase, rand.New(rand.NewPCG(uint64(j), 0x62656e6368))) // "bench"
		out = append(out, BenchPrompt{Text: text, Requested: req})
	}
	return out
}

// leastUsedFirst orders values by how often field(context) takes them (stable: ties keep values' order).
func leastUsedFirst(values []string, contexts []toyworld.Attributes, field func(toyworld.Attributes) string) []string {
	count := make(map[string]int)
	for _, a := range contexts {
		count[field(a)]++
	}
	out := slices.Clone(values)
	slices.SortStableFunc(out, func(a, b string) int { return count[a] - count[b] })
	return out
}

// BenchPoint is one point of a fidelity curve: the mean reconstruction fidelity after Step training steps.
type BenchPoint struct {
	Step     int     `json:"step"`
	Fidelity float64 `json:"fidelity"`
}

// StepsToFidelity returns the first step of curve (in step order) whose fidelity is at least level, and
// false if no point reaches it.
func StepsToFidelity(curve []BenchPoint, level float64) (int, bool) {
	for _, p := range curve {
		if p.Fidelity >= level {
			return p.Step, true
		}
	}
	return 0, false
}

// BenchPromptScore is one prompt's scores: per seed and their means.
type BenchPromptScore struct {
	Prompt string `json:"prompt"`
	// Fidelity is toyworld.Fidelity of each seed's image to the concept, in [0, 1].
	Fidelity []float64 `json:"fidelity"`
	// Editability is toyworld.Editability of each seed's image to the requested attributes, in [0, 1];
	// absent for the reconstruction prompt.
	Editability     []float64 `json:"editability,omitempty"`
	MeanFidelity    float64   `json:"mean_fidelity"`
	MeanEditability float64   `json:"mean_editability,omitempty"`
}

// BenchEval is the evaluation of one trained concept at one truncation.
type BenchEval struct {
	// Truncation is the number of hidden units kept; 0 is the full mapper.
	Truncation int `json:"truncation"`
	// Fidelity is the mean fidelity over the reconstruction prompt's images.
	Fidelity float64 `json:"fidelity"`
	// Editability is the mean editability over the context prompts' images.
	Editability float64 `json:"editability"`
	// ContextFidelity is the mean fidelity over the context prompts' images (the concept kept in new
	// contexts).
	ContextFidelity float64 `json:"context_fidelity"`
	// Seconds is the time the evaluation took (image generation and measurement).
	Seconds float64 `json:"seconds"`
	// Prompts holds each prompt's scores, in the order of BenchConcept.Prompts.
	Prompts []BenchPromptScore `json:"prompts"`
}

// BenchRun is one method trained on one concept.
type BenchRun struct {
	Method string `json:"method"`
	// TrainSeconds is the wall time of TrainConcept (loading and encoding the images, compiling, the
	// optimizer steps) without the curve's evaluations; SecondsPerStep is TrainSeconds / steps.
	TrainSeconds   float64 `json:"train_seconds"`
	SecondsPerStep float64 `json:"seconds_per_step"`
	// Curve is the reconstruction fidelity every EvalEvery steps and at the last step.
	Curve []BenchPoint `json:"curve"`
	// StepsTo holds, for each of BenchReport.Levels, the first curve step reaching that fraction of the
	// concept's reference fidelity, or null if none does.
	StepsTo []*int `json:"steps_to"`
	// Evals are the full mapper (truncation 0) and, for NeTI, each truncation.
	Evals []BenchEval `json:"evals"`
}

// BenchConcept holds the results on one concept.
type BenchConcept struct {
	Name          string `json:"name"`
	SuperCategory string `json:"super_category"`
	Placeholder   string `json:"placeholder"`
	// Reference is the best final reconstruction fidelity among the runs: the base of FidelityLevels.
	Reference float64       `json:"reference_fidelity"`
	Prompts   []BenchPrompt `json:"prompts"`
	Runs      []BenchRun    `json:"runs"`
	// Seconds is the wall time of the concept: every method's training and evaluations.
	Seconds float64 `json:"seconds"`
}

// BenchSummary is one method at one truncation, averaged over the concepts: a point of the scatter plot.
type BenchSummary struct {
	// Label is the method, with "@k" for truncation k ("neti@16").
	Label           string  `json:"label"`
	Method          string  `json:"method"`
	Truncation      int     `json:"truncation"`
	Fidelity        float64 `json:"fidelity"`
	Editability     float64 `json:"editability"`
	ContextFidelity float64 `json:"context_fidelity"`
	// FidelitySE, EditabilitySE and ContextFidelitySE are the standard errors of those means over the
	// images they average (every concept's images pooled: sample standard deviation / √images). They count
	// the sampler's noise between evaluation seeds, not the spread between training runs (one run per
	// concept and method), so they are a lower bound on the uncertainty of a mean. Images is the number of
	// reconstruction images behind Fidelity.
	FidelitySE        float64 `json:"fidelity_se"`
	EditabilitySE     float64 `json:"editability_se"`
	ContextFidelitySE float64 `json:"context_fidelity_se"`
	Images            int     `json:"images"`
	// TrainSeconds is the mean training time per concept.
	TrainSeconds float64 `json:"train_seconds"`
	// StepsTo is, for each level, the mean of BenchRun.StepsTo over the concepts that reached it (null if
	// none did), and Reached how many did; for the full mapper only (the curve is not truncated), so null
	// and 0 for a truncation.
	StepsTo []*float64 `json:"steps_to"`
	Reached []int      `json:"reached"`
}

// BenchReport is RunBench's result, JSON-serialisable.
type BenchReport struct {
	Options BenchOptions `json:"options"`
	// Model is the pipeline's folder, Backend its backend, Machine the OS, architecture, CPU count and Go
	// version.
	Model   string `json:"model"`
	Backend string `json:"backend"`
	Machine string `json:"machine"`
	// Started is when the run began; Seconds its total wall time.
	Started time.Time `json:"started"`
	Seconds float64   `json:"seconds"`
	// Levels are the fidelity fractions of StepsTo (Options.FidelityLevels).
	Levels   []float64      `json:"levels"`
	Concepts []BenchConcept `json:"concepts"`
	Summary  []BenchSummary `json:"summary"`
}

// BenchProgress is what RunBench's progress callback receives.
type BenchProgress struct {
	// Concept and Method name the run; Run counts the runs from 1 to Runs.
	Concept, Method string
	Run, Runs       int
	// Phase is "train" (Step of Total optimizer steps) or "eval" (Step of Total images).
	Phase       string
	Step, Total int
}

// RunBench trains every method on every concept with the same data, steps and seed, and measures the
// results with the toy world's fidelity and editability (toyworld.Fidelity, toyworld.Editability) on the
// images of BenchPrompts, Seeds seeds each: along training (the reconstruction prompt every EvalEvery
// steps, for the steps needed to reach a fidelity level) and at the end (every prompt, at each truncation
// for NeTI). examplesDir holds one folder per concept (see BenchOptions.Concepts). progress may be nil.
// Nothing is written to disk; the Pipeline's tokenizer keeps the placeholders ("<name>") registered.
func RunBench(ctx stdcontext.Context, p *Pipeline, examplesDir string, opts BenchOptions, progress func(BenchProgress)) (report *BenchReport, err error) {
	defer recoverError("bench", &err)
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if progress == nil {
		progress = func(BenchProgress) {}
	}
	concepts := make([]toyworld.Concept, len(opts.Concepts))
	for i, name := range opts.Concepts {
		if concepts[i], err = loadBenchConcept(examplesDir, name); err != nil {
			return nil, err
		}
	}
	if err := p.usable("bench"); err != nil { // after the options and concepts, which need no model
		return nil, err
	}
	report = &BenchReport{Options: opts, Model: p.Dir, Backend: p.Backend(), Started: time.Now().UTC(),
		Machine: fmt.Sprintf("%s/%s, %d CPUs, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version()),
		Levels:  opts.FidelityLevels}
	b := &bencher{p: p, opts: opts, progress: progress, runs: len(concepts) * len(opts.Methods)}
	for i, c := range concepts {
		bc, err := b.concept(ctx, c, filepath.Join(examplesDir, opts.Concepts[i]))
		if err != nil {
			return nil, err
		}
		report.Concepts = append(report.Concepts, bc)
	}
	report.Summary = summarize(report.Concepts, opts.Methods, len(opts.FidelityLevels))
	report.Seconds = time.Since(report.Started).Seconds()
	return report, nil
}

// loadBenchConcept reads dir/name/concept.json (toyworld.ConceptFile).
func loadBenchConcept(dir, name string) (toyworld.Concept, error) {
	path := filepath.Join(dir, name, "concept.json")
	data, err := os.ReadFile(path)
	if err != nil {
		return toyworld.Concept{}, fmt.Errorf("neti: bench: concept %q: %w (expected a folder written by "+
			"\"neti toyworld concepts\")", name, err)
	}
	var f toyworld.ConceptFile
	if err := json.Unmarshal(data, &f); err != nil {
		return toyworld.Concept{}, fmt.Errorf("neti: bench: %s: %w", path, err)
	}
	if f.Scene.Shape == "" || f.SuperCategory == "" {
		return toyworld.Concept{}, fmt.Errorf("neti: bench: %s has no scene or super_category: expected a toyworld "+
			"concept file (\"neti toyworld concepts\" writes them)", path)
	}
	return f.Concept, nil
}

// bencher carries RunBench's state across runs.
type bencher struct {
	p        *Pipeline
	opts     BenchOptions
	progress func(BenchProgress)
	run      int // runs started
	runs     int
}

// concept trains and evaluates every method on one concept, then reads the steps to each fidelity level.
func (b *bencher) concept(ctx stdcontext.Context, c toyworld.Concept, dir string) (BenchConcept, error) {
	start := time.Now()
	placeholder := "<" + c.Name + ">"
	bc := BenchConcept{Name: c.Name, SuperCategory: c.SuperCategory, Placeholder: placeholder,
		Prompts: BenchPrompts(c, placeholder, b.opts.ContextPrompts)}
	for _, method := range b.opts.Methods {
		r, err := b.method(ctx, c, dir, bc.Prompts, method)
		if err != nil {
			return bc, err
		}
		bc.Runs = append(bc.Runs, r)
		bc.Reference = max(bc.Reference, r.Curve[len(r.Curve)-1].Fidelity)
	}
	for i := range bc.Runs {
		bc.Runs[i].StepsTo = make([]*int, len(b.opts.FidelityLevels))
		if bc.Reference <= 0 {
			continue // nothing reached any fidelity: no level is defined
		}
		for k, level := range b.opts.FidelityLevels {
			if s, ok := StepsToFidelity(bc.Runs[i].Curve, level*bc.Reference); ok {
				bc.Runs[i].StepsTo[k] = &s
			}
		}
	}
	bc.Seconds = time.Since(start).Seconds()
	return bc, nil
}

// method trains one method on one concept, recording the fidelity curve, then evaluates the result.
func (b *bencher) method(ctx stdcontext.Context, c toyworld.Concept, dir string, prompts []BenchPrompt, method string) (BenchRun, error) {
	b.run++
	run := BenchRun{Method: method}
	o := benchTrainOptions(b.opts, c, method)
	recon := prompts[:1]
	var evalTime time.Duration
	o.OnValidate = func(step int, snap *Concept, _ []*image.RGBA) error {
		if step == b.opts.Steps {
			return nil // the final evaluation gives the last point
		}
		start := time.Now()
		e, err := b.evaluate(ctx, c, snap, recon, 0, method)
		evalTime += time.Since(start)
		run.Curve = append(run.Curve, BenchPoint{Step: step, Fidelity: e.Fidelity})
		return err
	}
	o.OnStep = func(pr TrainProgress) {
		b.progress(BenchProgress{Concept: c.Name, Method: method, Run: b.run, Runs: b.runs, Phase: "train",
			Step: pr.Step, Total: pr.Total})
	}
	start := time.Now()
	concept, err := TrainConcept(ctx, b.p, []string{dir}, o)
	if err != nil {
		return run, fmt.Errorf("neti: bench: %s on %s: %w", method, c.Name, err)
	}
	run.TrainSeconds = (time.Since(start) - evalTime).Seconds()
	run.SecondsPerStep = run.TrainSeconds / float64(b.opts.Steps)

	truncations := []int{0}
	if method == BenchNeTI {
		truncations = append(truncations, b.opts.Truncations...)
	}
	for _, tr := range truncations {
		if tr > concept.Mapper.Hidden {
			return run, fmt.Errorf("neti: bench: BenchOptions.Truncations holds %d: the mapper has %d hidden units",
				tr, concept.Mapper.Hidden)
		}
		e, err := b.evaluate(ctx, c, concept, prompts, tr, method)
		if err != nil {
			return run, err
		}
		if tr == 0 {
			run.Curve = append(run.Curve, BenchPoint{Step: b.opts.Steps, Fidelity: e.Fidelity})
		}
		run.Evals = append(run.Evals, e)
	}
	return run, nil
}

// benchTrainOptions are the training options of one run: ToyPreset with the method, opts.Steps and
// opts.Seed, adjusted by opts.Train, writing nothing, with a validation every opts.EvalEvery steps that
// generates nothing (no prompts): OnValidate then only hands over the concept's snapshot.
func benchTrainOptions(opts BenchOptions, c toyworld.Concept, method string) TrainOptions {
	o := ToyPreset()
	o.Method, o.Seed = method, opts.Seed
	if method == BenchNeTINoBypass {
		o.Method, o.NoBypass = MethodNeTI, true
	}
	if opts.Train != nil {
		opts.Train(&o)
	}
	o.Placeholder, o.SuperCategory, o.MaxTrainSteps = "<"+c.Name+">", c.SuperCategory, opts.Steps
	o.OutputDir, o.ResumeFrom, o.CheckpointEvery = "", "", -1
	o.ValidateEvery, o.ValidationPrompts, o.ValidationSeeds = opts.EvalEvery, []string{}, []uint64{opts.Seed}
	return o
}

// evaluate generates Seeds images of each prompt with the concept at a truncation (0: full) and scores
// them.
func (b *bencher) evaluate(ctx stdcontext.Context, c toyworld.Concept, concept *Concept, prompts []BenchPrompt, truncation int, method string) (BenchEval, error) {
	start := time.Now()
	e := BenchEval{Truncation: truncation}
	total, done := len(prompts)*b.opts.Seeds, 0
	var recon, ctxFid, edit []float64
	for _, pr := range prompts {
		score := BenchPromptScore{Prompt: pr.Text}
		for j := range b.opts.Seeds {
			imgs, err := b.p.Generate(ctx, pr.Text, GenerateOptions{Steps: b.opts.SampleSteps, Seed: b.opts.Seed + uint64(j),
				Concepts: []*Concept{concept}, Truncation: truncation})
			if err != nil {
				return e, fmt.Errorf("neti: bench: %s on %s, prompt %q: %w", method, c.Name, pr.Text, err)
			}
			score.Fidelity = append(score.Fidelity, toyworld.Fidelity(imgs[0], c))
			if !pr.Reconstruction {
				score.Editability = append(score.Editability, toyworld.Editability(imgs[0], pr.Requested))
			}
			done++
			b.progress(BenchProgress{Concept: c.Name, Method: method, Run: b.run, Runs: b.runs, Phase: "eval",
				Step: done, Total: total})
		}
		score.MeanFidelity, score.MeanEditability = mean(score.Fidelity), mean(score.Editability)
		if pr.Reconstruction {
			recon = append(recon, score.Fidelity...)
		} else {
			ctxFid, edit = append(ctxFid, score.Fidelity...), append(edit, score.Editability...)
		}
		e.Prompts = append(e.Prompts, score)
	}
	e.Fidelity, e.ContextFidelity, e.Editability = mean(recon), mean(ctxFid), mean(edit)
	e.Seconds = time.Since(start).Seconds()
	return e, nil
}
