// Command gendata writes the toy-world training set used by tools/toyworld/train.py: n rendered scenes
// (held-out combinations excluded) as PNG files plus metadata.jsonl, heldout.jsonl with the held-out
// evaluation prompts and vocabulary.txt with every caption word. It is a stand-in for `neti toyworld dataset` with the held-out rule always on.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/org/neti/toyworld"
)

func main() {
	out := flag.String("out", "", "output folder")
	n := flag.Int("n", 20000, "number of examples")
	seed := flag.Uint64("seed", 0, "dataset seed")
	metaOnly := flag.Bool("meta_only", false, "write metadata.jsonl only (the PNGs of a larger run with the same seed are reused)")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "gendata: --out is required")
		os.Exit(2)
	}
	ex := toyworld.Dataset(*n, *seed, toyworld.IsHeldOut)
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
	words := strings.Join(toyworld.Vocabulary(), "\n") + "\n"
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
