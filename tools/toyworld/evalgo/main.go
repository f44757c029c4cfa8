// Command evalgo measures how well a toy-world model follows held-out prompts, with the Go pipeline:
// every toyworld.HeldOutPrompts prompt with seeds first_seed..first_seed+seeds-1, classified by toyworld.Classify. It writes
// a grid PNG (a row per prompt, a column per seed) and a JSON report (rates and every classification).
// With --images DIR it classifies DIR/p<prompt>_s<seed>.png instead (written by sample.py --png_dir from
// diffusers during training; the seeds are torch's, so the images differ from Go's, the rates estimate).
// With --recon N it measures the VAE instead: N fresh scenes (toyworld.Dataset with --recon_seed, not the
// training seed 0) rendered, passed through Pipeline.Reconstruct and classified, by size; the rates are the
// ceiling of any generation through this VAE (recon.go). With --fine it measures the fine attributes
// instead: toyworld.HeldOutFinePrompts classified by toyworld.ClassifyFine (fine.go).
package main

import (
	stdcontext "context"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/draw"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/org/neti"
	"github.com/org/neti/toyworld"
)

type result struct {
	Prompt    string              `json:"prompt"`
	Seed      uint64              `json:"seed"`
	Requested toyworld.Attributes `json:"requested"`
	Got       toyworld.Attributes `json:"got"`
	OK        bool                `json:"shape_color_background_ok"`
}

func main() {
	dir := flag.String("model", "models/toymodel", "model folder")
	seeds := flag.Int("seeds", 4, "seeds per prompt")
	first := flag.Int("first_seed", 0, "first seed (run several processes on disjoint seed ranges)")
	steps := flag.Int("steps", 20, "DPM-Solver++ steps")
	guidance := flag.Float64("guidance", 5, "guidance scale")
	grid := flag.String("grid", "grid.png", "output grid PNG")
	report := flag.String("report", "report.json", "output JSON report")
	images := flag.String("images", "", "classify DIR/p<prompt>_s<seed>.png (sample.py --png_dir) instead of generating")
	recon := flag.Int("recon", 0, "measure the VAE on this many fresh rendered scenes instead (writes only --report)")
	reconSeed := flag.Uint64("recon_seed", 1, "toyworld.Dataset seed of the --recon scenes")
	reconImages := flag.String("recon_images", "", "with --recon: read the reconstructions from DIR/%06d.png (vae_recon.py) instead of running the model's VAE")
	fine := flag.Bool("fine", false, "measure prompt following of fine attributes (toyworld.HeldOutFinePrompts) instead")
	references := flag.Bool("references", false, "measure each concept's reference fidelities (word, coarse words, description, VAE ceiling) instead")
	oracle := flag.String("oracle", "", "with --references: also score the oracle images DIR/<concept>/s<seed>.png (oracle.py)")
	concepts := flag.String("concepts", "", "with --references: comma-separated concept names (default all)")
	scoreDir := flag.String("score", "", "score the images DIR/<concept>/*.png of each concept folder found (oracle.py's output) and print their fidelity; nothing is generated")
	coarseOnly := flag.Bool("coarse_only", false, "with --fine: generate only the prompts without their fine words (models that lack them)")
	individuals := flag.String("individuals", "", "measure how the model draws the named individuals of this individuals.jsonl (gendata --individuals) instead: their names, words, descriptions and VAE ceiling")
	count := flag.Int("count", 16, "with --individuals: how many (the file's first)")
	shapes := flag.String("shapes", "", "with --fine: comma-separated shapes, only the prompts of those (models trained on a subset of the world)")
	exact := flag.Int("exact", 0, "score each concept's exact appearance in this many random contexts, sharp and through the VAE (toyworld.InRandomContexts, --recon_seed) instead")
	flag.Parse()
	if *exact > 0 {
		if err := runExact(*dir, *exact, *reconSeed, *report); err != nil {
			fmt.Fprintln(os.Stderr, "evalgo:", err)
			os.Exit(1)
		}
		return
	}
	if *scoreDir != "" {
		if err := scoreImages(*scoreDir); err != nil {
			fmt.Fprintln(os.Stderr, "evalgo:", err)
			os.Exit(1)
		}
		return
	}
	if *individuals != "" {
		if err := runIndividuals(*dir, *individuals, *count, *first, *seeds, *steps, *guidance, *report); err != nil {
			fmt.Fprintln(os.Stderr, "evalgo:", err)
			os.Exit(1)
		}
		return
	}
	if *references {
		var names []string
		if *concepts != "" {
			names = strings.Split(*concepts, ",")
		}
		if err := runReferences(*dir, *oracle, names, *first, *seeds, *steps, *guidance, *report); err != nil {
			fmt.Fprintln(os.Stderr, "evalgo:", err)
			os.Exit(1)
		}
		return
	}
	if *fine {
		var only []string
		if *shapes != "" {
			only = strings.Split(*shapes, ",")
		}
		if err := runFine(*dir, *first, *seeds, *steps, *guidance, *coarseOnly, only, *grid, *report); err != nil {
			fmt.Fprintln(os.Stderr, "evalgo:", err)
			os.Exit(1)
		}
		return
	}
	if *recon > 0 {
		if err := measureReconstruction(*dir, *reconImages, *recon, *reconSeed, *report); err != nil {
			fmt.Fprintln(os.Stderr, "evalgo:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*dir, *images, *first, *seeds, *steps, *guidance, *grid, *report); err != nil {
		fmt.Fprintln(os.Stderr, "evalgo:", err)
		os.Exit(1)
	}
}

func run(dir, imagesDir string, first, seeds, steps int, guidance float64, gridPath, reportPath string) error {
	prompts := toyworld.HeldOutPrompts()
	var generate func(prompt string, seed int) (image.Image, error)
	if imagesDir != "" {
		text, err := os.ReadFile(filepath.Join(imagesDir, "prompts.txt"))
		if err != nil {
			return err
		}
		for i, line := range strings.Split(strings.TrimSpace(string(text)), "\n") {
			if i >= len(prompts) || line != prompts[i].Text {
				return fmt.Errorf("%s line %d is %q: expected toyworld.HeldOutPrompts()'s order", imagesDir, i+1, line)
			}
		}
		index := map[string]int{}
		for i, pr := range prompts {
			index[pr.Text] = i
		}
		generate = func(prompt string, seed int) (image.Image, error) {
			return toyworld.ReadPNG(filepath.Join(imagesDir, fmt.Sprintf("p%02d_s%d.png", index[prompt], seed)))
		}
	} else {
		p, err := neti.LoadPipeline(dir, neti.LoadOptions{})
		if err != nil {
			return err
		}
		defer p.Close()
		generate = func(prompt string, seed int) (image.Image, error) {
			imgs, err := p.Generate(stdcontext.Background(), prompt, neti.GenerateOptions{
				Steps: steps, GuidanceScale: guidance, Seed: uint64(seed),
			})
			if err != nil {
				return nil, err
			}
			return imgs[0], nil
		}
	}
	const side = 64
	canvas := image.NewRGBA(image.Rect(0, 0, side*seeds, side*len(prompts)))
	var results []result
	counts := map[string]int{}
	start := time.Now()
	for i, pr := range prompts {
		for s := range seeds {
			img, err := generate(pr.Text, first+s)
			if err != nil {
				return err
			}
			draw.Draw(canvas, image.Rect(s*side, i*side, (s+1)*side, (i+1)*side), img, image.Point{}, draw.Src)
			got := toyworld.Classify(img)
			r := result{pr.Text, uint64(first + s), pr.Requested, got, got.Shape == pr.Requested.Shape &&
				got.Color == pr.Requested.Color && got.Background == pr.Requested.Background}
			results = append(results, r)
			for name, ok := range map[string]bool{"shape": got.Shape == pr.Requested.Shape,
				"color": got.Color == pr.Requested.Color, "background": got.Background == pr.Requested.Background,
				"all3": r.OK} {
				if ok {
					counts[name]++
				}
			}
		}
	}
	n := float64(len(results))
	rates := map[string]float64{}
	for k, v := range counts {
		rates[k] = float64(v) / n
	}
	if err := toyworld.WritePNG(gridPath, canvas); err != nil {
		return err
	}
	out := map[string]any{"model": dir, "steps": steps, "guidance": guidance, "seeds": seeds,
		"images": len(results), "rates": rates, "seconds": time.Since(start).Seconds(), "results": results}
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	fmt.Printf("images %d, rates %v\n", len(results), rates)
	return os.WriteFile(reportPath, data, 0o644)
}
