package main

import (
	"strings"
)

// optionFlags maps how the library's errors and notes name an option (its Go field, or a phrase naming one)
// to how neti's commands name it (the flag, diffusers' names). Longer phrases come first: at each position
// of a message the first match in this order is replaced, so a phrase that already names both the field
// and the flag becomes the flag alone.
var optionFlags = []struct{ field, flag string }{
	// Phrases that name the field and the flag, or the field in a sentence.
	{`ResumeFrom "latest" (--resume_from_checkpoint latest)`, "--resume_from_checkpoint latest"},
	{"(TrainOptions.OutputDir, --output_dir)", "(--output_dir)"},
	{"without ResumeFrom (--resume_from_checkpoint)", "without --resume_from_checkpoint"},
	{"leave ResumeFrom empty", "leave out --resume_from_checkpoint"},
	{"but OutputDir is empty", "but --output_dir is empty"},
	{"(GenerateOptions.Concepts, neti generate --concept FILE)", "(--concept FILE)"},
	{"(GenerateOptions.Concepts)", "(--concept FILE)"},
	{"GenerateOptions.Concepts[", "--concept files ["},
	{`use Templates "toy" (ToyPreset does)`, "use --learnable_property toy (--preset toy does)"},
	{"ToyValidationPrompts suit this model", "--preset toy's validation prompts suit this model"},
	{`super-category "`, `--initializer_token "`},

	// LoadOptions.
	{"LoadOptions.DType", "--dtype"},
	{"LoadOptions.Backend", "--backend"},

	// GenerateOptions.
	{"GenerateOptions.NegativePrompt", "--negative_prompt"},
	{"GenerateOptions.Steps", "--num_inference_steps"},
	{"GenerateOptions.GuidanceScale", "--guidance_scale"},
	{"GenerateOptions.GuidanceRescale", "--guidance_rescale"},
	{"GenerateOptions.Width", "--width"},
	{"GenerateOptions.Height", "--height"},
	{"GenerateOptions.Seed", "--seed"},
	{"GenerateOptions.NumImages", "--num_images_per_prompt"},
	{"GenerateOptions.Sampler", "--scheduler"},
	{"GenerateOptions.Concepts", "--concept"},
	{"GenerateOptions.AllowOtherBaseModel", "--allow_other_base_model"},
	{"GenerateOptions.Truncation", "--truncation"},

	// TrainOptions.
	{"TrainOptions.Placeholder", "--placeholder_token"},
	{"TrainOptions.SuperCategory", "--initializer_token"},
	{"TrainOptions.Method", "--method"},
	{"TrainOptions.NoBypass", "--no_bypass"},
	{"TrainOptions.Normalize", "--normalize_output"},
	{"TrainOptions.TargetNorm", "--target_norm"},
	{"leave TargetNorm 0", "leave out --target_norm"},
	{"TrainOptions.MaxTrainSteps", "--max_train_steps"},
	{"TrainOptions.BatchSize", "--train_batch_size"},
	{"TrainOptions.GradientAccumulation", "--gradient_accumulation_steps"},
	{"TrainOptions.LearningRate", "--learning_rate"},
	{"TrainOptions.NoScaleLR", "--scale_lr=false"},
	{"TrainOptions.Resolution", "--resolution"},
	{"TrainOptions.Squash", "--center_crop=false"},
	{"TrainOptions.MaskedLossBackground", "--masked_loss_background"},
	{"TrainOptions.MaskedLoss", "--masked_loss"},
	{"MaskedLossBackground", "--masked_loss_background"},
	{"but MaskedLoss is off: set MaskedLoss", "but --masked_loss is off: set --masked_loss"},
	{"TrainOptions.Templates", "--learnable_property"},
	{"TrainOptions.Seed", "--seed"},
	{"TrainOptions.OutputDir", "--output_dir"},
	{"TrainOptions.CheckpointEvery", "--checkpointing_steps"},
	{"TrainOptions.KeepCheckpoints", "--checkpoints_total_limit"},
	{"TrainOptions.ResumeFrom", "--resume_from_checkpoint"},
	{"TrainOptions.ValidateEvery", "--validation_steps"},
	{"TrainOptions.ValidationPrompts", "--validation_prompt"},
	{"ResumeFrom", "--resume_from_checkpoint"}, // the checkpoint errors name it without the type
}

// joinValues joins the values of one of the library's string-based option types (neti.Method,
// neti.Templates, neti.Sampler, neti.ExportFormat) for a flag's help; the flags hold the strings, converted
// to the type where the options are filled in, and the library's Validate judges them (its errors name the
// flag through optionFlags).
func joinValues[T ~string](values []T, sep string) string {
	names := make([]string, len(values))
	for i, v := range values {
		names[i] = string(v)
	}
	return strings.Join(names, sep)
}

// flagReplacer applies optionFlags.
var flagReplacer = func() *strings.Replacer {
	var pairs []string
	for _, f := range optionFlags {
		pairs = append(pairs, f.field, f.flag)
	}
	return strings.NewReplacer(pairs...)
}()

// flagText is a library message (error or note) in the command's words: option fields named by their
// flags (optionFlags).
func flagText(msg string) string { return flagReplacer.Replace(msg) }

// flagError is a library error told with flag names instead of Go fields (optionFlags), "neti: " replaced
// by the command's name; it still unwraps to err. Errors that name no field are returned as they are.
func flagError(cmd string, err error) error {
	if err == nil {
		return nil
	}
	msg := flagText(err.Error())
	if msg == err.Error() {
		return err
	}
	msg = strings.TrimPrefix(msg, "neti: ")
	if !strings.HasPrefix(msg, cmd+": ") {
		msg = cmd + ": " + msg
	}
	return &explained{err: err, msg: msg}
}
