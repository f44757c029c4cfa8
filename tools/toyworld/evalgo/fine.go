package main

import (
	stdcontext "context"
	"encoding/json"
	"fmt"
	"image"
	"image/draw"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/org/neti"
	"github.com/org/neti/toyworld"
)

// fineResult is one image of the fine prompt-following measurement.
type fineResult struct {
	Prompt    string              `json:"prompt"`
	Seed      uint64              `json:"seed"`
	Requested toyworld.Attributes `json:"requested"`
	Got       toyworld.Attributes `json:"got"`
}

// runFine measures prompt following of fine attributes: every toyworld.HeldOutFinePrompts prompt with
// seeds first..first+seeds-1, classified by toyworld.ClassifyFine; and the same prompt without its fine
// words (the coarse prompt: how often the model draws each asked-for word unasked, the rate steering
// must beat; with coarseOnly, only that, for models that do not know the fine words). For reference it also classifies the
// scene each prompt describes (toyworld.SceneForCaption: representative values of its words) rendered
// and passed through the model's VAE: the rates the classifier reaches on images that show exactly what
// was asked. With shapes, only the prompts of those shapes.
func runFine(dir string, first, seeds, steps int, guidance float64, coarseOnly bool, shapes []string, gridPath, reportPath string) error {
	prompts := toyworld.HeldOutFinePrompts()
	if len(shapes) > 0 {
		for _, s := range shapes {
			if !slices.Contains(toyworld.Shapes, s) {
				return fmt.Errorf("--shapes %q: %q is not a shape; expected some of %v, comma-separated", strings.Join(shapes, ","), s, toyworld.Shapes)
			}
		}
		prompts = slices.DeleteFunc(prompts, func(pr toyworld.Prompt) bool { return !slices.Contains(shapes, pr.Requested.Shape) })
	}
	p, err := neti.LoadPipeline(dir, neti.LoadOptions{})
	if err != nil {
		return err
	}
	defer p.Close()
	const side = 64
	canvas := image.NewRGBA(image.Rect(0, 0, side*(2*seeds+2), side*len(prompts)))
	generated, unasked, rendered, reconstructed := toyworld.Tally{}, toyworld.Tally{}, toyworld.Tally{}, toyworld.Tally{}
	var results []fineResult
	start := time.Now()
	for i, pr := range prompts {
		s, err := toyworld.SceneForCaption(pr.Text, rand.New(rand.NewPCG(uint64(i), 1)))
		if err != nil {
			return err
		}
		img := toyworld.Render(s)
		rec, err := p.Reconstruct([]image.Image{img}, side)
		if err != nil {
			return err
		}
		rendered.Add(pr.Requested, toyworld.ClassifyFine(img))
		reconstructed.Add(pr.Requested, toyworld.ClassifyFine(rec[0]))
		draw.Draw(canvas, image.Rect(0, i*side, side, (i+1)*side), img, image.Point{}, draw.Src)
		draw.Draw(canvas, image.Rect(side, i*side, 2*side, (i+1)*side), rec[0], image.Point{}, draw.Src)
		coarse := pr.Requested
		coarse.Fine = toyworld.FineWords{}
		coarseText := toyworld.Describe(coarse, rand.New(rand.NewPCG(uint64(i), 17)))
		for k := range seeds {
			seed := uint64(first + k)
			for j, text := range []string{pr.Text, coarseText} {
				if j == 0 && coarseOnly {
					continue
				}
				imgs, err := p.Generate(stdcontext.Background(), text, neti.GenerateOptions{Steps: steps, GuidanceScale: guidance, Seed: seed})
				if err != nil {
					return err
				}
				got := toyworld.ClassifyFine(imgs[0])
				if j == 0 {
					generated.Add(pr.Requested, got)
				} else {
					unasked.Add(pr.Requested, got)
				}
				results = append(results, fineResult{text, seed, pr.Requested, got})
				col := 2 + k + j*seeds
				draw.Draw(canvas, image.Rect(col*side, i*side, (col+1)*side, (i+1)*side), imgs[0], image.Point{}, draw.Src)
			}
		}
	}
	names := make([]string, 0, len(rendered))
	for k := range rendered {
		names = append(names, k)
	}
	sort.Strings(names)
	g, u, rd, rc := generated.Rates(), unasked.Rates(), rendered.Rates(), reconstructed.Rates()
	fmt.Printf("%-14s %9s %9s %9s %9s\n", "attribute", "asked", "unasked", "rendered", "VAE")
	for _, k := range names {
		fmt.Printf("%-14s %9.3f %9.3f %9.3f %9.3f  (%d prompts × %d seeds)\n", k, g[k], u[k], rd[k], rc[k], rendered[k][1], seeds)
	}
	if err := toyworld.WritePNG(gridPath, canvas); err != nil {
		return err
	}
	out := map[string]any{"model": dir, "steps": steps, "guidance": guidance, "seeds": seeds, "images": len(results),
		"rates": g, "unasked_rates": u, "rendered_rates": rd, "vae_rates": rc, "seconds": time.Since(start).Seconds(), "results": results}
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(reportPath, data, 0o644)
}
