package main

import (
	"bufio"
	stdcontext "context"
	"encoding/json"
	"fmt"
	"image"
	"math/rand/v2"
	"os"

	"github.com/org/neti"
	"github.com/org/neti/toyworld"
)

// runIndividuals measures whether a model trained with named individuals (gendata --individuals) draws
// them from their names: for the first count individuals of path (gendata's individuals.jsonl), the
// fidelity of "a <name>", of the individual's coarse words and full description (toyworld.Concept.
// ReferencePrompts) and of five renders of it through the model's VAE (the ceiling), seeds
// first..first+seeds-1, and the means over the individuals.
func runIndividuals(dir, path string, count, first, seeds, steps int, guidance float64, reportPath string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	var inds []toyworld.Individual
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() && len(inds) < count {
		var v toyworld.Individual
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			f.Close()
			return fmt.Errorf("%s: %w", path, err)
		}
		inds = append(inds, v)
	}
	f.Close()
	if err := sc.Err(); err != nil {
		return err
	}
	p, err := neti.LoadPipeline(dir, neti.LoadOptions{})
	if err != nil {
		return err
	}
	defer p.Close()
	kinds := []string{"name", "words", "description", "ceiling"}
	out := map[string]map[string]reference{}
	sum := map[string]float64{}
	for i, v := range inds {
		c := v.Concept(5, rand.New(rand.NewPCG(uint64(i), 0x696e64)))
		_, words, desc := c.ReferencePrompts()
		prompts := map[string]string{"name": toyworld.Describe(toyworld.Attributes{Shape: v.Name}, rand.New(rand.NewPCG(0, 0))),
			"words": words, "description": desc}
		refs := map[string]reference{}
		for _, kind := range kinds[:3] {
			var imgs []image.Image
			for k := range seeds {
				got, err := p.Generate(stdcontext.Background(), prompts[kind], neti.GenerateOptions{Steps: steps, GuidanceScale: guidance, Seed: uint64(first + k)})
				if err != nil {
					return err
				}
				imgs = append(imgs, got[0])
			}
			r := score(imgs, c)
			r.Prompt = prompts[kind]
			refs[kind] = r
		}
		if refs["ceiling"], err = ceiling(p, c); err != nil {
			return err
		}
		out[v.Name] = refs
		for _, kind := range kinds {
			sum[kind] += refs[kind].Mean / float64(len(inds))
			fmt.Printf("%-8s %-12s %.3f ± %.3f  %s\n", v.Name, kind, refs[kind].Mean, refs[kind].SE, refs[kind].Prompt)
		}
	}
	for _, kind := range kinds {
		fmt.Printf("mean     %-12s %.3f\n", kind, sum[kind])
	}
	data, err := json.MarshalIndent(map[string]any{"model": dir, "steps": steps, "guidance": guidance, "seeds": seeds,
		"individuals": out, "means": sum}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(reportPath, data, 0o644)
}
