package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/org/neti"
)

func runExport(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	conceptPath := fs.String("concept", "", "NeTI concept file to export (required)")
	format := fs.String("format", string(neti.FormatDiffusers), "embedding format: "+joinValues(neti.EmbeddingFormats, " or "))
	output := fs.String("output", "", "file to write (default: learned_embeds.safetensors for diffusers, "+
		"NAME.safetensors for a1111, NAME being the placeholder without <>; a1111 uses the file name as the prompt word)")
	steps := fs.Int("steps", 50, "average over the timesteps of this many DPM-Solver steps")
	timesteps := fs.String("timesteps", "", "comma-separated timesteps to average over instead of --steps")
	layers := fs.String("layers", "", "comma-separated cross-attention layers 0..15 to average over (default: all)")
	truncation := fs.Int("truncation", 0, "nested-dropout truncation 1..hidden (default: the concept's)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: neti export --concept FILE [--format diffusers|a1111] [--output FILE] [flags]\n\n"+
			"Writes a single-vector textual-inversion embedding: the concept's word embedding averaged over\n"+
			"timesteps and layers (the bypass and the time/layer dependence are lost).")
		fs.PrintDefaults()
	}
	if err := parseFlags("export", fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError("export", fmt.Errorf("export takes no positional arguments; got %q", fs.Args()))
	}
	if err := checkNumbers("export", fs, []string{"steps", "truncation"}, nil); err != nil {
		return err
	}
	if *conceptPath == "" {
		return fmt.Errorf("export: --concept is required (a concept file written by neti train)")
	}
	opts := neti.ExportOptions{Format: neti.ExportFormat(*format), Steps: *steps, Truncation: *truncation}
	var err error
	if opts.Timesteps, err = parseInts("--timesteps", *timesteps); err != nil {
		return err
	}
	if opts.Layers, err = parseInts("--layers", *layers); err != nil {
		return err
	}
	c, err := neti.LoadConcept(*conceptPath)
	if err != nil {
		return err
	}
	path := *output
	if path == "" {
		path = "learned_embeds.safetensors"
		if opts.Format == neti.FormatA1111 {
			path = embeddingName(c.Placeholder) + ".safetensors"
		}
	}
	if err := neti.ExportConcept(path, c, opts); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%s embedding of %s, %d values)\n", path, opts.Format, c.Placeholder, c.Mapper.TextWidth)
	return nil
}

// parseInts parses "1,2,3" ("" is nil).
func parseInts(flagName, s string) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	var out []int
	for _, part := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil {
			return nil, fmt.Errorf("export: %s %q: expected comma-separated integers", flagName, s)
		}
		out = append(out, v)
	}
	return out, nil
}

// embeddingName turns a placeholder into a file name: "<cat-toy>" → "cat-toy".
func embeddingName(placeholder string) string {
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return -1
	}, placeholder)
	if name == "" {
		return "embedding"
	}
	return name
}
