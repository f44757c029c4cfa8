package neti

import (
	"fmt"
	"image"
	"math"
	"slices"
	"strings"
)

// Method is a training method, the value of TrainOptions.Method: MethodNeTI (the default, "" meaning it),
// MethodTI or MethodPPlus (TrainMethods). The baselines run in the same trainer (same data, prompts,
// timesteps, noise and seeds), only the learned representation differs. It is a string in JSON (concept
// files, checkpoints).
type Method string

// Training methods of TrainOptions.Method.
const (
	// MethodNeTI learns the NeTI mapper M(t, ℓ) with nested dropout and, unless NoBypass, the textual
	// bypass (paper §3).
	MethodNeTI Method = "neti"
	// MethodTI is Textual Inversion: one word vector for every timestep and layer, initialised with the
	// super-category's embedding. It is stored as a concept whose output head has zero weights and the
	// learned vector as its bias, so Concept.Embed is the same for every (t, ℓ).
	MethodTI Method = "ti"
	// MethodPPlus is P+ (XTI): one word vector per cross-attention layer, no time, each initialised with
	// the super-category's embedding and updated by AdamW on its own, as TI's vector is. It is stored as a
	// concept whose Fourier features ignore t (W's time column is zero) and whose hidden layers are frozen:
	// the output head (bias: the super-category's embedding) reproduces the vectors through the fixed
	// per-layer features, which are independent (trainpplus.go).
	MethodPPlus Method = "pplus"
)

// TrainMethods lists the accepted values of TrainOptions.Method.
var TrainMethods = []Method{MethodNeTI, MethodTI, MethodPPlus}

// TrainOptions configures TrainConcept. Zero fields take the documented defaults, which are the original
// NeTI's for Stable Diffusion (spec §6); booleans are phrased so that false is the default.
//
// Every field says whether a resumed run (ResumeFrom) may change it: resume:"must-match" fields must equal
// the checkpoint's once defaults apply (they decide what the run computes), resume:"may-change" fields may
// differ (how long it runs, where and how often it writes, validation, callbacks). A checkpoint records the
// options (JSON), and resuming compares them field by field from these tags, so a new option is declared in
// this struct alone. A must-match field must be recorded in JSON (its json name is not "-").
type TrainOptions struct {
	// Placeholder is the new token that will stand for the concept, e.g. "<cat-toy>". Required; it must
	// not be a word of the tokenizer's vocabulary.
	Placeholder string `json:"placeholder" resume:"must-match"`
	// SuperCategory is a one-token word describing the concept ("object", "dog", "toy"); its embedding norm
	// is the mapper's target norm (TI and P+ start from its embedding). Default "object".
	SuperCategory string `json:"super_category" resume:"must-match"`
	// Method is MethodNeTI (default), MethodTI or MethodPPlus.
	Method Method `json:"method" resume:"must-match"`
	// NoBypass disables NeTI's textual bypass (the paper's ablation). TI and P+ never use it.
	NoBypass bool `json:"no_bypass,omitempty" resume:"must-match"`

	// MaxTrainSteps is the number of optimizer steps. Default 1000.
	MaxTrainSteps int `json:"max_train_steps" resume:"may-change"`
	// BatchSize is the number of images per micro-batch. Default 2.
	BatchSize int `json:"train_batch_size" resume:"must-match"`
	// GradientAccumulation is the number of micro-batches averaged per optimizer step. Default 4.
	GradientAccumulation int `json:"gradient_accumulation_steps" resume:"must-match"`
	// LearningRate is the base learning rate. Default 1e-3.
	LearningRate float64 `json:"learning_rate" resume:"must-match"`
	// NoScaleLR keeps the learning rate as given; by default it is multiplied by BatchSize ×
	// GradientAccumulation (the original's scale_lr: 1e-3 × 8 = 8e-3). The schedule is constant.
	NoScaleLR bool `json:"no_scale_lr,omitempty" resume:"must-match"`
	// Beta1, Beta2, Epsilon and WeightDecay are AdamW's (defaults 0.9, 0.999, 1e-8, 1e-2). WeightDecay
	// applies to every trained tensor, as the original's. Set NoWeightDecay for none.
	Beta1       float64 `json:"adam_beta1" resume:"must-match"`
	Beta2       float64 `json:"adam_beta2" resume:"must-match"`
	Epsilon     float64 `json:"adam_epsilon" resume:"must-match"`
	WeightDecay float64 `json:"adam_weight_decay" resume:"must-match"`
	// NoWeightDecay turns AdamW's weight decay off (Adam).
	NoWeightDecay bool `json:"no_weight_decay,omitempty" resume:"must-match"`

	// Resolution is the side of the square training images in pixels. Default: the model's native size
	// (UNet sample_size × VAE scale factor: 512 for SD 1.x, 768 for SD 2.x 768-v, 64 for tiny-sd1). It
	// must be a multiple of the model's size multiple (64 for SD).
	Resolution int `json:"resolution" resume:"must-match"`
	// Squash resizes non-square images to a square without cropping, as the original's default
	// center_crop=False does (compatibility); by default images are centre-cropped to a square first.
	Squash bool `json:"squash,omitempty" resume:"must-match"`
	// FlipProb is the probability of a horizontal flip per sample. Default 0.5; NoFlip disables flips.
	FlipProb float64 `json:"flip_prob" resume:"must-match"`
	// NoFlip disables horizontal flips (ToyPreset sets it). Flips suit concepts that look the same
	// mirrored (most objects); not one whose orientation is part of it (lettering, a toy concept's tilt).
	NoFlip bool `json:"no_flip,omitempty" resume:"must-match"`
	// MaskedLoss weights each image's loss by its alpha channel, as kohya's --masked_loss with alpha masks:
	// cut the concept out (opaque) and its surroundings (transparent) count MaskedLossBackground, so a
	// concept shown on varying or busy backgrounds is learned without them. The colours are read as stored,
	// not composited; a latent pixel's weight is the mean over its patch of the resized alpha. Images
	// without alpha count every pixel fully. Default false: every pixel counts the same.
	MaskedLoss bool `json:"masked_loss,omitempty" resume:"must-match"`
	// MaskedLossBackground is, with MaskedLoss, the weight of a fully transparent pixel relative to an
	// opaque one, in [0, 1): 0 (default) ignores the surroundings, as kohya; 0.2 keeps some of them (a
	// concept's object pixels then count 5:1, as the toy-world model's own training did).
	MaskedLossBackground float64 `json:"masked_loss_background,omitempty" resume:"must-match"`
	// Templates selects the captions: TemplatesObject (ObjectTemplates, default), TemplatesStyle
	// (StyleTemplates) or TemplatesToy (ToyTemplates, for the toy-world model, whose vocabulary lacks most
	// photo-template words).
	Templates Templates `json:"templates" resume:"must-match"`
	// NestedDropoutProb is the probability of nested dropout per mapper call (NeTI only). Default
	// DefaultNestedDropoutProb (0.5); NoNestedDropout disables it.
	NestedDropoutProb float64 `json:"nested_dropout_prob" resume:"must-match"`
	// NoNestedDropout disables nested dropout.
	NoNestedDropout bool `json:"no_nested_dropout,omitempty" resume:"must-match"`
	// Normalize is the NeTI mapper's output normalisation: NormalizeWord (default: the word half scaled
	// to the super-category's norm, as ViewNeTI) or NormalizeConcat (word ‖ bypass scaled together, as the
	// original code; the word comes out ≈ 1/√2 as long). NeTI only: the baselines learn an unnormalised
	// embedding, and setting it for them is refused.
	Normalize NormalizeMode `json:"normalize,omitempty" resume:"must-match"`
	// TargetNorm is the norm the NeTI mapper's output is normalised to (the original's target_norm).
	// Default 0: the super-category token's embedding norm (about 0.4 in CLIP ViT-L). The original's
	// authors found the exact value "only needs to be in some range"; a larger one gives the learned word
	// more weight against the prompt's other tokens, as TI's unnormalised vectors grow to. NeTI only.
	TargetNorm float64 `json:"target_norm,omitempty" resume:"must-match"`

	// Seed determines everything random: W and the mapper's initial weights, the data order, templates,
	// flips, timesteps, noise, the VAE posterior samples and nested dropout. Same seed, same concept.
	Seed uint64 `json:"seed" resume:"must-match"`

	// OutputDir receives the checkpoints (checkpoint-<step>/), the loss log (loss.jsonl) and the final
	// concept (<placeholder>.safetensors with unsafe characters replaced). "" writes nothing.
	OutputDir string `json:"output_dir" resume:"may-change"`
	// CheckpointEvery is the number of optimizer steps between checkpoints. Default 250; negative
	// disables checkpoints.
	CheckpointEvery int `json:"checkpointing_steps" resume:"may-change"`
	// KeepCheckpoints is how many of the latest checkpoints are kept. Default 3; negative keeps all.
	KeepCheckpoints int `json:"checkpoints_total_limit" resume:"may-change"`
	// ResumeFrom restores a checkpoint folder (…/checkpoint-<step>) or, with "latest", the newest one in
	// OutputDir: mapper, optimizer moments, step and random states, so the run continues exactly as if
	// uninterrupted. A missing checkpoint is an error. MaxTrainSteps may be raised to train further.
	ResumeFrom string `json:"-" resume:"may-change"`

	// ValidateEvery generates validation images every so many optimizer steps (0: never): each of
	// ValidationPrompts with each of ValidationSeeds, guided DPM-Solver++ at the model's size, written to
	// OutputDir/validation/step-<step>/ and passed to OnValidate.
	ValidateEvery int `json:"validation_steps,omitempty" resume:"may-change"`
	// ValidationPrompts are the validation prompts, {} standing for the placeholder. Default
	// ValidationPrompts.
	ValidationPrompts []string `json:"validation_prompts,omitempty" resume:"may-change"`
	// ValidationSeeds are the seeds of the validation images. Default ValidationSeeds.
	ValidationSeeds []uint64 `json:"validation_seeds,omitempty" resume:"may-change"`
	// ValidationInferenceSteps is the number of denoising steps of a validation image. Default 50.
	ValidationInferenceSteps int `json:"validation_inference_steps,omitempty" resume:"may-change"`
	// OnValidate, if set, receives the step, a snapshot of the concept and the validation images
	// (prompt-major: image i·len(seeds) + j is prompt i with seed j). An error stops training.
	OnValidate func(step int, c *Concept, images []*image.RGBA) error `json:"-" resume:"may-change"`
	// OnStep, if set, is called after each optimizer step (and its checkpoint).
	OnStep func(p TrainProgress) `json:"-" resume:"may-change"`
	// OnNote, if set, receives remarks, one line each: on the data (skipped files), and on the outputs of
	// an earlier run in OutputDir that are kept aside (loss.jsonl, validation/, the final concept: see
	// SaveConcept's numbered history); the library never prints.
	OnNote func(note string) `json:"-" resume:"may-change"`
}

// TrainProgress is what TrainOptions.OnStep receives after each optimizer step.
type TrainProgress struct {
	// Step is the optimizer step just done, 1..Total.
	Step, Total int
	// Loss is the mean loss of the step's micro-batches.
	Loss float64
	// StepsPerSecond is the rate of this run so far (since start or resume).
	StepsPerSecond float64
	// ETA is the estimated time to finish, in seconds.
	ETA float64
	// Checkpoint is the folder written at this step, or "".
	Checkpoint string
}

// ToyPreset returns options for the tiny and toy models (toyworld, testdata): the original's settings at
// a scale that trains in minutes on a CPU: 200 steps of batch 2 without accumulation, LR 5e-3 unscaled,
// no horizontal flips (a toy concept's tilt is part of its identity: a flipped image shows another
// concept; `neti bench` measured +0.11 fidelity without them on v1, +0.05 on v3), checkpoints every 50
// steps, the toy world's caption templates (ToyTemplates) and validation prompts (ToyValidationPrompts).
// Fill in Placeholder, SuperCategory and OutputDir. To flip anyway, set NoFlip to false. On v3 other
// learning rates, batch 4 and no nested dropout changed nothing resolvable
// (docs/probes/2026-12-05-toy-preset.json).
func ToyPreset() TrainOptions {
	return TrainOptions{
		MaxTrainSteps: 200, BatchSize: 2, GradientAccumulation: 1, LearningRate: 5e-3, NoScaleLR: true,
		NoFlip: true, CheckpointEvery: 50, Templates: TemplatesToy, ValidationPrompts: ToyValidationPrompts,
	}
}

// Defaults of the original NeTI training (spec §6).
const (
	defaultTrainSteps      = 1000
	defaultBatchSize       = 2
	defaultAccumulation    = 4
	defaultLearningRate    = 1e-3
	defaultBeta1           = 0.9
	defaultBeta2           = 0.999
	defaultEpsilon         = 1e-8
	defaultWeightDecay     = 1e-2
	defaultFlipProb        = 0.5
	defaultCheckpointEvery = 250
	defaultKeepCheckpoints = 3
	defaultSuperCategory   = "object"
)

// withDefaults fills zero fields; nativeResolution is the model's image size.
func (o TrainOptions) withDefaults(nativeResolution int) TrainOptions {
	setInt := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	setFloat := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	if o.SuperCategory == "" {
		o.SuperCategory = defaultSuperCategory
	}
	if o.Method == "" {
		o.Method = MethodNeTI
	}
	if o.Templates == "" {
		o.Templates = TemplatesObject
	}
	setInt(&o.MaxTrainSteps, defaultTrainSteps)
	setInt(&o.BatchSize, defaultBatchSize)
	setInt(&o.GradientAccumulation, defaultAccumulation)
	setInt(&o.Resolution, nativeResolution)
	setInt(&o.CheckpointEvery, defaultCheckpointEvery)
	setInt(&o.KeepCheckpoints, defaultKeepCheckpoints)
	setFloat(&o.LearningRate, defaultLearningRate)
	setFloat(&o.Beta1, defaultBeta1)
	setFloat(&o.Beta2, defaultBeta2)
	setFloat(&o.Epsilon, defaultEpsilon)
	setFloat(&o.WeightDecay, defaultWeightDecay)
	setFloat(&o.FlipProb, defaultFlipProb)
	setFloat(&o.NestedDropoutProb, DefaultNestedDropoutProb)
	if o.Normalize == "" && o.Method == MethodNeTI {
		o.Normalize = NormalizeWord
	}
	if o.ValidationPrompts == nil {
		o.ValidationPrompts = ValidationPrompts
	}
	if o.ValidationSeeds == nil {
		o.ValidationSeeds = ValidationSeeds
	}
	setInt(&o.ValidationInferenceSteps, 50)
	if o.NoWeightDecay {
		o.WeightDecay = 0
	}
	if o.NoFlip {
		o.FlipProb = 0
	}
	if o.NoNestedDropout || o.Method != MethodNeTI {
		o.NestedDropoutProb = 0
	}
	return o
}

// Validate checks, without a model, what the options alone decide (TrainConcept checks them again with
// the model, which adds the Resolution's multiple, the SuperCategory's tokens and the templates' words):
// each field's range once defaults apply, and that ResumeFrom names a checkpoint folder (or, with
// "latest", that OutputDir holds one). Callers such as neti train use it to refuse bad options before a
// model loads. The error names the field.
func (o TrainOptions) Validate() error {
	o = o.withDefaults(0) // Resolution 0 stays "the model's"
	if err := o.validateOptions(); err != nil {
		return err
	}
	if o.ResumeFrom != "" {
		if _, err := resolveCheckpoint(o); err != nil {
			return err
		}
	}
	return nil
}

// validate checks the options once defaults are applied; multiple is the pixel multiple of the model.
func (o TrainOptions) validate(multiple int) error {
	if err := o.validateOptions(); err != nil {
		return err
	}
	if o.Resolution <= 0 || o.Resolution%multiple != 0 {
		return fmt.Errorf("neti: train: TrainOptions.Resolution is %d: expected a positive multiple of %d for this model",
			o.Resolution, multiple)
	}
	return nil
}

// validateOptions checks what needs no model once defaults are applied (Resolution 0: the model's).
func (o TrainOptions) validateOptions() error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("neti: train: TrainOptions."+format, args...)
	}
	if strings.TrimSpace(o.Placeholder) == "" || strings.ContainsAny(o.Placeholder, " \t\n") {
		return fail("Placeholder is %q: expected a new token without spaces, such as \"<my-cat>\"", o.Placeholder)
	}
	if !slices.Contains(TrainMethods, o.Method) {
		return fail("Method is %q: expected one of %s", o.Method, strings.Join(enumNames(TrainMethods), ", "))
	}
	if !slices.Contains(TemplateSets, o.Templates) {
		return fail("Templates is %q: expected %s", o.Templates, quotedOr(enumNames(TemplateSets)))
	}
	switch {
	case o.Method != MethodNeTI && o.Normalize != "" && o.Normalize != NormalizeWord:
		return fail("Normalize is %q with Method %q: only NeTI's mapper output is normalised; leave Normalize empty",
			o.Normalize, o.Method)
	case o.Method != MethodNeTI && o.TargetNorm != 0:
		return fail("TargetNorm is %g with Method %q: only NeTI's mapper output is normalised; leave TargetNorm 0",
			o.TargetNorm, o.Method)
	case math.IsNaN(o.TargetNorm) || o.TargetNorm < 0 || o.TargetNorm > 100:
		return fail("TargetNorm is %g: expected a norm in (0, 100], or 0 for the super-category token's", o.TargetNorm)
	case o.Normalize != NormalizeWord && o.Normalize != NormalizeConcat && o.Method == MethodNeTI:
		return fail("Normalize is %q: expected %q (default) or %q", o.Normalize, NormalizeWord, NormalizeConcat)
	}
	for _, f := range []struct {
		name      string
		v, lo, hi int
	}{
		{"MaxTrainSteps", o.MaxTrainSteps, 1, 1 << 30}, {"BatchSize", o.BatchSize, 1, 1024},
		{"GradientAccumulation", o.GradientAccumulation, 1, 1 << 20}, {"ValidateEvery", o.ValidateEvery, 0, 1 << 30},
		{"ValidationInferenceSteps", o.ValidationInferenceSteps, 1, 1 << 20},
	} {
		if f.v < f.lo || f.v > f.hi {
			return fail("%s is %d: expected %d to %d", f.name, f.v, f.lo, f.hi)
		}
	}
	if o.Resolution < 0 {
		return fail("Resolution is %d: expected a positive multiple of the model's size multiple (64 for SD), or 0 "+
			"for the model's own", o.Resolution)
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	for _, f := range []struct {
		name   string
		v      float64
		lo, hi float64
	}{
		{"LearningRate", o.LearningRate, 1e-12, 10}, {"Beta1", o.Beta1, 0, 1 - 1e-12}, {"Beta2", o.Beta2, 0, 1 - 1e-12},
		{"Epsilon", o.Epsilon, 1e-30, 1}, {"WeightDecay", o.WeightDecay, 0, 1}, {"FlipProb", o.FlipProb, 0, 1},
		{"NestedDropoutProb", o.NestedDropoutProb, 0, 1},
	} {
		if !finite(f.v) || f.v < f.lo || f.v > f.hi {
			return fail("%s is %g: expected %g to %g", f.name, f.v, f.lo, f.hi)
		}
	}
	switch {
	case !finite(o.MaskedLossBackground) || o.MaskedLossBackground < 0 || o.MaskedLossBackground >= 1:
		return fail("MaskedLossBackground is %g: expected a weight in [0, 1) (0 ignores transparent pixels)",
			o.MaskedLossBackground)
	case o.MaskedLossBackground != 0 && !o.MaskedLoss:
		return fail("MaskedLossBackground is %g but MaskedLoss is off: set MaskedLoss to weight the loss by the "+
			"images' alpha, or leave MaskedLossBackground 0", o.MaskedLossBackground)
	}
	if o.ValidateEvery > 0 {
		for _, pr := range o.ValidationPrompts {
			if strings.Count(pr, "{}") != 1 {
				return fail("ValidationPrompts holds %q: expected exactly one {} for the placeholder", pr)
			}
		}
		if len(o.ValidationSeeds) == 0 || o.ValidationInferenceSteps < 1 {
			return fail("ValidationSeeds %v / ValidationInferenceSteps %d: expected seeds and at least one step",
				o.ValidationSeeds, o.ValidationInferenceSteps)
		}
	}
	if o.ResumeFrom == "latest" && o.OutputDir == "" {
		return fail("ResumeFrom is \"latest\" but OutputDir is empty: expected the folder holding checkpoint-<step>")
	}
	return nil
}

// effectiveLR is the learning rate of the optimizer: LearningRate × BatchSize × GradientAccumulation
// unless NoScaleLR.
func (o TrainOptions) effectiveLR() float64 {
	if o.NoScaleLR {
		return o.LearningRate
	}
	return o.LearningRate * float64(o.BatchSize*o.GradientAccumulation)
}

// templates returns the caption templates selected by o.Templates.
func (o TrainOptions) templates() []string {
	switch o.Templates {
	case TemplatesStyle:
		return StyleTemplates
	case TemplatesToy:
		return ToyTemplates
	}
	return ObjectTemplates
}
