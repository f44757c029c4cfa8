// Package toymodel holds neti's built-in toy-world model: a small Stable-Diffusion-family text-to-image
// model in diffusers format (this folder), trained by tools/toyworld on scenes rendered by the toyworld
// package. Dir is the folder to pass to neti.LoadPipeline; README.md is the model card.
//
// The model's files (model_index.json and the scheduler, text_encoder, tokenizer, unet and vae folders,
// a few MB) are embedded in every program that imports this package, so the model is found from any build:
// inside a clone, from the module cache, and in a binary built with -trimpath or copied to another machine.
package toymodel

// Sampling settings the model card's measurements use, and the training setting measured best for it.
const (
	// Steps is the number of DPM-Solver++(2M) steps.
	Steps = 20
	// GuidanceScale is the classifier-free guidance weight.
	GuidanceScale = 5.0
	// TargetNorm is the NeTI mapper's output norm (neti.TrainOptions.TargetNorm) neti train, neti bench and
	// the quickstart use on this model unless told otherwise: about twice its shape words' embedding norm,
	// where Textual Inversion's unnormalised vectors grow to. On the 8 shipped concepts × 8 seeds it gave
	// NeTI +0.036 ± 0.017 fidelity over the default (the super-category word's norm) and 1.2 no more than
	// 0.8 (docs/probes/2026-12-05-ceilings.json).
	TargetNorm = 0.8
)
