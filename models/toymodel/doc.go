// Package toymodel holds neti's built-in toy-world model: a small Stable-Diffusion-family text-to-image
// model in diffusers format (this folder), trained by tools/toyworld on scenes rendered by the toyworld
// package. Dir is the folder to pass to neti.LoadPipeline; README.md is the model card.
//
// The model's files (model_index.json and the scheduler, text_encoder, tokenizer, unet and vae folders,
// a few MB) are embedded in every program that imports this package, so the model is found from any build:
// inside a clone, from the module cache, and in a binary built with -trimpath or copied to another machine.
package toymodel

// Sampling settings the model card's measurements use.
const (
	// Steps is the number of DPM-Solver++(2M) steps.
	Steps = 20
	// GuidanceScale is the classifier-free guidance weight.
	GuidanceScale = 5.0
)
