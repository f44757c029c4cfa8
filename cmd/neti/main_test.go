package main

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func runCLI(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestGenerateWritesPNG(t *testing.T) {
	path := filepath.Join(t.TempDir(), "grid.png")
	stdout, stderr, err := runCLI(t, "generate", "--pretrained_model_name_or_path", "../../testdata/tiny-sd1",
		"--num_inference_steps", "2", "--num_images_per_prompt", "2", "--seed", "3", "--output", path,
		"a red star on a blue background")
	require.NoError(t, err, stderr)
	assert.Contains(t, stdout, "wrote "+path)
	assert.Regexp(t, `loaded \S+ on (SimpleGo \(go\)|xla: .*PJRT plugin)`, stderr, "the CLI says which backend runs")
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	assert.Equal(t, 128, img.Bounds().Dx(), "two 64-pixel images side by side")
	assert.Equal(t, 64, img.Bounds().Dy())
}

func TestInspectPrintsCounts(t *testing.T) {
	stdout, _, err := runCLI(t, "inspect", "../../testdata/configs/stable-diffusion-v1-5")
	require.NoError(t, err)
	assert.Contains(t, stdout, "859.52 M")
	assert.Contains(t, stdout, "123.06 M")
	assert.Contains(t, stdout, "83.65 M")
	assert.Contains(t, stdout, "weights none: weights: component \"unet\": no weights in", "a configuration-only folder says why nothing would load")
}

func TestCLIErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"no command":      {nil, "no command"},
		"unknown command": {[]string{"train-dreambooth"}, `unknown command "train-dreambooth"`},
		"no prompt":       {[]string{"generate", "--pretrained_model_name_or_path", "x"}, "one prompt"},
		"built-in, word":  {[]string{"generate", "a cat"}, "never saw: cat"},
		"no guidance":     {[]string{"generate", "--pretrained_model_name_or_path", "x", "--guidance_scale", "0", "a cat"}, "--guidance_scale is 0"},
		"NaN guidance":    {[]string{"generate", "--pretrained_model_name_or_path", "x", "--guidance_scale", "NaN", "a cat"}, "--guidance_scale is NaN"},
		"bench guidance":  {[]string{"bench", "--pretrained_model_name_or_path", "x", "--guidance_scale", "0.5"}, "bench: --guidance_scale is 0.5"},
		"rescale range":   {[]string{"generate", "--pretrained_model_name_or_path", "x", "--guidance_rescale", "1.5", "a cat"}, "generate: --guidance_rescale is 1.5; expected φ in [0, 1]"},
		"rescale unguided": {[]string{"bench", "--pretrained_model_name_or_path", "x", "--guidance_scale", "1", "--guidance_rescale", "0.7"},
			"bench: --guidance_rescale is 0.7 but --guidance_scale is 1, which disables guidance; raise --guidance_scale above 1 or set --guidance_rescale to 0"},
		"mask weight alone": {[]string{"train", "--pretrained_model_name_or_path", "x", "--train_data_dir", "../../examples/concepts/tealstar", "--placeholder_token", "<c>",
			"--masked_loss_background", "0.2"}, "train: --masked_loss_background is 0.2 but --masked_loss is off: set --masked_loss"},
		"target norm for TI": {[]string{"train", "--pretrained_model_name_or_path", "x", "--train_data_dir", "../../examples/concepts/tealstar",
			"--placeholder_token", "<c>", "--method", "ti", "--target_norm", "0.8"}, "train: --target_norm is 0.8 with Method \"ti\""},
		"bench mask weight": {[]string{"bench", "--pretrained_model_name_or_path", "x", "--masked_loss", "--masked_loss_background", "1"},
			"--masked_loss_background is 1: expected a weight in [0, 1)"},
		"not png":        {[]string{"generate", "--pretrained_model_name_or_path", "x", "--output", "a.jpg", "a cat"}, "must end in .png"},
		"missing folder": {[]string{"generate", "--pretrained_model_name_or_path", "/nonexistent/model", "a cat"}, "/nonexistent/model"},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := runCLI(t, tc.args...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestGenerateBuiltinModel: without --pretrained_model_name_or_path, generate uses the built-in toy model
// (found under the working directory); a damaged file of it is named, with how to restore it.
func TestGenerateBuiltinModel(t *testing.T) {
	work := t.TempDir()
	model := filepath.Join(work, "models", "toymodel")
	require.NoError(t, os.CopyFS(model, os.DirFS(filepath.Join("..", "..", "models", "toymodel"))))
	t.Chdir(work)
	out := filepath.Join(work, "star.png")
	_, stderr, err := runCLI(t, "generate", "--num_inference_steps", "2", "--output", out, "a red star on a blue background")
	require.NoError(t, err, stderr)
	assert.FileExists(t, out)
	assert.Contains(t, stderr, filepath.Join("models", "toymodel"))

	weights := filepath.Join(model, "unet", "diffusion_pytorch_model.safetensors")
	require.NoError(t, os.Truncate(weights, 100))
	_, _, err = runCLI(t, "generate", "--num_inference_steps", "2", "--output", out, "a red star")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "diffusion_pytorch_model.safetensors")
	assert.Contains(t, err.Error(), "git checkout -- models/toymodel")
}

// TestGenerateBackendChoice checks that --backend auto says which backend it chose and why, and that
// --backend xla:cuda on a machine without a CUDA plugin is one error that says how to install it (GoMLX's
// own plugin download is never tried).
func TestGenerateBackendChoice(t *testing.T) {
	path := filepath.Join(t.TempDir(), "one.png")
	_, stderr, err := runCLI(t, "generate", "--pretrained_model_name_or_path", "../../testdata/tiny-sd1",
		"--num_inference_steps", "1", "--backend", "auto", "--output", path, "a red star")
	require.NoError(t, err, stderr)
	assert.Regexp(t, `\((XLA on the CPU through \S+pjrt\S+\.so|XLA's CPU plugin is not installed.*scripts/pjrt-cpu.sh)`,
		stderr, "--backend auto says what it chose and why")

	_, stderr, err = runCLI(t, "generate", "--pretrained_model_name_or_path", "../../testdata/tiny-sd1",
		"--num_inference_steps", "1", "--backend", "xla:cuda", "--output", path, "a red star")
	require.Error(t, err, "--backend xla:cuda without a CUDA plugin")
	assert.Contains(t, err.Error(), "jax-cuda", "the error says how to install a CUDA plugin")
	assert.NotContains(t, err.Error()+stderr, "api.github.com", "no download is tried")
}
