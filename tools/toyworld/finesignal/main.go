// Command finesignal writes pairs of toy-world scenes that differ in one attribute (coarse or fine), for
// measuring how far each attribute moves an image and its latent: the diffusion loss a UNet can gain from
// following a word is bounded by that distance.
package main

import (
	"flag"
	"fmt"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"

	"github.com/org/neti/toyworld"
)

func main() {
	out := flag.String("out", "", "output folder")
	n := flag.Int("n", 100, "scenes per attribute")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "finesignal: --out is required")
		os.Exit(2)
	}
	must(os.MkdirAll(*out, 0o755))
	type variant func(s *toyworld.Scene, rng *rand.Rand) (a, b toyworld.Scene, ok bool)
	other := func(set []string, not ...string) func(rng *rand.Rand) string {
		return func(rng *rand.Rand) string {
			for {
				v := set[rng.IntN(len(set))]
				if !slices.Contains(not, v) {
					return v
				}
			}
		}
	}
	variants := map[string]variant{
		"colour": func(s *toyworld.Scene, rng *rand.Rand) (toyworld.Scene, toyworld.Scene, bool) {
			b := *s
			b.Color = other(toyworld.Colors, s.Color, s.Background)(rng)
			return *s, b, true
		},
		"shape": func(s *toyworld.Scene, rng *rand.Rand) (toyworld.Scene, toyworld.Scene, bool) {
			b := *s
			b.Shape = other(toyworld.Shapes, s.Shape)(rng)
			return *s, b, true
		},
		"pattern": func(s *toyworld.Scene, rng *rand.Rand) (toyworld.Scene, toyworld.Scene, bool) {
			a, b := *s, *s
			a.Pattern, b.Pattern = "plain", "striped"
			return a, b, true
		},
		"tilt_strong": func(s *toyworld.Scene, rng *rand.Rand) (toyworld.Scene, toyworld.Scene, bool) {
			a, b := *s, *s
			a.Fine.Rotation, b.Fine.Rotation = 0, 16
			return a, b, s.Shape != "circle"
		},
		"tilt_slight": func(s *toyworld.Scene, rng *rand.Rand) (toyworld.Scene, toyworld.Scene, bool) {
			a, b := *s, *s
			a.Fine.Rotation, b.Fine.Rotation = 0, 8
			return a, b, s.Shape != "circle"
		},
		"mark_dot": func(s *toyworld.Scene, rng *rand.Rand) (toyworld.Scene, toyworld.Scene, bool) {
			a, b := *s, *s
			a.Fine.Mark, b.Fine.Mark = "none", "dot"
			return a, b, s.Size != "small"
		},
		"mark_ring": func(s *toyworld.Scene, rng *rand.Rand) (toyworld.Scene, toyworld.Scene, bool) {
			a, b := *s, *s
			a.Fine.Mark, b.Fine.Mark = "dot", "ring"
			return a, b, s.Size != "small"
		},
		"outline": func(s *toyworld.Scene, rng *rand.Rand) (toyworld.Scene, toyworld.Scene, bool) {
			a, b := *s, *s
			a.Fine.Outline, b.Fine.Outline, b.Fine.OutlineWidth = "none", "black", 2
			return a, b, s.Color != "black" && s.Background != "black"
		},
		"outline_width": func(s *toyworld.Scene, rng *rand.Rand) (toyworld.Scene, toyworld.Scene, bool) {
			a, b := *s, *s
			a.Fine.Outline, b.Fine.Outline = "black", "black"
			a.Fine.OutlineWidth, b.Fine.OutlineWidth = 1, 3
			return a, b, s.Color != "black" && s.Background != "black" && s.Size != "small"
		},
		"pattern_scale": func(s *toyworld.Scene, rng *rand.Rand) (toyworld.Scene, toyworld.Scene, bool) {
			a, b := *s, *s
			a.Pattern, b.Pattern = "striped", "striped"
			a.Fine.PatternPeriod, b.Fine.PatternPeriod = 4.5, 7.5
			return a, b, true
		},
		"shade": func(s *toyworld.Scene, rng *rand.Rand) (toyworld.Scene, toyworld.Scene, bool) {
			a, b := *s, *s
			a.Fine.ColorJitter.DL, b.Fine.ColorJitter.DL = -0.05, 0.05
			return a, b, true
		},
	}
	for name, v := range variants {
		rng := rand.New(rand.NewPCG(7, 0))
		for i := 0; i < *n; {
			s := toyworld.RandomScene(rng)
			a, b, ok := v(&s, rng)
			if !ok {
				continue
			}
			write(filepath.Join(*out, fmt.Sprintf("%s_%03d_a.png", name, i)), a)
			write(filepath.Join(*out, fmt.Sprintf("%s_%03d_b.png", name, i)), b)
			i++
		}
	}
}

func write(path string, s toyworld.Scene) {
	f, err := os.Create(path)
	must(err)
	must(png.Encode(f, toyworld.Render(s)))
	must(f.Close())
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "finesignal:", err)
		os.Exit(1)
	}
}
