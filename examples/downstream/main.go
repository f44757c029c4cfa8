// Command neti-downstream is a program in its own module that uses neti as a library: it loads neti's
// built-in toy-world model (embedded in the binary, extracted once into neti's cache folder when the
// program runs away from a neti clone), generates one image for a prompt in the model's vocabulary and
// writes it as a PNG. See README.md for the commands that build and run it from outside the neti
// repository.
package main

import (
	"context"
	"flag"
	"fmt"
	"image/png"
	"log"
	"os"

	"github.com/org/neti"
	"github.com/org/neti/models/toymodel"
)

func main() {
	prompt := flag.String("prompt", "a red star on a blue background", "what to draw, in the toy-world model's words")
	out := flag.String("out", "star.png", "PNG file to write")
	steps := flag.Int("steps", 8, "denoising steps (DPM-Solver++(2M))")
	size := flag.Int("size", 64, "width and height in pixels")
	seed := flag.Uint64("seed", 1, "seed of the initial noise")
	flag.Parse()
	log.SetFlags(0)

	dir, err := toymodel.DirErr() // the built-in model: its source folder, or its embedded files extracted
	if err != nil {
		log.Fatal(err)
	}
	p, err := neti.LoadPipeline(dir, neti.LoadOptions{}) // backend: $GOMLX_BACKEND, else the fastest here
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()
	images, err := p.Generate(context.Background(), *prompt, neti.GenerateOptions{
		Steps: *steps, GuidanceScale: toymodel.GuidanceScale, Width: *size, Height: *size, Seed: *seed,
	})
	if err != nil {
		log.Fatal(err)
	}
	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	if err := png.Encode(f, images[0]); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
	b := images[0].Bounds()
	fmt.Printf("wrote %s (%d×%d) for %q: model %s, backend %s\n", *out, b.Dx(), b.Dy(), *prompt, dir, p.Backend())
}
