package neti

import (
	stdcontext "context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/neti/internal/tensortest"
)

// TestGenerateMatchesDiffusers runs the whole pipeline on the tiny models from the same initial latents as
// diffusers' StableDiffusionPipeline (tools/reference/ref_pipeline.py: DPM-Solver++(2M), 5 steps, guidance
// 7.5, negative prompt "") and compares the final latents, the decoded pixels and the 8-bit image; then the
// final latents of the same generation with guidance_rescale 0.7.
func TestGenerateMatchesDiffusers(t *testing.T) {
	for _, model := range []string{"tiny-sd1", "tiny-sd2"} {
		t.Run(model, func(t *testing.T) {
			ref, meta := tensortest.LoadFixture(t, filepath.Join("testdata", "reference", model, "pipeline.safetensors"))
			p, err := LoadPipeline(filepath.Join("testdata", model), LoadOptions{})
			require.NoError(t, err)
			defer p.Close()

			var width, height int
			require.NoError(t, json.Unmarshal([]byte(meta["width"]), &width))
			require.NoError(t, json.Unmarshal([]byte(meta["height"]), &height))
			latents, shape, err := p.sample(stdcontext.Background(), meta["prompt"], GenerateOptions{
				NegativePrompt: meta["negative_prompt"], Steps: 5, GuidanceScale: 7.5, Sampler: "dpm++2m",
				Width: width, Height: height, InitialLatents: tensors.MustCopyFlatData[float32](ref["latents_init"]),
			})
			require.NoError(t, err)
			// Five steps of guidance 7.5 amplify float32 rounding differences of the UNet (each pass
			// matches to ~1e-6); 1e-4 still catches any real deviation (a wrong step moves values by > 1e-2).
			tensortest.AllClose(t, ref["latents_final"], tensors.FromFlatDataAndDimensions(latents, shape[:]...), 1e-4,
				"final latents")

			pixels, dims, err := p.decode(latents, shape)
			require.NoError(t, err)
			tensortest.AllClose(t, ref["decoded"], tensors.FromFlatDataAndDimensions(pixels, dims...), 1e-4, "decoded pixels")

			// diffusers' image (output_type "np") is [1, H, W, 3] in [0, 1]; ours is 8-bit RGB.
			want := tensors.MustCopyFlatData[float32](ref["image"])
			img := toImages(pixels, dims[0], dims[2], dims[3])[0]
			worst := 0.0
			for y := range dims[2] {
				for x := range dims[3] {
					c := img.RGBAAt(x, y)
					for ch, v := range []uint8{c.R, c.G, c.B} {
						d := float64(v)/255 - float64(want[(y*dims[3]+x)*3+ch])
						worst = max(worst, d, -d)
					}
				}
			}
			assert.LessOrEqual(t, worst, 0.5/255+1e-4, "8-bit image vs diffusers' float image: only rounding may differ")

			// The same generation with diffusers' guidance_rescale (rescale_noise_cfg after every guidance).
			var rescale float64
			require.NoError(t, json.Unmarshal([]byte(meta["guidance_rescale"]), &rescale))
			latents, shape, err = p.sample(stdcontext.Background(), meta["prompt"], GenerateOptions{
				NegativePrompt: meta["negative_prompt"], Steps: 5, GuidanceScale: 7.5, GuidanceRescale: rescale,
				Sampler: "dpm++2m", Width: width, Height: height, InitialLatents: tensors.MustCopyFlatData[float32](ref["latents_init"]),
			})
			require.NoError(t, err)
			tensortest.AllClose(t, ref["rescaled.latents_final"], tensors.FromFlatDataAndDimensions(latents, shape[:]...), 1e-4,
				"final latents with guidance_rescale %g", rescale)
		})
	}
}

// TestGenerateIsSeeded checks that a seed fixes the images, and that a different seed changes them.
// Image i of a batch starts from exactly the noise of seed+i alone; its pixels match the image regenerated
// alone to rounding only, as XLA (CPU or GPU) sums in an order that depends on the batch size (on the CI
// machine 2 of 16384 channel values differed by 1/255), where SimpleGo is batch-invariant.
func TestGenerateIsSeeded(t *testing.T) {
	p, err := LoadPipeline(filepath.Join("testdata", "tiny-sd1"), LoadOptions{})
	require.NoError(t, err)
	defer p.Close()
	size := p.unet.InChannels * p.unet.SampleSize * p.unet.SampleSize
	assert.Equal(t, seededNoise(8, 1, size), seededNoise(7, 2, size)[size:], "image 1 of seed 7 starts as image 0 of seed 8")
	opts := GenerateOptions{Steps: 2, Seed: 7, NumImages: 2}
	ctx := stdcontext.Background()
	a, err := p.Generate(ctx, "a red star", opts)
	require.NoError(t, err)
	b, err := p.Generate(ctx, "a red star", opts)
	require.NoError(t, err)
	require.Len(t, a, 2)
	assert.Equal(t, a[0].Pix, b[0].Pix, "same seed, same image")
	assert.NotEqual(t, a[0].Pix, a[1].Pix, "image i of a batch uses seed+i")
	// The second image of seed 7 is the first image of seed 8: images can be regenerated one by one.
	c, err := p.Generate(ctx, "a red star", GenerateOptions{Steps: 2, Seed: 8})
	require.NoError(t, err)
	require.Len(t, c[0].Pix, len(a[1].Pix))
	worst, differ := 0, 0
	for i, v := range a[1].Pix {
		d := int(v) - int(c[0].Pix[i])
		worst = max(worst, d, -d)
		if d != 0 {
			differ++
		}
	}
	assert.LessOrEqual(t, worst, 2, "image 1 of seed 7 vs image 0 of seed 8: channel values may differ by rounding only")
	assert.LessOrEqual(t, differ, len(a[1].Pix)/100, "channel values that differ: at most 1%% of %d", len(a[1].Pix))
}

func TestGenerateCancelled(t *testing.T) {
	p, err := LoadPipeline(filepath.Join("testdata", "tiny-sd1"), LoadOptions{})
	require.NoError(t, err)
	defer p.Close()
	ctx, cancel := stdcontext.WithCancel(stdcontext.Background())
	cancel()
	_, err = p.Generate(ctx, "a red star", GenerateOptions{Steps: 2})
	assert.ErrorIs(t, err, stdcontext.Canceled)
}

// TestInspectRealConfigs builds the real SD 1.4, 1.5 and 2.1 networks from their configurations (random
// weights, nothing executed) and compares the parameter counts with what diffusers/transformers report
// (testdata/reference/param_counts.json, written by tools/reference/param_counts.py).
func TestInspectRealConfigs(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "reference", "param_counts.json"))
	require.NoError(t, err)
	type count struct {
		Total int64 `json:"total"`
	}
	var counts struct {
		Models map[string]struct {
			UNet        count `json:"unet"`
			VAE         count `json:"vae"`
			TextEncoder count `json:"text_encoder"`
		} `json:"models"`
	}
	require.NoError(t, json.Unmarshal(data, &counts))
	require.Len(t, counts.Models, 3)
	for model, want := range counts.Models {
		info, err := Inspect(filepath.Join("testdata", "configs", model))
		require.NoError(t, err, model)
		require.Len(t, info.Components, 3, model)
		byName := map[string]int64{"unet": want.UNet.Total, "vae": want.VAE.Total, "text_encoder": want.TextEncoder.Total}
		for _, c := range info.Components {
			require.NotZero(t, byName[c.Name], "%s %s: no reference count", model, c.Name)
			assert.Equal(t, byName[c.Name], c.Parameters, "%s %s", model, c.Name)
			assert.Empty(t, c.Weights, "configuration-only folder")
			assert.Contains(t, c.WeightsProblem, "no weights in", "%s %s: says why none would load", model, c.Name)
		}
	}
}

// TestLoadPipelineFloat16OnCPU: the pure-Go CPU backend has no float16; the error says so (no panic, nothing
// leaks). It names the backend "go" because XLA on the CPU does have float16.
func TestLoadPipelineFloat16OnCPU(t *testing.T) {
	p, err := LoadPipeline(filepath.Join("testdata", "tiny-sd1"), LoadOptions{Backend: "go", DType: "float16"})
	require.Error(t, err)
	assert.Nil(t, p)
	assert.Contains(t, err.Error(), `DType is "float16"`)
	assert.Contains(t, err.Error(), "bfloat16")
}

func TestCloseTwice(t *testing.T) {
	p, err := LoadPipeline(filepath.Join("testdata", "tiny-sd1"), LoadOptions{})
	require.NoError(t, err)
	p.Close()
	assert.NotPanics(t, p.Close)
}

// TestGenerateBFloat16 runs the tiny SD1 pipeline in bfloat16 (weights and activations; attention scores,
// softmax and norms in float32) and in float32 from the same initial latents for one unguided DPM-Solver++
// step, on the test backend, and compares the resulting latents. One step from t = 999 is the predicted
// clean latent, (x − σ·ε)/α, so the UNet's ε error is multiplied by σ/α ≈ 14.6. bfloat16 keeps 8 significant
// bits (relative rounding 2⁻⁹ ≈ 2e-3), accumulated over the UNet's layers: ε differs by a few 1e-3, the
// latents by a few 1e-2 (measured: mean 0.044, max 0.25 on SimpleGo). Tolerances mean 0.1, max 0.6 still fail
// a wrong cast (an overflow, a weight left in the wrong dtype, a skipped upcast: ε errors of order 1, latent
// errors of order 10). (Over 5 steps with guidance 7.5 the random tiny model amplifies the rounding to
// latent differences of order 1, which says nothing about the cast.)
func TestGenerateBFloat16(t *testing.T) {
	latents := map[string][]float32{}
	for _, dtype := range []string{"float32", "bfloat16"} {
		p, err := LoadPipeline(filepath.Join("testdata", "tiny-sd1"), LoadOptions{DType: dtype})
		require.NoError(t, err, dtype)
		init := make([]float32, 4*16*16) // [1, 4, 16, 16]: 64 pixels, VAE factor 4
		for i := range init {
			init[i] = float32((i*37)%17)/8 - 1
		}
		out, _, err := p.sample(stdcontext.Background(), "a red star on a blue background", GenerateOptions{
			Steps: 1, GuidanceScale: 1, Width: 64, Height: 64, InitialLatents: init})
		p.Close()
		require.NoError(t, err, dtype)
		latents[dtype] = out
	}
	want, got := latents["float32"], latents["bfloat16"]
	require.Len(t, got, len(want))
	worst, sum := 0.0, 0.0
	for i := range want {
		d := math.Abs(float64(want[i] - got[i]))
		worst, sum = max(worst, d), sum+d
	}
	mean := sum / float64(len(want))
	t.Logf("bfloat16 vs float32 final latents: max |Δ| %.4f, mean %.4f", worst, mean)
	assert.LessOrEqual(t, worst, 0.6, "max |Δ|")
	assert.LessOrEqual(t, mean, 0.1, "mean |Δ|")
	assert.Greater(t, mean, 0.0, "bfloat16 must actually round (else the dtype was not applied)")
}
