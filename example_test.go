package neti_test

import (
	"context"
	"fmt"
	"log"

	"github.com/org/neti"
	"github.com/org/neti/models/toymodel"
)

// Inspect counts each network's parameters from a model's configuration alone; here the real Stable
// Diffusion 1.5 configuration (no weights are needed).
func ExampleInspect() {
	info, err := neti.Inspect("testdata/configs/stable-diffusion-v1-5")
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range info.Components {
		fmt.Printf("%s: %d\n", c.Name, c.Parameters)
	}
	// Output:
	// text_encoder: 123060480
	// unet: 859520964
	// vae: 83653863
}

// LoadPipeline checks a diffusers folder (or a Hugging Face id found in the local cache) and loads its text
// encoder, UNet, VAE, tokenizer and noise schedule on the default backend (the CPU unless GOMLX_BACKEND says
// otherwise). Here the built-in toy-world model, which every program importing models/toymodel carries:
// toymodel.Dir is its folder. Its tokenizer has one token for each word of the toy world.
func ExampleLoadPipeline() {
	p, err := neti.LoadPipeline(toymodel.Dir(), neti.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()
	tokens, _, err := p.PromptTokens("a red star on a blue background")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tokens, "tokens")
	// Output:
	// 7 tokens
}

// LoadPipeline reads a diffusers folder (or a Hugging Face id from the local cache); Generate draws images,
// here with the built-in toy-world model, of its size (64 × 64 pixels).
func ExamplePipeline_Generate() {
	p, err := neti.LoadPipeline(toymodel.Dir(), neti.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()
	images, err := p.Generate(context.Background(), "a red star on a blue background", neti.GenerateOptions{
		Steps: 4, GuidanceScale: 7.5, Seed: 42, NumImages: 2,
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, img := range images {
		fmt.Println(img.Bounds().Dx(), "x", img.Bounds().Dy())
	}
	// Output:
	// 64 x 64
	// 64 x 64
}
