package neti_test

import (
	"context"
	"fmt"
	"log"

	"github.com/org/neti"
	"github.com/org/neti/models/toymodel"
)

// TrainConcept learns a concept from a folder of images; the options default to the original NeTI's
// (1000 steps of 2 × 4 images, LR 8e-3 after scaling), checkpoints go to OutputDir every 250 steps, and
// progress comes through OnStep. Here on the built-in toy-world model with the toy preset (its caption
// templates use only the model's words; the super-category is one of them). (Not run: training takes
// minutes even on the toy model.)
func ExampleTrainConcept() {
	p, err := neti.LoadPipeline(toymodel.Dir(), neti.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()
	opts := neti.ToyPreset()
	opts.Placeholder, opts.SuperCategory, opts.OutputDir = "<my-toy>", "star", "out/my-toy"
	opts.OnStep = func(pr neti.TrainProgress) {
		fmt.Printf("step %d/%d loss %.4f\n", pr.Step, pr.Total, pr.Loss)
	}
	c, err := neti.TrainConcept(context.Background(), p, []string{"photos/my-toy"}, opts)
	if err != nil {
		log.Fatal(err)
	}
	images, err := p.Generate(context.Background(), "a <my-toy> on a green background",
		neti.GenerateOptions{Concepts: []*neti.Concept{c}, Seed: 42})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(images))
}
