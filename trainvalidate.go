package neti

import (
	stdcontext "context"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
)

// validate generates the validation images of the current step with a snapshot of the concept, writes
// them to OutputDir/validation/step-<step>/ (p<prompt>-s<seed>.png) and passes them to OnValidate.
func (t *trainer) validate(ctx stdcontext.Context) error {
	o := t.opts
	c, err := t.snapshot()
	if err != nil {
		return err
	}
	dir := ""
	if o.OutputDir != "" {
		dir = filepath.Join(o.OutputDir, validationDir, fmt.Sprintf("step-%d", t.step))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("neti: train: validation: %w", err)
		}
	}
	var images []*image.RGBA
	for i, tmpl := range o.ValidationPrompts {
		prompt := strings.ReplaceAll(tmpl, "{}", o.Placeholder)
		for _, seed := range o.ValidationSeeds {
			out, err := t.p.Generate(ctx, prompt, GenerateOptions{
				Steps: o.ValidationInferenceSteps, Seed: seed, Concepts: []*Concept{c},
			})
			if err != nil {
				return fmt.Errorf("neti: train: validation at step %d, prompt %q, seed %d: %w", t.step, prompt, seed, err)
			}
			images = append(images, out[0])
			if dir != "" {
				if err := writeValidationPNG(filepath.Join(dir, fmt.Sprintf("p%d-s%d.png", i, seed)), out[0]); err != nil {
					return err
				}
			}
		}
	}
	if o.OnValidate != nil {
		if err := o.OnValidate(t.step, c, images); err != nil {
			return fmt.Errorf("neti: train: validation at step %d: %w", t.step, err)
		}
	}
	return nil
}

// writeValidationPNG writes one validation image.
func writeValidationPNG(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("neti: train: validation: %w", err)
	}
	if err := png.Encode(f, img); err != nil {
		_ = f.Close()
		return fmt.Errorf("neti: train: validation: %s: %w", path, err)
	}
	return f.Close()
}
