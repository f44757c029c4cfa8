package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/org/neti"
	"github.com/org/neti/models/toymodel"
)

// defaultModel is the built-in toy-world model (models/toymodel in the repository).
const defaultModel = "models/toymodel"

// builtinModel finds the built-in model: models/toymodel under the working directory (the repository
// root), else next to the executable's folder (bin/neti of a checkout), else the copy built into the
// binary (models/toymodel.DirErr).
func builtinModel() string {
	if _, err := os.Stat(filepath.Join(defaultModel, "model_index.json")); err == nil {
		return defaultModel
	}
	if exe, err := os.Executable(); err == nil {
		candidate := filepath.Join(filepath.Dir(exe), "..", defaultModel)
		if _, err := os.Stat(filepath.Join(candidate, "model_index.json")); err == nil {
			return candidate
		}
	}
	// The copy built into this binary (its source folder, or unpacked once into the cache): found with
	// -trimpath and from any folder.
	if dir, err := toymodel.DirErr(); err == nil {
		return dir
	}
	return defaultModel // LoadPipeline's error then names the missing folder
}

// loadPipeline loads --pretrained_model_name_or_path, or the built-in model when it is empty; an error
// loading the built-in model says how to restore it.
func loadPipeline(model string, opts neti.LoadOptions) (*neti.Pipeline, error) {
	if model != "" {
		return neti.LoadPipeline(model, opts)
	}
	dir := builtinModel()
	p, err := neti.LoadPipeline(dir, opts)
	if err != nil {
		return nil, fmt.Errorf("loading the built-in model %s: %w; if its files are missing or damaged, restore them "+
			"from the repository (git checkout -- %s), or pass --pretrained_model_name_or_path", dir, err, defaultModel)
	}
	return p, nil
}
