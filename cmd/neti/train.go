package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"io"
	"strings"
	"time"

	"github.com/org/neti"
)

// runTrain is "neti train": learn a concept from a folder of images, with diffusers' textual-inversion
// flag names. The data is checked before the model loads; progress is drawn on stderr.
func runTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	model := fs.String("pretrained_model_name_or_path", "", "diffusers model folder or Hugging Face id in the local cache (default: the built-in toy-world model, "+defaultModel+", with --preset toy and the images' shape as --initializer_token)")
	data := fs.String("train_data_dir", "", "folder of PNG/JPEG images of the concept (comma-separated folders or files)")
	placeholder := fs.String("placeholder_token", "", "new token for the concept, e.g. \"<cat-toy>\"")
	initializer := fs.String("initializer_token", "object", "one-token super-category word (sets the norm; TI/P+ start from it)")
	method := fs.String("method", string(neti.MethodNeTI), "what to learn: "+joinValues(neti.TrainMethods, ", "))
	noBypass := fs.Bool("no_bypass", false, "disable NeTI's textual bypass")
	normalize := fs.String("normalize_output", "", `NeTI mapper output normalisation: "word" (default: the word half to the super-category's norm) or "concat" (word and bypass together, as the original code)`)
	targetNorm := fs.Float64("target_norm", 0, "NeTI: the norm the mapper's output is normalised to (default: the --initializer_token's embedding norm)")
	property := fs.String("learnable_property", "", "caption templates: "+joinValues(neti.TemplateSets, ", ")+
		" (default "+string(neti.TemplatesObject)+", or the preset's: "+string(neti.ToyPreset().Templates)+")")
	resolution := fs.Int("resolution", 0, "training image size in pixels (default: the model's, 512 for SD 1.x)")
	randomFlip := fs.Bool("random_flip", true, "flip training images horizontally at random (default on; off with --preset toy: a toy concept's tilt is part of it)")
	masked := fs.Bool("masked_loss", false, "weight each image's loss by its alpha channel (kohya's masked loss): transparent surroundings count --masked_loss_background")
	maskedBg := fs.Float64("masked_loss_background", 0, "with --masked_loss: the weight of a transparent pixel, in [0, 1) (0: ignored)")
	centerCrop := fs.Bool("center_crop", true, "centre-crop images to a square (false squashes them as the original NeTI)")
	steps := fs.Int("max_train_steps", 0, "optimizer steps (default 1000, or the preset's)")
	lr := fs.Float64("learning_rate", 0, "base learning rate (default 1e-3, or the preset's)")
	scaleLR := fs.Bool("scale_lr", true, "multiply the learning rate by batch size × accumulation")
	batch := fs.Int("train_batch_size", 0, "images per micro-batch (default 2)")
	accumulation := fs.Int("gradient_accumulation_steps", 0, "micro-batches per optimizer step (default 4, or the preset's)")
	seed := fs.Uint64("seed", 0, "seed of everything random")
	output := fs.String("output_dir", "neti-concept", "folder for checkpoints, loss.jsonl and the final concept")
	resume := fs.String("resume_from_checkpoint", "", "checkpoint folder to resume, or \"latest\" in --output_dir")
	every := fs.Int("checkpointing_steps", 0, "steps between checkpoints (default 250, or the preset's; negative: none)")
	limit := fs.Int("checkpoints_total_limit", 0, "checkpoints kept (default 3; negative: all)")
	validation := fs.Int("validation_steps", 0, "steps between validation images (0: none)")
	var validationPrompts stringList
	fs.Var(&validationPrompts, "validation_prompt", "validation prompt with the placeholder token or {} (repeatable; default: the library's, the preset's for --preset toy)")
	preset := fs.String("preset", "", "\"toy\": small settings for tiny and toy models (neti.ToyPreset)")
	backendName := fs.String("backend", "", backendUsage)
	dtype := fs.String("dtype", "float32", "precision of the frozen model: float32, bfloat16 or float16 (the concept trains in float32)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: neti train [--pretrained_model_name_or_path DIR] --train_data_dir DIR --placeholder_token TOKEN [flags]")
		fs.PrintDefaults()
	}
	if err := parseFlags("train", fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError("train", fmt.Errorf("train takes flags only; got arguments %q", fs.Args()))
	}
	if err := checkNumbers("train", fs, []string{"max_train_steps", "train_batch_size", "gradient_accumulation_steps",
		"learning_rate", "resolution"}, []string{"checkpointing_steps", "checkpoints_total_limit"}); err != nil {
		return err
	}
	for _, req := range []struct{ flag, value string }{
		{"train_data_dir", *data}, {"placeholder_token", *placeholder},
	} {
		if req.value == "" {
			return fmt.Errorf("train: --%s is required", req.flag)
		}
	}
	inputs := strings.Split(*data, ",")

	// The data first: a bad folder is reported before the model loads (and the built-in model's defaults
	// read the images).
	images, err := neti.LoadTrainImages(inputs)
	if err != nil {
		return flagError("train", err)
	}
	printed := make(map[string]bool) // the data's notes, printed now and repeated by the library
	for _, note := range images.Notes {
		fmt.Fprintln(stderr, flagText(note))
		printed[note] = true
	}
	if isBuiltinModel(*model) {
		notes, err := toyDefaults(fs, preset, initializer, images.Files)
		if err != nil {
			return err
		}
		for _, note := range notes {
			fmt.Fprintln(stderr, note)
		}
	}

	var opts neti.TrainOptions
	switch *preset {
	case "":
	case "toy":
		opts = neti.ToyPreset()
	default:
		return fmt.Errorf("train: --preset %q: expected \"toy\" or nothing", *preset)
	}
	opts.Placeholder, opts.SuperCategory, opts.Method, opts.NoBypass = *placeholder, *initializer, neti.Method(*method), *noBypass
	opts.Resolution, opts.Squash, opts.Seed = *resolution, !*centerCrop, *seed
	opts.MaskedLoss, opts.MaskedLossBackground = *masked, *maskedBg
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "random_flip" {
			opts.NoFlip = !*randomFlip
		}
	})
	if *property != "" {
		opts.Templates = neti.Templates(*property)
	}
	opts.Normalize, opts.TargetNorm = neti.NormalizeMode(*normalize), *targetNorm
	opts.OutputDir, opts.ResumeFrom, opts.ValidateEvery = *output, *resume, *validation
	setIfGiven := func(dst *int, v int) {
		if v != 0 {
			*dst = v
		}
	}
	for _, pr := range validationPrompts {
		if !strings.Contains(pr, "{}") {
			if !strings.Contains(pr, *placeholder) {
				return fmt.Errorf("train: --validation_prompt %q has neither the placeholder %q nor {}: expected the concept in it", pr, *placeholder)
			}
			pr = strings.Replace(pr, *placeholder, "{}", 1)
		}
		opts.ValidationPrompts = append(opts.ValidationPrompts, pr)
	}
	setIfGiven(&opts.MaxTrainSteps, *steps)
	setIfGiven(&opts.BatchSize, *batch)
	setIfGiven(&opts.GradientAccumulation, *accumulation)
	setIfGiven(&opts.CheckpointEvery, *every)
	setIfGiven(&opts.KeepCheckpoints, *limit)
	if *lr != 0 {
		opts.LearningRate = *lr
	}
	if !*scaleLR {
		opts.NoScaleLR = true
	}

	// The options: what the input alone decides is reported before the model loads, errors naming the flags.
	loadOpts := neti.LoadOptions{Backend: *backendName, DType: *dtype}
	if err := loadOpts.Validate(); err != nil {
		return flagError("train", err)
	}
	if err := opts.Validate(); err != nil {
		return flagError("train", err)
	}
	midLine := false // a progress line is drawn without its newline
	opts.OnNote = func(note string) {
		if printed[note] {
			return
		}
		if midLine {
			fmt.Fprintln(stderr)
			midLine = false
		}
		fmt.Fprintln(stderr, flagText(note))
	}
	start := time.Now()
	p, err := loadPipeline(*model, loadOpts)
	if err != nil {
		return flagError("train", err)
	}
	defer p.Close()
	fmt.Fprintf(stderr, "loaded %s on %s in %s; %d training images\n", p.Dir, p.Backend(),
		time.Since(start).Round(time.Millisecond), len(images.Files))

	opts.OnStep = func(pr neti.TrainProgress) {
		eta := time.Duration(pr.ETA * float64(time.Second)).Round(time.Second)
		fmt.Fprintf(stderr, "\rstep %d/%d  loss %.4f  %.2f steps/s  ETA %s   ", pr.Step, pr.Total, pr.Loss, pr.StepsPerSecond, eta)
		midLine = true
		if pr.Checkpoint != "" {
			fmt.Fprintf(stderr, "\nsaved %s\n", pr.Checkpoint)
			midLine = false
		}
	}
	opts.OnValidate = func(step int, _ *neti.Concept, imgs []*image.RGBA) error {
		fmt.Fprintf(stderr, "\nvalidation images of step %d in %s/validation/step-%d\n", step, *output, step)
		return nil
	}
	c, err := neti.TrainConcept(ctx, p, inputs, opts)
	fmt.Fprintln(stderr)
	var stopped *neti.TrainInterrupted
	if errors.As(err, &stopped) && stopped.Checkpoint != "" {
		fmt.Fprintf(stderr, "stopped after step %d of %d; the steps done are in %s\nresume with:\n  %s\n", stopped.Step,
			stopped.Total, stopped.Checkpoint, resumeCommand(args, stopped.Checkpoint))
		return &explained{err: err, msg: fmt.Sprintf("train: %v after step %d of %d: checkpoint %s written; resume "+
			"with the command above", stopped.Cause, stopped.Step, stopped.Total, stopped.Checkpoint)}
	}
	if err != nil {
		return flagError("train", err)
	}
	fmt.Fprintf(stdout, "wrote %s (%s, %q, %s)\n", neti.FinalConceptPath(*output, c.Placeholder), *method, c.Placeholder,
		time.Since(start).Round(time.Second))
	return nil
}

// resumeCommand is the neti train command line of args with --resume_from_checkpoint set to dir (any
// given one replaced), quoted for a POSIX shell.
func resumeCommand(args []string, dir string) string {
	words := []string{programName, "train"}
	for i := 0; i < len(args); i++ {
		name, _, hasValue := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		if strings.HasPrefix(args[i], "-") && name == "resume_from_checkpoint" {
			if !hasValue {
				i++ // its value is the next argument
			}
			continue
		}
		words = append(words, args[i])
	}
	words = append(words, "--resume_from_checkpoint", dir)
	for i, w := range words {
		words[i] = shellQuote(w)
	}
	return strings.Join(words, " ")
}

// shellQuote returns s as one word of a POSIX shell: unchanged when it holds only safe characters, else
// in single quotes.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=./,:@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// explained is an error told in the command's words (msg) that still unwraps to the library's err.
type explained struct {
	err error
	msg string
}

// Error is the command's message.
func (e *explained) Error() string { return e.msg }

// Unwrap returns the library's error.
func (e *explained) Unwrap() error { return e.err }
