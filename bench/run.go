package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/org/neti"
	"github.com/org/neti/toyworld"
)

// Run trains every method on every concept with the same data, steps and seed, and measures the results
// with the toy world's fidelity and editability (toyworld.Fidelity, toyworld.Editability) on the images
// of Prompts, Options.Seeds seeds each: along training (the reconstruction prompt every EvalEvery steps,
// for the steps needed to reach a fidelity level) and at the end (every prompt, at each truncation for
// NeTI). examplesDir holds one folder per concept (see Options.Concepts). progress may be nil. Nothing is
// written to disk; the Pipeline's tokenizer keeps the placeholders ("<name>") registered. A nil Pipeline
// is refused after the options and concepts are checked; a closed one by the first training run.
func Run(ctx context.Context, p *neti.Pipeline, examplesDir string, opts Options, progress func(Progress)) (report *Report, err error) {
	defer func() { // the library's calls recover their own panics; this catches the bench's
		if r := recover(); r != nil {
			if e, ok := r.(error); ok {
				err = fmt.Errorf("bench: %w", e)
			} else {
				err = fmt.Errorf("bench: %v", r)
			}
		}
	}()
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if progress == nil {
		progress = func(Progress) {}
	}
	concepts := make([]toyworld.Concept, len(opts.Concepts))
	for i, name := range opts.Concepts {
		if concepts[i], err = loadConcept(examplesDir, name); err != nil {
			return nil, err
		}
	}
	if p == nil { // after the options and concepts, which need no model
		return nil, fmt.Errorf("bench: the Pipeline is nil: expected one from neti.LoadPipeline (check the error it returned)")
	}
	report = &Report{Options: opts, Model: p.Dir, Backend: p.Backend(), Started: time.Now().UTC(),
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
	report.References = summarizeReferences(report.Concepts)
	report.Seconds = time.Since(report.Started).Seconds()
	return report, nil
}

// loadConcept reads dir/name/concept.json (toyworld.ConceptFile).
func loadConcept(dir, name string) (toyworld.Concept, error) {
	path := filepath.Join(dir, name, "concept.json")
	data, err := os.ReadFile(path)
	if err != nil {
		return toyworld.Concept{}, fmt.Errorf("bench: concept %q: %w (expected a folder written by "+
			"\"neti toyworld concepts\")", name, err)
	}
	var f toyworld.ConceptFile
	if err := json.Unmarshal(data, &f); err != nil {
		return toyworld.Concept{}, fmt.Errorf("bench: %s: %w", path, err)
	}
	if f.Scene.Shape == "" || f.SuperCategory == "" {
		return toyworld.Concept{}, fmt.Errorf("bench: %s has no scene or super_category: expected a toyworld "+
			"concept file (\"neti toyworld concepts\" writes them)", path)
	}
	return f.Concept, nil
}

// bencher carries Run's state across runs.
type bencher struct {
	p        *neti.Pipeline
	opts     Options
	progress func(Progress)
	run      int // runs started
	runs     int
}

// concept trains and evaluates every method on one concept, then reads the steps to each fidelity level.
func (b *bencher) concept(ctx context.Context, c toyworld.Concept, dir string) (ConceptResult, error) {
	start := time.Now()
	placeholder := "<" + c.Name + ">"
	bc := ConceptResult{Name: c.Name, SuperCategory: c.SuperCategory, Placeholder: placeholder,
		Prompts: Prompts(c, placeholder, b.opts.ContextPrompts)}
	if !b.opts.SkipReferences {
		refs, err := b.references(ctx, c)
		if err != nil {
			return bc, err
		}
		bc.References = refs
	}
	cutouts := "" // the concept's cut-outs, written once for all its masked-loss runs
	defer func() {
		if cutouts != "" {
			os.RemoveAll(cutouts)
		}
	}()
	for _, method := range b.opts.Methods {
		r, err := b.method(ctx, c, dir, &cutouts, bc.Prompts, method)
		if err != nil {
			return bc, err
		}
		bc.Runs = append(bc.Runs, r)
		bc.Reference = max(bc.Reference, r.Curve[len(r.Curve)-1].Fidelity)
	}
	setEqualTime(bc.Runs)
	for i := range bc.Runs {
		for k := range bc.Runs[i].Evals {
			e := &bc.Runs[i].Evals[k]
			e.GapClosed = gapClosed(e.Fidelity, bc.References, RefSuperCategory)
			e.GapClosedFromWords = gapClosed(e.Fidelity, bc.References, RefWords)
		}
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

// method trains one method on one concept, recording the fidelity curve, then evaluates the result. With the
// masked loss it trains on the concept's cut-outs in *cutouts, writing them there first if it is "".
func (b *bencher) method(ctx context.Context, c toyworld.Concept, dir string, cutouts *string, prompts []Prompt, method string) (MethodResult, error) {
	b.run++
	run := MethodResult{Method: method}
	o := trainOptions(b.opts, c, method)
	run.Train = o
	recon := prompts[:1]
	var evalTime time.Duration
	o.OnValidate = func(step int, snap *neti.Concept, _ []*image.RGBA) error {
		if step == b.opts.Steps {
			return nil // the final evaluation gives the last point
		}
		start := time.Now()
		e, err := b.evaluate(ctx, c, snap, recon, 0, method)
		evalTime += time.Since(start)
		run.Curve = append(run.Curve, Point{Step: step, Fidelity: e.Fidelity})
		return err
	}
	o.OnStep = func(pr neti.TrainProgress) {
		b.progress(Progress{Concept: c.Name, Method: method, Run: b.run, Runs: b.runs, Phase: "train",
			Step: pr.Step, Total: pr.Total})
	}
	data := dir
	if o.MaskedLoss {
		if *cutouts == "" {
			cut, err := os.MkdirTemp("", "neti-bench-cutouts-")
			if err != nil {
				return run, fmt.Errorf("bench: %w", err)
			}
			*cutouts = cut
			if err := writeCutouts(c, dir, cut); err != nil {
				return run, err
			}
		}
		data = *cutouts
	}
	start := time.Now()
	concept, err := neti.TrainConcept(ctx, b.p, []string{data}, o)
	if err != nil {
		return run, fmt.Errorf("bench: %s on %s: %w", method, c.Name, err)
	}
	run.TrainSeconds = (time.Since(start) - evalTime).Seconds()
	run.SecondsPerStep = run.TrainSeconds / float64(b.opts.Steps)

	truncations := []int{0}
	if method == NeTI {
		truncations = append(truncations, b.opts.Truncations...)
	}
	for _, tr := range truncations {
		if tr > concept.Mapper.Hidden {
			return run, fmt.Errorf("bench: Options.Truncations holds %d: the mapper has %d hidden units",
				tr, concept.Mapper.Hidden)
		}
		e, err := b.evaluate(ctx, c, concept, prompts, tr, method)
		if err != nil {
			return run, err
		}
		if tr == 0 {
			run.Curve = append(run.Curve, Point{Step: b.opts.Steps, Fidelity: e.Fidelity})
		}
		run.Evals = append(run.Evals, e)
	}
	return run, nil
}

// trainOptions are the training options of one run: neti.ToyPreset with the method, opts.Steps and
// opts.Seed, adjusted by opts.Train, writing nothing, with a validation every opts.EvalEvery steps that
// generates nothing (no prompts): OnValidate then only hands over the concept's snapshot.
func trainOptions(opts Options, c toyworld.Concept, method string) neti.TrainOptions {
	o := neti.ToyPreset()
	o.Method, o.Seed = neti.Method(method), opts.Seed // bench's names are neti's but NeTINoBypass
	if method == NeTINoBypass {
		o.Method, o.NoBypass = neti.MethodNeTI, true
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
func (b *bencher) evaluate(ctx context.Context, c toyworld.Concept, concept *neti.Concept, prompts []Prompt, truncation int, method string) (Eval, error) {
	start := time.Now()
	e := Eval{Truncation: truncation}
	total, done := len(prompts)*b.opts.Seeds, 0
	var recon, ctxFid, edit []float64
	var parts []toyworld.FidelityParts
	for _, pr := range prompts {
		score := PromptScore{Prompt: pr.Text}
		for j := range b.opts.Seeds {
			imgs, err := b.p.Generate(ctx, pr.Text, neti.GenerateOptions{Steps: b.opts.SampleSteps, GuidanceScale: b.opts.GuidanceScale, GuidanceRescale: b.opts.GuidanceRescale, Seed: b.opts.Seed + uint64(j),
				Concepts: []*neti.Concept{concept}, Truncation: truncation})
			if err != nil {
				return e, fmt.Errorf("bench: %s on %s, prompt %q: %w", method, c.Name, pr.Text, err)
			}
			detail := toyworld.FidelityDetail(imgs[0], c)
			score.Fidelity = append(score.Fidelity, detail.Total)
			if pr.Reconstruction {
				parts = append(parts, detail)
			}
			if !pr.Reconstruction {
				score.Editability = append(score.Editability, toyworld.Editability(imgs[0], pr.Requested))
			}
			done++
			b.progress(Progress{Concept: c.Name, Method: method, Run: b.run, Runs: b.runs, Phase: "eval",
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
	e.Parts = meanParts(parts)
	e.Seconds = time.Since(start).Seconds()
	return e, nil
}
