package neti

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeModel writes a model_index.json (and the component folders named in dirs) into a temporary folder.
func writeModel(t *testing.T, index string, dirs ...string) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "model_index.json"), []byte(index), 0o644))
	for _, d := range dirs {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, d), 0o755))
	}
	return dir
}

const sdIndex = `{"_class_name": "StableDiffusionPipeline", "_diffusers_version": "0.6.0",
 "scheduler": ["diffusers", "PNDMScheduler"], "text_encoder": ["transformers", "CLIPTextModel"],
 "tokenizer": ["transformers", "CLIPTokenizer"], "unet": ["diffusers", "UNet2DConditionModel"],
 "vae": ["diffusers", "AutoencoderKL"], "safety_checker": ["stable_diffusion", "StableDiffusionSafetyChecker"],
 "feature_extractor": ["transformers", "CLIPImageProcessor"]}`

var sdDirs = []string{"scheduler", "text_encoder", "tokenizer", "unet", "vae"}

func TestReadModelIndex(t *testing.T) {
	idx, err := readModelIndex(writeModel(t, sdIndex, sdDirs...))
	require.NoError(t, err)
	assert.Equal(t, "StableDiffusionPipeline", idx.Class)
	assert.Equal(t, [2]string{"diffusers", "UNet2DConditionModel"}, idx.Components["unet"])
}

func TestReadModelIndexErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		dir  func(t *testing.T) string
		want []string
	}{
		"no model_index.json": {
			dir:  func(t *testing.T) string { return t.TempDir() },
			want: []string{"not a diffusers", "model_index.json"},
		},
		"invalid JSON": {
			dir:  func(t *testing.T) string { return writeModel(t, "{") },
			want: []string{"not valid JSON"},
		},
		"SDXL": {
			dir: func(t *testing.T) string {
				return writeModel(t, `{"_class_name": "StableDiffusionXLPipeline", "text_encoder_2": ["transformers", "CLIPTextModelWithProjection"]}`)
			},
			want: []string{"SDXL", "not supported yet", "StableDiffusionXLPipeline"},
		},
		"other pipeline": {
			dir:  func(t *testing.T) string { return writeModel(t, `{"_class_name": "KandinskyPipeline"}`) },
			want: []string{"KandinskyPipeline", "expected StableDiffusionPipeline"},
		},
		"missing component folder": {
			dir: func(t *testing.T) string {
				return writeModel(t, sdIndex, "scheduler", "text_encoder", "tokenizer", "unet")
			},
			want: []string{`"vae"`, "folder", "missing"},
		},
		"unknown component class": {
			dir: func(t *testing.T) string {
				return writeModel(t, `{"_class_name": "StableDiffusionPipeline", "scheduler": ["diffusers", "PNDMScheduler"],
				 "text_encoder": ["transformers", "T5EncoderModel"], "tokenizer": ["transformers", "CLIPTokenizer"],
				 "unet": ["diffusers", "UNet2DConditionModel"], "vae": ["diffusers", "AutoencoderKL"]}`, sdDirs...)
			},
			want: []string{"T5EncoderModel", "CLIPTextModel"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := tc.dir(t)
			_, err := readModelIndex(dir)
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			// LoadPipeline reports the same problem before reading anything else.
			_, err = LoadPipeline(dir, LoadOptions{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want[0])
		})
	}
}

func TestLoadPipelineBadWeights(t *testing.T) {
	// A copy of the tiny model whose UNet file is truncated: the error names the file, before any graph runs.
	src := filepath.Join("testdata", "tiny-sd1")
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS(src)))
	path := filepath.Join(dir, "unet", "diffusion_pytorch_model.safetensors")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, data[:len(data)/2], 0o644))
	_, err = LoadPipeline(dir, LoadOptions{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "diffusion_pytorch_model.safetensors")
}

func TestOptionsValidation(t *testing.T) {
	assert.ErrorContains(t, LoadOptions{DType: "float64"}.validate(), `DType is "float64"`)
	assert.ErrorContains(t, LoadOptions{DType: "float32", Variant: "fp8"}.validate(), `Variant is "fp8"`)
	good := GenerateOptions{Width: 64, Height: 64}.withDefaults()
	require.NoError(t, good.validate(16))
	for _, tc := range []struct {
		opts GenerateOptions
		want string
	}{
		{GenerateOptions{Steps: -1, Width: 64, Height: 64}, "Steps is -1"},
		{GenerateOptions{GuidanceScale: 0.5, Width: 64, Height: 64}, "GuidanceScale is 0.5"},
		{GenerateOptions{GuidanceScale: math.NaN(), Width: 64, Height: 64}, "GuidanceScale is NaN"},
		{GenerateOptions{GuidanceScale: math.Inf(1), Width: 64, Height: 64}, "GuidanceScale is +Inf"},
		{GenerateOptions{Sampler: "plms", Width: 64, Height: 64}, `Sampler is "plms"`},
		{GenerateOptions{Width: 60, Height: 64}, "Width is 60; expected a positive multiple of 16"},
		{GenerateOptions{NumImages: 100, Width: 64, Height: 64}, "NumImages is 100"},
	} {
		assert.ErrorContains(t, tc.opts.withDefaults().validate(16), tc.want)
	}
}
