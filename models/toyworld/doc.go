// Package toyworld holds neti's built-in toy-world model: a small Stable-Diffusion-family text-to-image
// model in diffusers format (this folder), trained by tools/toyworld on scenes rendered by the toyworld
// package. Dir is the folder to pass to neti.LoadPipeline; README.md is the model card.
package toyworld

import (
	"path/filepath"
	"runtime"
)

// Dir returns the absolute path of the model folder (the folder holding this file).
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}

// Sampling settings the model card's measurements use.
const (
	// Steps is the number of DPM-Solver++(2M) steps.
	Steps = 20
	// GuidanceScale is the classifier-free guidance weight.
	GuidanceScale = 5.0
)
