package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/draw"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/org/neti"
	"github.com/org/neti/toyworld"
)

// quickstartSteps is the quickstart's default number of training steps, neti.ToyPreset's: a NeTI step
// (batch 2) takes ≈ 1.6 s on 2 CPU cores with the toy model (models/toymodel/README.md), so 200 steps
// (≈ 5.5 minutes) plus the 12-image grid (≈ 1.5 minutes) fit the 10 minutes the main job is allowed.
const quickstartSteps = 200

// quickstartRow is one row of the quickstart grid: what it shows, the images' prompts and settings, and the
// toy world's measurements of them (shipped concepts only): fidelity to the concept and, for prompts that ask
// for a context, editability (the fraction of the requested attributes found).
type quickstartRow struct {
	Title       string    `json:"title"`
	Prompts     []string  `json:"prompts"`
	Truncation  []int     `json:"truncation,omitempty"`
	Fidelity    []float64 `json:"fidelity,omitempty"`
	Editability []float64 `json:"editability,omitempty"`
}

// runQuickstart is "neti quickstart", the README's main job: learn one of the shipped toy-world concepts with
// NeTI on the built-in model, then draw a grid of reconstructions, new contexts and a truncation sweep.
func runQuickstart(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	fs.SetOutput(stderr)
	model := fs.String("pretrained_model_name_or_path", "", "diffusers model (default: the built-in toy-world model, "+defaultModel+")")
	concept := fs.String("concept", "tealstar", "shipped example concept: a folder name under --examples")
	examples := fs.String("examples", "examples/concepts", "folder of the shipped example concepts")
	steps := fs.Int("max_train_steps", quickstartSteps, "training steps (neti.ToyPreset's)")
	seed := fs.Uint64("seed", 0, "seed of training and of the grid's images")
	sampleSteps := fs.Int("num_inference_steps", 20, "denoising steps of each grid image")
	output := fs.String("output_dir", "quickstart", "folder for the concept, checkpoints, loss log and grid.png")
	backendName := fs.String("backend", "", backendUsage)
	if err := parseFlags("quickstart", fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError("quickstart", fmt.Errorf("quickstart takes flags only; got arguments %q", fs.Args()))
	}
	if err := checkNumbers("quickstart", fs, []string{"max_train_steps", "num_inference_steps"}, nil); err != nil {
		return err
	}
	dir := filepath.Join(*examples, *concept)
	var meta struct {
		Name          string `json:"name"`
		SuperCategory string `json:"super_category"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "concept.json"))
	if err != nil {
		return fmt.Errorf("quickstart: concept %q: %w (the shipped concepts are the folders of %s)", *concept, err, *examples)
	}
	if err := json.Unmarshal(data, &meta); err != nil {
		return fmt.Errorf("quickstart: %s: %w", filepath.Join(dir, "concept.json"), err)
	}
	start := time.Now()
	p, err := loadPipeline(*model, neti.LoadOptions{Backend: *backendName})
	if err != nil {
		return err
	}
	defer p.Close()
	fmt.Fprintf(stderr, "loaded %s on %s\n", p.Dir, p.Backend())

	placeholder := "<" + meta.Name + ">"
	opts := neti.ToyPreset()
	opts.Placeholder, opts.SuperCategory, opts.Seed, opts.OutputDir = placeholder, meta.SuperCategory, *seed, *output
	opts.MaxTrainSteps = *steps
	opts.OnStep = func(pr neti.TrainProgress) {
		eta := time.Duration(pr.ETA * float64(time.Second)).Round(time.Second)
		fmt.Fprintf(stderr, "\rtraining %s: step %d/%d  loss %.4f  %.2f steps/s  ETA %s   ", placeholder, pr.Step, pr.Total,
			pr.Loss, pr.StepsPerSecond, eta)
	}
	c, err := neti.TrainConcept(ctx, p, []string{dir}, opts)
	fmt.Fprintln(stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "trained %s in %s\n", placeholder, time.Since(start).Round(time.Second))

	rows := quickstartRows(placeholder, c.Mapper.Hidden)
	truth, measurable := toyworld.ConceptByName(meta.Name)
	var images [][]*image.RGBA
	for i := range rows {
		row := &rows[i]
		var line []*image.RGBA
		for j, prompt := range row.Prompts {
			o := neti.GenerateOptions{Steps: *sampleSteps, Seed: *seed + uint64(j), Concepts: []*neti.Concept{c}}
			if row.Truncation != nil {
				o.Truncation, o.Seed = row.Truncation[j], *seed
			}
			imgs, err := p.Generate(ctx, prompt, o)
			if err != nil {
				return err
			}
			line = append(line, imgs[0])
			if measurable {
				row.Fidelity = append(row.Fidelity, toyworld.Fidelity(imgs[0], truth))
				row.Editability = append(row.Editability, toyworld.Editability(imgs[0], toyworld.ParseCaption(prompt)))
			}
			fmt.Fprintf(stderr, "\rgrid row %d/%d: %d/%d images   ", i+1, len(rows), j+1, len(row.Prompts))
		}
		images = append(images, line)
	}
	fmt.Fprintln(stderr)
	for _, row := range rows {
		if len(row.Fidelity) > 0 {
			fmt.Fprintf(stdout, "%-28s fidelity %v  editability %v\n", row.Title, rounded(row.Fidelity), rounded(row.Editability))
		}
	}
	gridPath := filepath.Join(*output, "grid.png")
	if err := writePNG(gridPath, gridRows(images)); err != nil {
		return err
	}
	legend, _ := json.MarshalIndent(rows, "", "  ")
	if err := os.WriteFile(filepath.Join(*output, "grid.json"), legend, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (rows described in grid.json) and %s in %s\n", gridPath,
		neti.FinalConceptPath(*output, placeholder), time.Since(start).Round(time.Second))
	return nil
}

// quickstartRows are the grid's rows: the concept as trained (seeds), in new contexts, and at increasing
// nested-dropout truncations (coarse and editable → faithful).
func quickstartRows(placeholder string, hidden int) []quickstartRow {
	recon := "a " + placeholder
	sweep := []int{2, 8, 32, hidden}
	sweepPrompts := make([]string, len(sweep))
	for i := range sweep {
		sweepPrompts[i] = recon + " on a green background"
	}
	return []quickstartRow{
		{Title: "reconstructions (seeds 0-3)", Prompts: []string{recon, recon, recon, recon}},
		{Title: "new contexts", Prompts: []string{
			recon + " on a black background", "a small " + placeholder + " on the left",
			"a large " + placeholder + " on a yellow background", recon + " at the top on a pink background",
		}},
		{Title: "truncation sweep", Prompts: sweepPrompts, Truncation: sweep},
	}
}

// rounded rounds scores to two decimals for printing.
func rounded(xs []float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = math.Round(x*100) / 100
	}
	return out
}

// gridRows lays rows of equally sized images out top to bottom.
func gridRows(rows [][]*image.RGBA) image.Image {
	w, h := rows[0][0].Bounds().Dx(), rows[0][0].Bounds().Dy()
	cols := 0
	for _, r := range rows {
		cols = max(cols, len(r))
	}
	out := image.NewRGBA(image.Rect(0, 0, w*cols, h*len(rows)))
	for y, r := range rows {
		for x, img := range r {
			draw.Draw(out, image.Rect(x*w, y*h, (x+1)*w, (y+1)*h), img, image.Point{}, draw.Src)
		}
	}
	return out
}
