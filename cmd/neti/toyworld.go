package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	"math/rand/v2"
	"os"
	"runtime"

	"github.com/org/neti/toyworld"
)

const toyworldUsage = `usage: neti toyworld <dataset|concepts|render|measure|vocab> [flags]

  dataset  --out DIR --n N --seed S [--all]   PNGs + metadata.jsonl ({file, caption, scene}); held-out
                                              combinations are left out unless --all
  concepts --out DIR                          the concepts' training images and concept.json files
  render   --scene JSON | --caption TEXT [--seed S] --out FILE.png
  measure  [--json] FILE.png                  classified attributes (and all measurements with --json)
  vocab                                       caption vocabulary, held-out prompts and concepts as JSON
`

func runToyworld(_ context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError("toyworld", errors.New("toyworld: no subcommand given: expected dataset, concepts, render, measure or vocab"))
	}
	fs := flag.NewFlagSet("toyworld "+args[0], flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(fs.Output(), toyworldUsage+"\nflags:\n"); fs.PrintDefaults() }
	out := fs.String("out", "", "output folder (dataset, concepts) or PNG file (render)")
	n := fs.Int("n", 1000, "number of examples (dataset)")
	seed := fs.Uint64("seed", 0, "random seed (dataset, render --caption)")
	all := fs.Bool("all", false, "keep held-out combinations (dataset)")
	sceneJSON := fs.String("scene", "", "scene as JSON (render)")
	caption := fs.String("caption", "", "caption whose attributes to render (render)")
	asJSON := fs.Bool("json", false, "print all measurements as JSON (measure)")
	subArgs := args[1:]
	if isHelp(args[0]) { // "neti toyworld --help"
		subArgs = args[:1]
	}
	if err := parseFlags("toyworld", fs, subArgs, stdout); err != nil {
		return err
	}
	switch args[0] {
	case "dataset":
		if *out == "" || *n <= 0 {
			return errors.New("toyworld dataset: needs --out DIR and --n > 0")
		}
		var held func(toyworld.Scene) bool
		if !*all {
			held = toyworld.IsHeldOut
		}
		if err := toyworld.WriteDataset(*out, toyworld.Dataset(*n, *seed, held), runtime.NumCPU()); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %d examples to %s\n", *n, *out)
		return nil
	case "concepts":
		if *out == "" {
			return errors.New("toyworld concepts: needs --out DIR (e.g. examples/concepts)")
		}
		return toyworld.WriteConcepts(*out)
	case "render":
		return toyworldRender(*sceneJSON, *caption, *seed, *out, stdout)
	case "measure":
		if fs.NArg() != 1 {
			return fmt.Errorf("toyworld measure: takes one PNG file; got %d arguments", fs.NArg())
		}
		return toyworldMeasure(fs.Arg(0), *asJSON, stdout)
	case "vocab":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{
			"vocabulary": toyworld.Vocabulary(), "shapes": toyworld.Shapes, "colors": toyworld.Colors,
			"patterns": toyworld.Patterns, "sizes": toyworld.Sizes, "positions": toyworld.Positions,
			"held_out": toyworld.HeldOutPrompts(), "concepts": toyworld.Concepts(),
		})
	}
	return usageError("toyworld", fmt.Errorf("toyworld: unknown subcommand %q: expected dataset, concepts, render, "+
		"measure or vocab", args[0]))
}

func toyworldRender(sceneJSON, caption string, seed uint64, out string, stdout io.Writer) error {
	if out == "" || (sceneJSON == "") == (caption == "") {
		return errors.New("toyworld render: needs --out FILE.png and exactly one of --scene JSON or --caption TEXT")
	}
	var s toyworld.Scene
	if sceneJSON != "" {
		if err := json.Unmarshal([]byte(sceneJSON), &s); err != nil {
			return fmt.Errorf("toyworld render: bad --scene JSON: %w", err)
		}
	} else {
		var err error
		if s, err = toyworld.SceneForCaption(caption, rand.New(rand.NewPCG(seed, 0))); err != nil {
			return err
		}
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := png.Encode(f, toyworld.Render(s)); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	data, _ := json.Marshal(s)
	fmt.Fprintf(stdout, "%s\n", data)
	return nil
}

func toyworldMeasure(path string, asJSON bool, stdout io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return fmt.Errorf("toyworld measure: %s: %w", path, err)
	}
	m := toyworld.Measure(img)
	a := toyworld.ClassifyMeasurement(m)
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"attributes": a, "measurement": m})
	}
	fmt.Fprintf(stdout, "shape %s\ncolor %s\npattern %s\nsize %s\nposition %s\nbackground %s\n",
		a.Shape, a.Color, a.Pattern, a.Size, a.Position, a.Background)
	return nil
}
