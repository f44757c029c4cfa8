// Command gendata writes the toy-world training set used by tools/toyworld/train.py: n rendered scenes
// (held-out combinations excluded) as PNG files plus metadata.jsonl, heldout.jsonl with the held-out
// evaluation prompts and vocabulary.txt with every caption word. It is a stand-in for `neti toyworld dataset` with the held-out rule always on.
// With --individuals it adds images of named individuals (toyworld.Individuals) after the n scenes, their
// names in the captions and the vocabulary, and writes individuals.jsonl (name and appearance of each).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/org/neti/toyworld"
)

func main() {
	out := flag.String("out", "", "output folder")
	n := flag.Int("n", 20000, "number of examples")
	seed := flag.Uint64("seed", 0, "dataset seed")
	metaOnly := flag.Bool("meta_only", false, "write metadata.jsonl only (the PNGs of a larger run with the same seed are reused)")
	variants := flag.Int("caption_variants", 0, "also write captions.jsonl: this many extra captions per example, with attributes dropped more often (short prompts)")
	fineMention := flag.Float64("fine_mention", toyworld.FineMention, "with --caption_variants: the probability that a variant names each group of fine words (metadata.jsonl's captions keep toyworld.FineMention)")
	individuals := flag.Int("individuals", 0, "named individuals (toyworld.Individuals, seeded by --seed) shown in --individual_images more images")
	individualImages := flag.Int("individual_images", 0, "with --individuals: images of them added after the n scenes (each of a random individual, in a random context)")
	fineLevels := flag.Int("fine_levels", 0, "also write fine_levels.jsonl: each example's fine values on this many levels (toyworld.Scene.FineLevels), for level_captions.py")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "gendata: --out is required")
		os.Exit(2)
	}
	if *fineMention < 0 || *fineMention > 1 {
		fmt.Fprintf(os.Stderr, "gendata: --fine_mention %v: expected a probability in [0, 1]\n", *fineMention)
		os.Exit(2)
	}
	if *fineLevels < 0 {
		fmt.Fprintf(os.Stderr, "gendata: --fine_levels %d: expected 0 (none) or a number of levels ≥ 1\n", *fineLevels)
		os.Exit(2)
	}
	if (*individuals > 0) != (*individualImages > 0) {
		fmt.Fprintln(os.Stderr, "gendata: --individuals and --individual_images go together (both above 0)")
		os.Exit(2)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "gendata:", err)
		os.Exit(1)
	}
	ex := toyworld.Dataset(*n, *seed, toyworld.IsHeldOut)
	inds, err := toyworld.Individuals(*individuals, *seed)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gendata:", err)
		os.Exit(2)
	}
	who := individualExamples(inds, *seed, *n, *individualImages) // who[j] shows inds[who[j]]: example n+j
	for j, k := range who {
		rng := rand.New(rand.NewPCG(*seed^0x696e646976, uint64(j))) // "indiv"
		s := inds[k].InContext(rng)
		ex = append(ex, toyworld.Example{File: fmt.Sprintf("%06d.png", *n+j), Caption: toyworld.IndividualCaption(inds[k], s, toyworld.FineMention, rng), Scene: s})
	}
	if len(inds) > 0 {
		if err := writeLines(filepath.Join(*out, "individuals.jsonl"), inds); err != nil {
			fmt.Fprintln(os.Stderr, "gendata:", err)
			os.Exit(1)
		}
	}
	if *metaOnly {
		// The PNGs may come from an older renderer whose fine attributes consume the rng differently:
		// coarse attributes and captions still agree except where a held-out scene was redrawn.
		var redrawn []int
		for i := range ex {
			if toyworld.IsHeldOut(toyworld.RandomScene(rand.New(rand.NewPCG(*seed, uint64(i))))) {
				redrawn = append(redrawn, i)
			}
		}
		if err := writeLines(filepath.Join(*out, "redrawn.jsonl"), redrawn); err != nil {
			fmt.Fprintln(os.Stderr, "gendata:", err)
			os.Exit(1)
		}
		if err := writeLines(filepath.Join(*out, "metadata.jsonl"), ex); err != nil {
			fmt.Fprintln(os.Stderr, "gendata:", err)
			os.Exit(1)
		}
	} else if err := toyworld.WriteDataset(*out, ex, runtime.NumCPU()); err != nil {
		fmt.Fprintln(os.Stderr, "gendata:", err)
		os.Exit(1)
	}
	if *variants > 0 {
		caps := captionVariants(ex[:*n], *seed, *variants, *fineMention)
		for j, k := range who {
			rng := rand.New(rand.NewPCG(*seed^0x76617269616e74, uint64(*n+j))) // "variant"
			var vs []string
			for range *variants {
				vs = append(vs, toyworld.IndividualCaption(inds[k], ex[*n+j].Scene, *fineMention, rng))
			}
			caps = append(caps, vs)
		}
		if err := writeLines(filepath.Join(*out, "captions.jsonl"), caps); err != nil {
			fmt.Fprintln(os.Stderr, "gendata:", err)
			os.Exit(1)
		}
	}
	if *fineLevels > 0 {
		levels := make([]toyworld.FineLevels, len(ex))
		for i, e := range ex {
			levels[i] = e.Scene.FineLevels(*fineLevels)
		}
		if err := writeLines(filepath.Join(*out, "fine_levels.jsonl"), levels); err != nil {
			fmt.Fprintln(os.Stderr, "gendata:", err)
			os.Exit(1)
		}
	}
	vocabulary := toyworld.Vocabulary()
	for _, v := range inds {
		vocabulary = append(vocabulary, v.Name)
	}
	slices.Sort(vocabulary)
	words := strings.Join(vocabulary, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(*out, "vocabulary.txt"), []byte(words), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gendata:", err)
		os.Exit(1)
	}
	f, err := os.Create(filepath.Join(*out, "heldout.jsonl"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "gendata:", err)
		os.Exit(1)
	}
	enc := json.NewEncoder(f)
	for _, p := range toyworld.HeldOutPrompts() {
		if err := enc.Encode(p); err != nil {
			fmt.Fprintln(os.Stderr, "gendata:", err)
			os.Exit(1)
		}
	}
	if err := f.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "gendata:", err)
		os.Exit(1)
	}
}

// writeLines writes one JSON value per line.
func writeLines[T any](path string, values []T) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	for _, v := range values {
		if err := enc.Encode(v); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

// captionVariants returns k more captions per example, drawn independently of the scenes' random streams:
// the shape always, the colour with probability 0.9, the background 0.75, size, pattern and position 0.5
// each, each group of fine words with fineMention (toyworld.FineMention for the v2 model, 0.9 for v3). toyworld.Caption keeps each coarse attribute
// with 0.85, so "a red star on a blue background" (what users and the held-out evaluation type) is rare
// among its captions; these variants make such short prompts common.
func captionVariants(ex []toyworld.Example, seed uint64, k int, fineMention float64) [][]string {
	out := make([][]string, len(ex))
	for i, e := range ex {
		rng := rand.New(rand.NewPCG(seed^0x76617269616e74, uint64(i))) // "variant"
		for range k {
			a := e.Scene.Attributes()
			for _, f := range []struct {
				v    *string
				keep float64
			}{{&a.Color, 0.9}, {&a.Background, 0.75}, {&a.Size, 0.5}, {&a.Pattern, 0.5}, {&a.Position, 0.5}} {
				if rng.Float64() >= f.keep {
					*f.v = ""
				}
			}
			a.Fine = toyworld.KeepFine(e.Scene.FineWords(), fineMention, rng)
			out[i] = append(out[i], toyworld.Describe(a, rng))
		}
	}
	return out
}

// individualExamples returns which individual each of m added images shows: every individual equally
// often (m/len(inds) images each, the remainder to the first ones), in an order shuffled by seed.
func individualExamples(inds []toyworld.Individual, seed uint64, n, m int) []int {
	if len(inds) == 0 {
		return nil
	}
	who := make([]int, m)
	for j := range who {
		who[j] = j % len(inds)
	}
	rng := rand.New(rand.NewPCG(seed, uint64(n)+0x73687566)) // "shuf"
	rng.Shuffle(m, func(a, b int) { who[a], who[b] = who[b], who[a] })
	return who
}
