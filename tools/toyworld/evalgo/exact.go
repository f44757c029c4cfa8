package main

import (
	"encoding/json"
	"fmt"
	"image"
	"math/rand/v2"
	"os"

	"github.com/org/neti"
	"github.com/org/neti/toyworld"
)

// runExact scores each concept's exact appearance in n random contexts (toyworld.InRandomContexts,
// seed), rendered sharp and through the model's VAE: the fidelity no method can pass on prompts that leave
// the context open, against the VAE ceiling of the concept's own training contexts. By size too, since
// small objects lose their mark and outline first. Writes reportPath.
func runExact(dir string, n int, seed uint64, reportPath string) error {
	p, err := neti.LoadPipeline(dir, neti.LoadOptions{})
	if err != nil {
		return err
	}
	defer p.Close()
	out := map[string]map[string]reference{}
	for _, c := range toyworld.Concepts() {
		scenes := toyworld.InRandomContexts(c, n, rand.New(rand.NewPCG(seed, 0)))
		var sharp []image.Image
		for _, s := range scenes {
			sharp = append(sharp, toyworld.Render(s))
		}
		rec, err := p.Reconstruct(sharp, toyworld.ImageSize)
		if err != nil {
			return err
		}
		vae := map[string][]image.Image{}
		for i, img := range rec {
			vae["all"] = append(vae["all"], img)
			vae[scenes[i].Size] = append(vae[scenes[i].Size], img)
		}
		refs := map[string]reference{"sharp": score(sharp, c)}
		for group, imgs := range vae {
			refs["vae_"+group] = score(imgs, c)
		}
		if refs["ceiling"], err = ceiling(p, c); err != nil {
			return err
		}
		out[c.Name] = refs
		fmt.Printf("%-11s sharp %.3f  vae %.3f (small %.3f medium %.3f large %.3f)  own-context ceiling %.3f\n", c.Name,
			refs["sharp"].Mean, refs["vae_all"].Mean, refs["vae_small"].Mean, refs["vae_medium"].Mean, refs["vae_large"].Mean,
			refs["ceiling"].Mean)
	}
	data, err := json.MarshalIndent(map[string]any{"model": dir, "scenes": n, "seed": seed, "exact": out}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(reportPath, append(data, '\n'), 0o644)
}
