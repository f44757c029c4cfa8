package main

import (
	stdcontext "context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/org/neti"
	"github.com/org/neti/toyworld"
)

// reference is the fidelity of one reference condition on one concept: mean and standard error over
// images, and the mean of each component.
type reference struct {
	Prompt string                 `json:"prompt,omitempty"`
	Images int                    `json:"images"`
	Mean   float64                `json:"mean"`
	SE     float64                `json:"se"`
	Parts  toyworld.FidelityParts `json:"parts"`
}

func score(imgs []image.Image, c toyworld.Concept) reference {
	r := reference{Images: len(imgs)}
	var vals []float64
	for _, img := range imgs {
		f := toyworld.FidelityDetail(img, c)
		vals = append(vals, f.Total)
		r.Parts.Color += f.Color / float64(len(imgs))
		r.Parts.Outline += f.Outline / float64(len(imgs))
		r.Parts.Pattern += f.Pattern / float64(len(imgs))
		r.Parts.Mark += f.Mark / float64(len(imgs))
		r.Parts.Shape += f.Shape / float64(len(imgs))
	}
	for _, v := range vals {
		r.Mean += v / float64(len(vals))
	}
	if len(vals) > 1 {
		var ss float64
		for _, v := range vals {
			ss += (v - r.Mean) * (v - r.Mean)
		}
		r.SE = math.Sqrt(ss/float64(len(vals)-1)) / math.Sqrt(float64(len(vals)))
	}
	r.Parts.Total = r.Mean
	return r
}

// ceiling scores the concept's training images through the model's VAE (Pipeline.Reconstruct): what any
// generation can at best show of it.
func ceiling(p *neti.Pipeline, c toyworld.Concept) (reference, error) {
	var train []image.Image
	for _, img := range c.Images() {
		train = append(train, img)
	}
	rec, err := p.Reconstruct(train, toyworld.ImageSize)
	if err != nil {
		return reference{}, err
	}
	var recs []image.Image
	for _, img := range rec {
		recs = append(recs, img)
	}
	return score(recs, c), nil
}

// conceptPrompts returns the reference prompts of a concept (toyworld.Concept.ReferencePrompts).
func conceptPrompts(c toyworld.Concept) map[string]string {
	super, words, desc := c.ReferencePrompts()
	return map[string]string{"super_category": super, "words": words, "description": desc}
}

// runReferences measures, per concept, the reference fidelities: each reference prompt with seeds
// first..first+seeds-1 (steps DPM-Solver++ steps, guidance), and the ceiling (the concept's own training
// images through the model's VAE); with oracleDir, also the images DIR/<concept>/s<seed>.png written by
// oracle.py (states optimised directly on the diffusion loss). Prompts with words the model does not know are skipped.
func runReferences(dir, oracleDir string, concepts []string, first, seeds, steps int, guidance float64, reportPath string) error {
	p, err := neti.LoadPipeline(dir, neti.LoadOptions{})
	if err != nil {
		return err
	}
	defer p.Close()
	out := map[string]map[string]reference{}
	for _, c := range toyworld.Concepts() {
		if len(concepts) > 0 && !slices.Contains(concepts, c.Name) {
			continue
		}
		refs := map[string]reference{}
		for _, kind := range []string{"super_category", "words", "description"} {
			prompt := conceptPrompts(c)[kind]
			var imgs []image.Image
			for k := range seeds {
				got, err := p.Generate(stdcontext.Background(), prompt, neti.GenerateOptions{Steps: steps, GuidanceScale: guidance, Seed: uint64(first + k)})
				if err != nil {
					var unknown *neti.UnknownWordsError
					if errors.As(err, &unknown) {
						fmt.Printf("%s %s: skipped (%v)\n", c.Name, kind, err)
						break
					}
					return err
				}
				imgs = append(imgs, got[0])
			}
			if len(imgs) > 0 {
				r := score(imgs, c)
				r.Prompt = prompt
				refs[kind] = r
			}
		}
		if refs["ceiling"], err = ceiling(p, c); err != nil {
			return err
		}
		if oracleDir != "" {
			var imgs []image.Image
			for k := range seeds {
				img, err := toyworld.ReadPNG(filepath.Join(oracleDir, c.Name, fmt.Sprintf("s%d.png", first+k)))
				if err != nil {
					return err
				}
				imgs = append(imgs, img)
			}
			refs["oracle"] = score(imgs, c)
		}
		out[c.Name] = refs
		for _, kind := range []string{"super_category", "words", "description", "oracle", "ceiling"} {
			if r, ok := refs[kind]; ok {
				fmt.Printf("%-11s %-14s %.3f ± %.3f  colour %.2f outline %.2f pattern %.2f mark %.2f shape %.2f  %s\n", c.Name, kind,
					r.Mean, r.SE, r.Parts.Color, r.Parts.Outline, r.Parts.Pattern, r.Parts.Mark, r.Parts.Shape, r.Prompt)
			}
		}
	}
	data, err := json.MarshalIndent(map[string]any{"model": dir, "steps": steps, "guidance": guidance, "seeds": seeds,
		"references": out}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(reportPath, data, 0o644)
}

// scoreImages prints the fidelity of the images dir/<concept>/*.png for each concept (Concepts and
// HeldOutConcepts) that has a folder there, and their mean over those concepts.
func scoreImages(dir string) error {
	var means []float64
	for _, c := range append(toyworld.Concepts(), toyworld.HeldOutConcepts()...) {
		files, err := filepath.Glob(filepath.Join(dir, c.Name, "*.png"))
		if err != nil || len(files) == 0 {
			continue
		}
		var imgs []image.Image
		for _, f := range files {
			img, err := toyworld.ReadPNG(f)
			if err != nil {
				return err
			}
			imgs = append(imgs, img)
		}
		r := score(imgs, c)
		means = append(means, r.Mean)
		fmt.Printf("%-11s %.3f ± %.3f  colour %.2f outline %.2f pattern %.2f mark %.2f shape %.2f  (%d images)\n", c.Name,
			r.Mean, r.SE, r.Parts.Color, r.Parts.Outline, r.Parts.Pattern, r.Parts.Mark, r.Parts.Shape, r.Images)
	}
	if len(means) == 0 {
		return fmt.Errorf("no DIR/<concept>/*.png under %s", dir)
	}
	sum := 0.0
	for _, m := range means {
		sum += m
	}
	fmt.Printf("mean of %d concepts: %.3f\n", len(means), sum/float64(len(means)))
	return nil
}
