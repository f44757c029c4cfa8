package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/org/neti"
	"github.com/org/neti/bench"
)

// runBench is "neti bench": NeTI, NeTI without bypass, P+ and TI (and NeTI at several truncations) on the
// toy-world concepts, scored by the toy world's fidelity and editability; writes bench.json and bench.png
// (fidelity vs editability) and prints a summary table.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	model := fs.String("pretrained_model_name_or_path", "", "diffusers model (default: the built-in toy-world model, "+defaultModel+")")
	examples := fs.String("examples", "examples/concepts", "folder of the toy-world concepts (one folder each with concept.json)")
	concepts := fs.String("concepts", "", "comma-separated concept folder names (default: all 8 shipped concepts)")
	methods := fs.String("methods", "", "comma-separated methods among "+strings.Join(bench.Methods, ",")+" (default: all)")
	truncations := fs.String("truncations", "", `comma-separated NeTI truncations (hidden units kept), or "none" (default: 4,16,64)`)
	steps := fs.Int("max_train_steps", 0, "training steps of every run (default: neti.ToyPreset's, 200)")
	evalEvery := fs.Int("eval_every", 0, "steps between the fidelity curve's points (default 50)")
	seeds := fs.Int("seeds", 0, "images per evaluation prompt (default 4)")
	contextPrompts := fs.Int("context_prompts", 0, "editability prompts per concept (default 4)")
	sampleSteps := fs.Int("num_inference_steps", 0, "denoising steps of each evaluation image (default 20)")
	guidance := fs.Float64("guidance_scale", 7.5, "classifier-free guidance of every evaluation image, the references' included (1 disables guidance)")
	rescale := fs.Float64("guidance_rescale", 0, "guidance rescale φ in [0, 1] of every evaluation image, the references' included (0: plain guidance)")
	resolution := fs.Int("resolution", 0, "training image size (default: the model's)")
	batch := fs.Int("train_batch_size", 0, "training batch size (default: neti.ToyPreset's, 2)")
	lr := fs.Float64("learning_rate", 0, "training learning rate (default: neti.ToyPreset's)")
	randomFlip := fs.Bool("random_flip", false, "train with horizontal flips (default off, as neti.ToyPreset: a toy concept's tilt is part of its identity)")
	noNested := fs.Bool("no_nested_dropout", false, "train NeTI without nested dropout")
	masked := fs.Bool("masked_loss", false, "train with the masked loss: the concepts' images cut out by their object masks (toyworld.Coverage)")
	maskedBg := fs.Float64("masked_loss_background", 0, "with --masked_loss: the weight of the surroundings, in [0, 1) (0: ignored)")
	normalize := fs.String("normalize_output", "", `NeTI mapper output normalisation: "word" (default) or "concat"`)
	targetNorm := fs.Float64("target_norm", 0, "NeTI: the norm the mapper's output is normalised to (default: each concept's super-category word's embedding norm)")
	seed := fs.Uint64("seed", 0, "training seed of every run and first evaluation seed")
	output := fs.String("output_dir", "bench", "folder for bench.json and bench.png")
	backendName := fs.String("backend", "", backendUsage)
	merge := fs.String("merge", "", "comma-separated bench.json files of one bench on different concepts (e.g. run side by side): join them into --output_dir instead of running")
	if err := parseFlags("bench", fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError("bench", fmt.Errorf("bench takes flags only; got arguments %q", fs.Args()))
	}
	if err := checkNumbers("bench", fs, []string{"max_train_steps", "eval_every", "seeds", "context_prompts",
		"num_inference_steps", "resolution", "train_batch_size", "learning_rate"}, nil); err != nil {
		return err
	}
	if err := (neti.TrainOptions{Placeholder: "<c>", MaskedLoss: *masked, MaskedLossBackground: *maskedBg, TargetNorm: *targetNorm}).Validate(); err != nil {
		return flagError("bench", err)
	}
	if err := checkGuidance("bench", *guidance); err != nil {
		return err
	}
	if err := (neti.GenerateOptions{GuidanceScale: *guidance, GuidanceRescale: *rescale}).Validate(); err != nil {
		return flagError("bench", err)
	}
	if *merge != "" {
		return mergeBench(splitList(*merge), *output, stdout)
	}
	if m := neti.NormalizeMode(*normalize); m != "" && m != neti.NormalizeWord && m != neti.NormalizeConcat {
		return fmt.Errorf("bench: --normalize_output is %q: expected %q (default) or %q", *normalize, neti.NormalizeWord, neti.NormalizeConcat)
	}
	opts := bench.Options{Concepts: splitList(*concepts), Methods: splitList(*methods), Steps: *steps,
		EvalEvery: *evalEvery, Seeds: *seeds, ContextPrompts: *contextPrompts, SampleSteps: *sampleSteps, GuidanceScale: *guidance,
		GuidanceRescale: *rescale, Seed: *seed}
	switch *truncations {
	case "":
	case "none":
		opts.Truncations = []int{}
	default:
		for _, s := range splitList(*truncations) {
			k, err := strconv.Atoi(s)
			if err != nil {
				return fmt.Errorf("bench: --truncations holds %q: expected integers such as 4,16,64, or none", s)
			}
			opts.Truncations = append(opts.Truncations, k)
		}
	}
	opts.Train = func(o *neti.TrainOptions) {
		if *resolution > 0 {
			o.Resolution = *resolution
		}
		if *batch > 0 {
			o.BatchSize = *batch
		}
		if *lr > 0 {
			o.LearningRate = *lr
		}
		if *randomFlip {
			o.NoFlip = false
		}
		o.MaskedLoss, o.MaskedLossBackground = *masked, *maskedBg
		if o.Method == neti.MethodNeTI {
			o.NoNestedDropout = o.NoNestedDropout || *noNested
			o.Normalize, o.TargetNorm = neti.NormalizeMode(*normalize), *targetNorm
		}
	}
	if err := os.MkdirAll(*output, 0o755); err != nil {
		return fmt.Errorf("bench: %w", err)
	}

	p, err := loadPipeline(*model, neti.LoadOptions{Backend: *backendName})
	if err != nil {
		return err
	}
	defer p.Close()
	fmt.Fprintf(stderr, "loaded %s on %s\n", p.Dir, p.Backend())
	start := time.Now()
	report, err := bench.Run(ctx, p, *examples, opts, func(pr bench.Progress) {
		fmt.Fprintf(stderr, "\r[run %d/%d %s] %s %s: %s %d/%d     ", pr.Run, pr.Runs, time.Since(start).Round(time.Second),
			pr.Concept, pr.Method, pr.Phase, pr.Step, pr.Total)
	})
	fmt.Fprintln(stderr)
	if err != nil {
		return err
	}
	if err := writeBench(report, *output, stdout); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "in %s\n", time.Since(start).Round(time.Second))
	return nil
}

// writeBench writes bench.json and bench.png into dir and prints the summary.
func writeBench(report *bench.Report, dir string, stdout io.Writer) error {
	data, err := json.MarshalIndent(report, "", "  ")
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	jsonPath, pngPath := filepath.Join(dir, "bench.json"), filepath.Join(dir, "bench.png")
	if err := os.WriteFile(jsonPath, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	if err := writePNG(pngPath, report.Plot()); err != nil {
		return err
	}
	printBenchSummary(stdout, report)
	fmt.Fprintf(stdout, "wrote %s and %s\n", jsonPath, pngPath)
	return nil
}

// mergeBench is "neti bench --merge": joins the bench.json files into dir.
func mergeBench(files []string, dir string, stdout io.Writer) error {
	var reports []*bench.Report
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("bench: --merge: %w", err)
		}
		r := new(bench.Report)
		if err := json.Unmarshal(data, r); err != nil {
			return fmt.Errorf("bench: --merge: %s is not a bench.json: %w", f, err)
		}
		reports = append(reports, r)
	}
	merged, err := bench.Merge(reports...)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	return writeBench(merged, dir, stdout)
}

// printBenchSummary writes the summary as a table: one row per method and truncation, means ± their
// standard errors over the images, with the share of the floor→ceiling gap closed (from the word and
// from the coarse words) and the fidelity at equal wall time; then the references' rows.
func printBenchSummary(w io.Writer, r *bench.Report) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	gap := func(g *float64) string {
		if g == nil {
			return "–"
		}
		return fmt.Sprintf("%.2f", *g)
	}
	head := "method\tfidelity\tgap closed (word, words)\teditability\tfidelity in context\ttrain s/concept\tfidelity at equal time (step)\t"
	for _, l := range r.Levels {
		head += fmt.Sprintf("steps to %.0f%%\t", 100*l)
	}
	fmt.Fprintln(tw, head)
	for _, s := range r.Summary {
		row := fmt.Sprintf("%s\t%.3f ± %.3f\t%s, %s\t%.3f ± %.3f\t%.3f ± %.3f\t%.1f\t", s.Label, s.Fidelity, s.FidelitySE,
			gap(s.GapClosed), gap(s.GapClosedFromWords), s.Editability, s.EditabilitySE, s.ContextFidelity, s.ContextFidelitySE, s.TrainSeconds)
		if s.EqualTimeFidelity != nil {
			row += fmt.Sprintf("%.3f (%.0f)\t", *s.EqualTimeFidelity, *s.EqualTimeStep)
		} else {
			row += "–\t"
		}
		for k, st := range s.StepsTo {
			switch {
			case s.Truncation > 0:
				row += "\t"
			case st == nil:
				row += fmt.Sprintf("never (0/%d)\t", len(r.Concepts))
			default:
				row += fmt.Sprintf("%.0f (%d/%d)\t", *st, s.Reached[k], len(r.Concepts))
			}
		}
		fmt.Fprintln(tw, row)
	}
	for _, kind := range bench.ReferenceKinds {
		if ref, ok := r.References[kind]; ok {
			fmt.Fprintf(tw, "reference: %s\t%.3f ± %.3f\t\t\t\t\t\t\n", kind, ref.Fidelity, ref.FidelitySE)
		}
	}
	_ = tw.Flush()
}

// splitList splits a comma-separated flag value; "" is nil (the default).
func splitList(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	var out []string
	for _, f := range strings.Split(s, ",") {
		out = append(out, strings.TrimSpace(f))
	}
	return out
}
