package main

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOptionErrorsNameFlags: the library's option errors reach the user with the flag's name (diffusers'
// names, as the flags are), never the Go field; the ones the input alone decides come before the model
// loads (the model path does not exist, and the error is the option's).
func TestOptionErrorsNameFlags(t *testing.T) {
	images := writeImages(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "out.png")
	missing := "/nonexistent/model"
	train := func(extra ...string) []string {
		return append([]string{"train", "--pretrained_model_name_or_path", missing, "--train_data_dir", images,
			"--placeholder_token", "<toy>", "--output_dir", filepath.Join(dir, "run")}, extra...)
	}
	for name, tc := range map[string]struct {
		args      []string
		want      []string
		modelFree bool // refused before the model is looked up
	}{
		"bad scheduler": {[]string{"generate", "--pretrained_model_name_or_path", missing, "--output", out,
			"--scheduler", "plms", "a cat"}, []string{`generate: --scheduler is "plms"`, "dpm++2m"}, true},
		"bad dtype": {[]string{"generate", "--pretrained_model_name_or_path", missing, "--output", out,
			"--dtype", "int8", "a cat"}, []string{`generate: --dtype is "int8"`, "float32"}, true},
		"too many images": {[]string{"generate", "--pretrained_model_name_or_path", missing, "--output", out,
			"--num_images_per_prompt", "65", "a cat"}, []string{"generate: --num_images_per_prompt is 65", "1 to 64"}, true},
		"width not a multiple": {[]string{"generate", "--pretrained_model_name_or_path", tinyModel, "--output", out,
			"--num_inference_steps", "1", "--width", "100", "a cat"},
			[]string{"generate: --width is 100", "multiple of 32"}, false},
		"missing checkpoint": {train("--resume_from_checkpoint", filepath.Join(dir, "checkpoint-9")),
			[]string{"train: --resume_from_checkpoint", "checkpoint-9", "no such file", `or "latest"`}, true},
		"latest without checkpoints": {train("--resume_from_checkpoint", "latest"),
			[]string{"train: --resume_from_checkpoint", `resume "latest"`, "nothing to resume",
				"leave out --resume_from_checkpoint"}, true},
		"unknown method": {train("--method", "dreambooth"),
			[]string{`train: --method is "dreambooth"`, "neti, ti, pplus"}, true},
		"unknown templates": {train("--learnable_property", "people"),
			[]string{`train: --learnable_property is "people"`}, true},
		"bad dtype (train)": {train("--dtype", "fp8"), []string{`train: --dtype is "fp8"`}, true},
	} {
		t.Run(name, func(t *testing.T) {
			_, stderr, err := runCLI(t, tc.args...)
			require.Error(t, err, stderr)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotRegexp(t, `(Train|Generate|Load)Options|ResumeFrom|neti: `, err.Error(), "no Go names")
			if tc.modelFree {
				assert.NotContains(t, err.Error(), missing, "refused before the model is looked up")
				assert.NotContains(t, stderr, "loaded", "no model loaded")
			}
		})
	}
}

// TestOptionErrorsNameFlagsAfterLoad: errors only the model decides (the resolution's multiple, the
// initializer's tokens) name the flag too, and still unwrap to the library's error.
func TestOptionErrorsNameFlagsAfterLoad(t *testing.T) {
	images := writeImages(t)
	dir := t.TempDir()
	for name, tc := range map[string]struct {
		args []string
		want []string
	}{
		"resolution": {[]string{"--resolution", "100", "--initializer_token", "good"},
			[]string{"train: --resolution is 100", "multiple of 32"}},
		"initializer": {[]string{"--initializer_token", "object"},
			[]string{`train: --initializer_token "object" is`, "single-token word"}},
	} {
		t.Run(name, func(t *testing.T) {
			args := append([]string{"train", "--pretrained_model_name_or_path", tinyModel, "--train_data_dir", images,
				"--placeholder_token", "<toy>", "--output_dir", filepath.Join(dir, name), "--max_train_steps", "1"},
				tc.args...)
			_, stderr, err := runCLI(t, args...)
			require.Error(t, err, stderr)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotRegexp(t, `TrainOptions|super-category|neti: `, err.Error())
			var e *explained
			assert.True(t, errors.As(err, &e), "the library's error is kept underneath")
		})
	}
}

// TestFlagText: phrases naming both the field and the flag become the flag alone; an error naming no
// field is kept as it is.
func TestFlagText(t *testing.T) {
	assert.Equal(t, "resume it with --resume_from_checkpoint latest or choose another",
		flagText(`resume it with ResumeFrom "latest" (--resume_from_checkpoint latest) or choose another`))
	assert.Equal(t, "start a new run in another output folder (--output_dir) without --resume_from_checkpoint",
		flagText("start a new run in another output folder (TrainOptions.OutputDir, --output_dir) without ResumeFrom "+
			"(--resume_from_checkpoint)"))
	assert.Equal(t, "--max_train_steps is 0", flagText("TrainOptions.MaxTrainSteps is 0"))
	assert.Equal(t, "no field here", flagText("no field here"))
	err := errors.New("plain")
	assert.Same(t, err, flagError("train", err), "an error naming no field is returned as it is")
	assert.Nil(t, flagError("train", nil))
}
