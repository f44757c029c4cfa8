package bench

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"

	"github.com/org/neti"
	"github.com/org/neti/toyworld"
)

// references measures a concept's Reference of every kind: the three prompts of
// toyworld.Concept.ReferencePrompts with the evaluation's seeds and sampler settings (a prompt with words
// the model does not know is recorded as skipped) and the VAE round trip of its training images.
func (b *bencher) references(ctx context.Context, c toyworld.Concept) (map[string]Reference, error) {
	super, words, desc := c.ReferencePrompts()
	out := map[string]Reference{}
	for _, r := range []struct{ kind, prompt string }{{RefSuperCategory, super}, {RefWords, words}, {RefDescription, desc}} {
		var scores []float64
		var parts []toyworld.FidelityParts
		for j := range b.opts.Seeds {
			imgs, err := b.p.Generate(ctx, r.prompt, neti.GenerateOptions{Steps: b.opts.SampleSteps, GuidanceScale: b.opts.GuidanceScale, GuidanceRescale: b.opts.GuidanceRescale, Seed: b.opts.Seed + uint64(j)})
			var unknown *neti.UnknownWordsError
			if errors.As(err, &unknown) {
				out[r.kind] = Reference{Prompt: r.prompt, Skipped: fmt.Sprintf("the model does not know %v", unknown.Words)}
				break
			}
			if err != nil {
				return nil, fmt.Errorf("bench: reference %q of %s: %w", r.prompt, c.Name, err)
			}
			detail := toyworld.FidelityDetail(imgs[0], c)
			scores, parts = append(scores, detail.Total), append(parts, detail)
		}
		if len(scores) > 0 {
			out[r.kind] = Reference{Prompt: r.prompt, Fidelity: mean(scores), FidelitySE: standardError(scores), Images: len(scores),
				Parts: meanParts(parts)}
		}
	}
	var train []image.Image
	for _, img := range c.Images() {
		train = append(train, img)
	}
	rec, err := b.p.Reconstruct(train, toyworld.ImageSize)
	if err != nil {
		return nil, fmt.Errorf("bench: the VAE round trip of %s: %w", c.Name, err)
	}
	var scores []float64
	var parts []toyworld.FidelityParts
	for _, img := range rec {
		detail := toyworld.FidelityDetail(img, c)
		scores, parts = append(scores, detail.Total), append(parts, detail)
	}
	out[RefCeiling] = Reference{Fidelity: mean(scores), FidelitySE: standardError(scores), Images: len(scores), Parts: meanParts(parts)}
	return out, nil
}

// gapClosed is (fidelity − floor) / (ceiling − floor) with the floor refs[floor] and the ceiling
// refs[RefCeiling]; nil when either was not measured or the ceiling is not above the floor.
func gapClosed(fidelity float64, refs map[string]Reference, floor string) *float64 {
	lo, okLo := refs[floor]
	hi, okHi := refs[RefCeiling]
	if !okLo || !okHi || lo.Skipped != "" || lo.Images == 0 || hi.Fidelity <= lo.Fidelity {
		return nil
	}
	g := (fidelity - lo.Fidelity) / (hi.Fidelity - lo.Fidelity)
	return &g
}

// summarizeReferences averages each reference kind over the concepts that measured it: the mean of their
// means, with the standard error of that mean from theirs (√Σ seᵢ² / k for k concepts).
func summarizeReferences(concepts []ConceptResult) map[string]Reference {
	out := map[string]Reference{}
	for _, kind := range ReferenceKinds {
		var means []float64
		var parts []toyworld.FidelityParts
		var variance float64
		images := 0
		for _, bc := range concepts {
			r, ok := bc.References[kind]
			if !ok || r.Skipped != "" || r.Images == 0 {
				continue
			}
			means = append(means, r.Fidelity)
			if r.Parts != nil {
				parts = append(parts, *r.Parts)
			}
			variance += r.FidelitySE * r.FidelitySE
			images += r.Images
		}
		if len(means) == 0 {
			continue
		}
		r := Reference{Fidelity: mean(means), FidelitySE: math.Sqrt(variance) / float64(len(means)), Images: images}
		if len(parts) == len(means) {
			r.Parts = meanParts(parts)
		}
		out[kind] = r
	}
	return out
}
