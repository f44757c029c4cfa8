// Command generate is the smallest complete use of neti: load a Stable Diffusion model in diffusers format
// and write one image for a prompt.
//
//	go run ./examples/generate -model testdata/tiny-sd1 -prompt "a red star on a blue background"
package main

import (
	"context"
	"flag"
	"image/png"
	"log"
	"os"

	"github.com/org/neti"
)

func main() {
	model := flag.String("model", "testdata/tiny-sd1", "diffusers model folder or Hugging Face id (local cache)")
	prompt := flag.String("prompt", "a red star on a blue background", "what to draw")
	out := flag.String("out", "example.png", "PNG file to write")
	flag.Parse()

	p, err := neti.LoadPipeline(*model, neti.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()
	images, err := p.Generate(context.Background(), *prompt, neti.GenerateOptions{Steps: 20, Seed: 1})
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
	log.Printf("wrote %s on %s", *out, p.Backend())
}
