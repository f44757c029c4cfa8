package main

import (
	"encoding/json"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"sort"

	"github.com/org/neti"
	"github.com/org/neti/toyworld"
)

// reconRates counts, for one group of scenes, how often Classify reads the scene's shape, colour and
// background from the rendered image and from its VAE reconstruction.
type reconRates struct {
	Images        int                `json:"images"`
	Rendered      map[string]float64 `json:"rendered"`
	Reconstructed map[string]float64 `json:"reconstructed"`
}

// measureReconstruction renders n scenes of toyworld.Dataset(n, seed, nil), reconstructs them through the
// model's VAE at 64 px (or reads the reconstructions from imagesDir/%06d.png, written by vae_recon.py for
// another VAE) and writes the per-size and overall rates to reportPath, with the fine attributes' rates
// (ClassifyFine against Scene.FineWords) over all scenes.
func measureReconstruction(dir, imagesDir string, n int, seed uint64, reportPath string) error {
	examples := toyworld.Dataset(n, seed, nil)
	rendered := make([]image.Image, n)
	for i, ex := range examples {
		rendered[i] = toyworld.Render(ex.Scene)
	}
	var recon []image.Image
	if imagesDir != "" {
		for i := range n {
			img, err := toyworld.ReadPNG(filepath.Join(imagesDir, fmt.Sprintf("%06d.png", i)))
			if err != nil {
				return err
			}
			recon = append(recon, img)
		}
	} else {
		p, err := neti.LoadPipeline(dir, neti.LoadOptions{})
		if err != nil {
			return err
		}
		defer p.Close()
		out, err := p.Reconstruct(rendered, 64)
		if err != nil {
			return err
		}
		for _, img := range out {
			recon = append(recon, img)
		}
	}
	fineRendered, fineRecon := toyworld.Tally{}, toyworld.Tally{}
	for i, ex := range examples {
		want := ex.Scene.Attributes()
		want.Fine = ex.Scene.FineWords()
		fineRendered.Add(want, toyworld.ClassifyFine(rendered[i]))
		fineRecon.Add(want, toyworld.ClassifyFine(recon[i]))
	}
	counts := map[string]map[string]map[string]int{} // group → "rendered"/"reconstructed" → attribute → hits
	sizes := map[string]int{}
	for i, ex := range examples {
		for _, group := range []string{"all", ex.Scene.Size} {
			sizes[group]++
			for kind, img := range map[string]image.Image{"rendered": rendered[i], "reconstructed": recon[i]} {
				got := toyworld.Classify(img)
				if counts[group] == nil {
					counts[group] = map[string]map[string]int{}
				}
				if counts[group][kind] == nil {
					counts[group][kind] = map[string]int{}
				}
				c := counts[group][kind]
				hits := map[string]bool{"shape": got.Shape == ex.Scene.Shape, "color": got.Color == ex.Scene.Color,
					"background": got.Background == ex.Scene.Background}
				hits["all3"] = hits["shape"] && hits["color"] && hits["background"]
				for k, ok := range hits {
					if ok {
						c[k]++
					}
				}
			}
		}
	}
	out := map[string]reconRates{}
	groups := make([]string, 0, len(counts))
	for group, kinds := range counts {
		r := reconRates{Images: sizes[group], Rendered: map[string]float64{}, Reconstructed: map[string]float64{}}
		for _, k := range []string{"shape", "color", "background", "all3"} {
			r.Rendered[k] = float64(kinds["rendered"][k]) / float64(r.Images)
			r.Reconstructed[k] = float64(kinds["reconstructed"][k]) / float64(r.Images)
		}
		out[group] = r
		groups = append(groups, group)
	}
	sort.Strings(groups)
	for _, g := range groups {
		fmt.Printf("%-7s %4d images  rendered %v  reconstructed %v\n", g, out[g].Images, out[g].Rendered, out[g].Reconstructed)
	}
	fr, fc := fineRendered.Rates(), fineRecon.Rates()
	names := make([]string, 0, len(fr))
	for k := range fr {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Printf("%-14s rendered %.3f  reconstructed %.3f  (%d scenes name it)\n", k, fr[k], fc[k], fineRendered[k][1])
	}
	data, err := json.MarshalIndent(map[string]any{"model": dir, "images": imagesDir, "scenes_seed": seed, "groups": out,
		"fine_rendered": fr, "fine_reconstructed": fc}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(reportPath, data, 0o644)
}
