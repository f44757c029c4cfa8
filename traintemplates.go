package neti

import (
	"fmt"
	"strings"
)

// Prompt templates of training (spec §6): each training sample's caption is a template with the placeholder
// in place of {}. The lists are Textual Inversion's, which the original NeTI uses unchanged: 27 for objects
// ("a photo of a {}"), 19 for styles ("a painting in the style of {}").

// Templates names a set of caption templates, the value of TrainOptions.Templates: TemplatesObject (the
// default, "" meaning it), TemplatesStyle or TemplatesToy (TemplateSets). It is a string in JSON (concept
// files, checkpoints).
type Templates string

// Caption template sets of TrainOptions.Templates.
const (
	// TemplatesObject selects ObjectTemplates, for an object concept.
	TemplatesObject Templates = "object"
	// TemplatesStyle selects StyleTemplates, for a style concept.
	TemplatesStyle Templates = "style"
	// TemplatesToy selects ToyTemplates, for the toy-world model (ToyPreset).
	TemplatesToy Templates = "toy"
)

// TemplateSets lists the accepted values of TrainOptions.Templates.
var TemplateSets = []Templates{TemplatesObject, TemplatesStyle, TemplatesToy}

// ObjectTemplates are the 27 caption templates of an object concept (TemplatesObject).
var ObjectTemplates = []string{
	"a photo of a {}",
	"a rendering of a {}",
	"a cropped photo of the {}",
	"the photo of a {}",
	"a photo of a clean {}",
	"a photo of a dirty {}",
	"a dark photo of the {}",
	"a photo of my {}",
	"a photo of the cool {}",
	"a close-up photo of a {}",
	"a bright photo of the {}",
	"a cropped photo of a {}",
	"a photo of the {}",
	"a good photo of the {}",
	"a photo of one {}",
	"a close-up photo of the {}",
	"a rendition of the {}",
	"a photo of the clean {}",
	"a rendition of a {}",
	"a photo of a nice {}",
	"a good photo of a {}",
	"a photo of the nice {}",
	"a photo of the small {}",
	"a photo of the weird {}",
	"a photo of the large {}",
	"a photo of a cool {}",
	"a photo of a small {}",
}

// ToyTemplates are the caption templates of the toy-world model (TemplatesToy, ToyPreset):
// the phrasings of its training captions (toyworld.Caption) with the placeholder as the object, so every
// word is one the model knows. The photo-style templates above use words outside its closed vocabulary.
var ToyTemplates = []string{
	"a {}",
	"a photo of a {}",
	"a picture of a {}",
	"an image of a {}",
}

// ToyValidationPrompts are ToyPreset's validation prompts: the concept alone and in new contexts, in the
// toy world's words.
var ToyValidationPrompts = []string{
	"a {}",
	"a {} on a blue background",
	"a small {} on the left",
	"a large {} at the top",
}

// StyleTemplates are the 19 caption templates of a style concept (TemplatesStyle).
var StyleTemplates = []string{
	"a painting in the style of {}",
	"a rendering in the style of {}",
	"a cropped painting in the style of {}",
	"the painting in the style of {}",
	"a clean painting in the style of {}",
	"a dirty painting in the style of {}",
	"a dark painting in the style of {}",
	"a picture in the style of {}",
	"a cool painting in the style of {}",
	"a close-up painting in the style of {}",
	"a bright painting in the style of {}",
	"a cropped painting in the style of {}",
	"a good painting in the style of {}",
	"a close-up painting in the style of {}",
	"a rendition in the style of {}",
	"a nice painting in the style of {}",
	"a small painting in the style of {}",
	"a weird painting in the style of {}",
	"a large painting in the style of {}",
}

// ValidationPrompts are the prompts of TrainOptions' periodic validation, each with the placeholder in
// place of {}, generated with each of ValidationSeeds (spec §6: 4 prompts × seeds 42, 420, 501, 5456).
var ValidationPrompts = []string{
	"A photo of a {}",
	"A photo of {} on a beach",
	"App icon of {}",
	"A painting of {} in the style of Monet",
}

// ValidationSeeds are the fixed seeds of the validation images.
var ValidationSeeds = []uint64{42, 420, 501, 5456}

// checkTemplateVocabulary rejects, before any work, caption templates and validation prompts with words
// outside a closed-vocabulary model's (the toy model's): the model would read them as noise.
func checkTemplateVocabulary(p *Pipeline, o TrainOptions) error {
	placeholder := []string{strings.ToLower(o.Placeholder)}
	for _, tmpl := range o.templates() {
		if err := p.checkVocabulary(strings.ReplaceAll(tmpl, "{}", o.Placeholder), placeholder); err != nil {
			return fmt.Errorf("neti: train: caption template %q of TrainOptions.Templates %q: %w; "+
				"use Templates %q (ToyPreset does) with this model", tmpl, o.Templates, err, TemplatesToy)
		}
	}
	if o.ValidateEvery == 0 {
		return nil
	}
	for _, pr := range o.ValidationPrompts {
		if err := p.checkVocabulary(strings.ReplaceAll(pr, "{}", o.Placeholder), placeholder); err != nil {
			return fmt.Errorf("neti: train: TrainOptions.ValidationPrompts: %w; ToyValidationPrompts suit this model", err)
		}
	}
	return nil
}
