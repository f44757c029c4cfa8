package main

import (
	"context"
	"flag"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/org/neti"
	"github.com/org/neti/internal/history"
)

func runGenerate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("generate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	model := fs.String("pretrained_model_name_or_path", "", "diffusers model folder or Hugging Face id in the local cache (default: the built-in toy-world model, "+defaultModel+")")
	output := fs.String("output", "neti.png", "PNG file to write (several images are written as one grid; an existing one is kept as FILE.prevN)")
	negative := fs.String("negative_prompt", "", "negative prompt (the unconditional half of guidance)")
	steps := fs.Int("num_inference_steps", 50, "denoising steps")
	guidance := fs.Float64("guidance_scale", 7.5, "classifier-free guidance scale (1 disables guidance)")
	rescale := fs.Float64("guidance_rescale", 0, "guidance rescale φ in [0, 1] (Lin et al.; tempers a large --guidance_scale's over-saturation; diffusers suggests 0.7)")
	width := fs.Int("width", 0, "image width in pixels (default: the model's)")
	height := fs.Int("height", 0, "image height in pixels (default: the model's)")
	seed := fs.Uint64("seed", 0, "seed of the initial noise")
	num := fs.Int("num_images_per_prompt", 1, "number of images")
	sampler := fs.String("scheduler", string(neti.SamplerDPMSolver), "sampler: "+joinValues(neti.Samplers, ", "))
	backendName := fs.String("backend", "", backendUsage)
	dtype := fs.String("dtype", "float32", "precision: float32, bfloat16 or float16")
	var conceptFiles stringList
	fs.Var(&conceptFiles, "concept", "NeTI concept file (repeatable; each concept's placeholder must be in the prompt)")
	truncation := fs.Int("truncation", 0, "nested-dropout truncation of every concept, 1..hidden (default: each concept's own)")
	otherBase := fs.Bool("allow_other_base_model", false, "use concepts trained on another base model (same width) with a note instead of an error")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: neti generate [--pretrained_model_name_or_path DIR] [--concept FILE ...] [flags] \"prompt\"")
		fs.PrintDefaults()
	}
	if err := parseFlags("generate", fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("generate", fmt.Errorf("generate takes one prompt (quote it); got %d arguments", fs.NArg()))
	}
	if err := checkNumbers("generate", fs, []string{"num_inference_steps", "num_images_per_prompt", "width", "height",
		"truncation"}, nil); err != nil {
		return err
	}
	if err := checkGuidance("generate", *guidance); err != nil { // the library reads 0 as "default 7.5"
		return err
	}
	if !strings.EqualFold(filepath.Ext(*output), ".png") {
		return fmt.Errorf("generate: --output %q must end in .png", *output)
	}
	if err := checkOutputFile("generate", "output", *output); err != nil {
		return err
	}

	// The options the input alone decides are checked before the model loads, errors naming the flags.
	loadOpts := neti.LoadOptions{Backend: *backendName, DType: *dtype}
	opts := neti.GenerateOptions{
		NegativePrompt: *negative, Steps: *steps, GuidanceScale: *guidance, GuidanceRescale: *rescale, Width: *width, Height: *height,
		Seed: *seed, NumImages: *num, Sampler: neti.Sampler(*sampler), Truncation: *truncation, AllowOtherBaseModel: *otherBase,
		OnStep: func(step, total int) { fmt.Fprintf(stderr, "\rstep %d/%d", step, total) },
		OnNote: func(note string) { fmt.Fprintln(stderr, "note:", flagText(note)) },
	}
	if err := loadOpts.Validate(); err != nil {
		return flagError("generate", err)
	}
	if err := opts.Validate(); err != nil {
		return flagError("generate", err)
	}
	for _, path := range conceptFiles {
		c, err := neti.LoadConcept(path)
		if err != nil {
			return err
		}
		opts.Concepts = append(opts.Concepts, c)
	}

	start := time.Now()
	p, err := loadPipeline(*model, loadOpts)
	if err != nil {
		return flagError("generate", err)
	}
	defer p.Close()
	fmt.Fprintf(stderr, "loaded %s on %s in %s\n", p.Dir, p.Backend(), time.Since(start).Round(time.Millisecond))

	start = time.Now()
	images, err := p.Generate(ctx, fs.Arg(0), opts)
	fmt.Fprintln(stderr)
	if err != nil {
		return flagError("generate", err)
	}
	kept, err := history.Keep(*output, false) // the earlier image stays as --output.prevN
	if err != nil {
		return fmt.Errorf("generate: --output %s: keeping the earlier file: %w", *output, err)
	}
	if kept != "" {
		fmt.Fprintf(stderr, "note: the earlier %s is kept as %s\n", *output, kept)
	}
	if err := writePNG(*output, grid(images)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%d image(s), %s)\n", *output, len(images), time.Since(start).Round(time.Millisecond))
	return nil
}

// grid lays images out in one row.
func grid(images []*image.RGBA) image.Image {
	if len(images) == 1 {
		return images[0]
	}
	w, h := images[0].Bounds().Dx(), images[0].Bounds().Dy()
	out := image.NewRGBA(image.Rect(0, 0, w*len(images), h))
	for i, img := range images {
		draw.Draw(out, image.Rect(i*w, 0, (i+1)*w, h), img, image.Point{}, draw.Src)
	}
	return out
}

// writePNG writes img to path atomically: a temporary file in the same folder, then a rename.
func writePNG(path string, img image.Image) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".neti-*.png")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o644); err != nil { // CreateTemp makes the file private; an image is not
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := png.Encode(tmp, img); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}

// stringList is a repeatable string flag.
type stringList []string

// String implements flag.Value.
func (l *stringList) String() string { return strings.Join(*l, ",") }

// Set implements flag.Value.
func (l *stringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}
