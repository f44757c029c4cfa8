//go:build slow

package neti

import (
	stdcontext "context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/stretchr/testify/require"

	"github.com/org/neti/clip"
	"github.com/org/neti/diffusion"
	"github.com/org/neti/internal/backend"
	"github.com/org/neti/internal/nn"
	"github.com/org/neti/unet"
)

// Full-size benchmarks at random weights, behind -tags slow: the SD 1.5 UNet step at 64×64 latents
// (512×512 pixels) with batch 2 (classifier-free guidance) and the SD 1.5 text encoder on 2 prompts, in
// float32 and bfloat16, on the backend of $GOMLX_BACKEND (CPU when unset; a step takes minutes there).
// Run: GOMLX_BACKEND=xla:cuda go test -tags 'slow xla' -run '^$' -bench SD15 .
//
// BenchmarkSD15NeTI* run the library itself on a random-weight SD 1.5 folder (written once per process by
// writeRandomModel, 4 GB, or taken from $NETI_SD15_DIR): one NeTI optimizer step at 512 px (batch 2, 16
// layers' conditioning, UNet forward and backward, AdamW) and a 50-step guided generation with and
// without a concept (1 and 4 images, first and next call of a prompt), in float32 and bfloat16.

func sd15(b *testing.B) (*clip.Config, *unet.Config) {
	dir := filepath.Join("testdata", "configs", "stable-diffusion-v1-5")
	text, err := clip.LoadConfig(filepath.Join(dir, "text_encoder", "config.json"))
	require.NoError(b, err)
	u, err := unet.LoadConfig(filepath.Join(dir, "unet", "config.json"))
	require.NoError(b, err)
	return text, u
}

func BenchmarkSD15UNetStep(b *testing.B) {
	_, u := sd15(b)
	for _, dtype := range []dtypes.DType{dtypes.Float32, dtypes.BFloat16} {
		b.Run(dtype.String(), func(b *testing.B) {
			be, err := backend.New("")
			require.NoError(b, err)
			defer be.Finalize() // b.Run calls this function twice (b.N 1, then the timed N): one client at a time
			ctx := context.New()
			exec, err := context.NewExec(be, ctx, func(ctx *context.Context, sample, t, states *graph.Node) *graph.Node {
				sample, states = graph.ConvertDType(sample, dtype), graph.ConvertDType(states, dtype)
				return graph.ConvertDType(unet.Forward(ctx.In("unet"), u, sample, t, unet.Shared(states)), dtypes.Float32)
			})
			require.NoError(b, err)
			sample := tensors.FromShape(shapes.Make(dtypes.Float32, 2, 4, 64, 64))
			t := tensors.FromValue([]float32{500, 500})
			states := tensors.FromShape(shapes.Make(dtypes.Float32, 2, 77, 768))
			_, err = exec.Exec(sample, t, states) // compile and initialise the random weights
			require.NoError(b, err)
			for b.Loop() {
				out, err := exec.Exec(sample, t, states)
				if err != nil {
					b.Fatal(err)
				}
				_ = out[0].Shape() // outputs stay on the device; reading the shape does not transfer
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
			b.Logf("backend %s", backend.Describe(be))
		})
	}
}

func BenchmarkSD15TextEncoder(b *testing.B) {
	text, _ := sd15(b)
	for _, dtype := range []dtypes.DType{dtypes.Float32, dtypes.BFloat16} {
		b.Run(dtype.String(), func(b *testing.B) {
			be, err := backend.New("")
			require.NoError(b, err)
			defer be.Finalize() // b.Run calls this function twice (b.N 1, then the timed N): one client at a time
			ctx := context.New()
			ctx.SetParam(nn.ParamDType, dtype)
			exec, err := context.NewExec(be, ctx, func(ctx *context.Context, ids *graph.Node) *graph.Node {
				return graph.ConvertDType(clip.Forward(ctx.In("text_encoder"), text, ids), dtypes.Float32)
			})
			require.NoError(b, err)
			ids := tensors.FromShape(shapes.Make(dtypes.Int32, 2, 77))
			_, err = exec.Exec(ids)
			require.NoError(b, err)
			for b.Loop() {
				if _, err := exec.Exec(ids); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "passes/s")
		})
	}
}

// sd15SuperCategory is one token in CLIP's vocabulary and in tiny-sd1's (NETI_SD15_DIR=testdata/tiny-sd1
// checks these benchmarks quickly on the CPU).
const sd15SuperCategory = "good"

var (
	sd15Once sync.Once
	sd15Dir  string
	sd15Err  error
)

// sd15Model returns a random-weight SD 1.5 diffusers folder: $NETI_SD15_DIR, or one written on first use.
func sd15Model(b *testing.B) string {
	sd15Once.Do(func() {
		if sd15Dir = os.Getenv("NETI_SD15_DIR"); sd15Dir != "" {
			return
		}
		var tmp string
		if tmp, sd15Err = os.MkdirTemp("", "neti-sd15-"); sd15Err != nil {
			return
		}
		sd15Dir = filepath.Join(tmp, "model")
		writeRandomModel(b, filepath.Join("testdata", "configs", "stable-diffusion-v1-5"),
			filepath.Join("testdata", "clip-tokenizer"), sd15Dir)
	})
	require.NoError(b, sd15Err)
	return sd15Dir
}

func BenchmarkSD15NeTITrainStep(b *testing.B) {
	dir := sd15Model(b)
	for _, dtype := range []string{"float32", "bfloat16"} {
		b.Run(dtype, func(b *testing.B) {
			p, err := LoadPipeline(dir, LoadOptions{DType: dtype})
			require.NoError(b, err)
			defer p.Close()
			images := writeTestImages(b, filepath.Join(b.TempDir(), "images"), 2)
			tr, err := newTrainer(p, []string{images}, TrainOptions{Placeholder: "<toy>", SuperCategory: sd15SuperCategory,
				MaxTrainSteps: 1 << 20, BatchSize: 2, GradientAccumulation: 1, Seed: 1})
			require.NoError(b, err)
			defer tr.close()
			ctx := stdcontext.Background()
			_, err = tr.optimizerStep(ctx) // compile
			require.NoError(b, err)
			for b.Loop() {
				if _, err := tr.optimizerStep(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
			b.Logf("backend %s", p.Backend())
		})
	}
}

// BenchmarkSD15NeTIGenerate times 50-step guided generations at 512 px of 1 and of 4 images (NumImages, one
// batch), per dtype: plain; a concept prompt's first call (concept-first: the conditioning of all 50 × 16
// (t, ℓ) computed in the call); and its next calls (concept-next: the conditioning cached, as for the second
// image of a prompt). A 1-step call of each kind compiles its executables before the timed ones, and
// concept-next fills the cache untimed. Select one part with -bench, e.g. 'SD15NeTIGenerate/float32/1image'.
func BenchmarkSD15NeTIGenerate(b *testing.B) {
	dir := sd15Model(b)
	for _, dtype := range []string{"float32", "bfloat16"} {
		b.Run(dtype, func(b *testing.B) {
			p, err := LoadPipeline(dir, LoadOptions{DType: dtype})
			require.NoError(b, err)
			defer p.Close()
			images := writeTestImages(b, filepath.Join(b.TempDir(), "images"), 2)
			tr, err := newTrainer(p, []string{images}, TrainOptions{Placeholder: "<toy>", SuperCategory: sd15SuperCategory, Seed: 1})
			require.NoError(b, err)
			concept, err := tr.snapshot() // the initial mapper: the cost does not depend on its weights
			require.NoError(b, err)
			tr.close()
			for _, n := range []int{1, 4} {
				b.Run(fmt.Sprintf("%dimage", n), func(b *testing.B) {
					benchSD15Generate(b, p, concept, n)
				})
			}
		})
	}
}

// benchSD15Generate runs BenchmarkSD15NeTIGenerate's three parts for n images of a prompt.
func benchSD15Generate(b *testing.B, p *Pipeline, concept *Concept, n int) {
	ctx := stdcontext.Background()
	const plainPrompt, conceptPrompt = "a photo of a toy", "a photo of a <toy>"
	plain := GenerateOptions{Steps: 50, Seed: 1, NumImages: n}
	withConcept := plain
	withConcept.Concepts = []*Concept{concept}
	compile := func(prompt string, opts GenerateOptions) {
		opts.Steps = 1
		_, err := p.Generate(ctx, prompt, opts)
		require.NoError(b, err)
	}
	run := func(name, prompt string, opts GenerateOptions, cold bool) {
		b.Run(name, func(b *testing.B) {
			compile(prompt, opts)
			if !cold { // fill the cache for the 50 steps' timesteps, untimed
				plan, err := p.planConcepts(prompt, opts)
				require.NoError(b, err)
				sampler, err := diffusion.NewSampler(string(opts.withDefaults().Sampler), p.schedule, opts.Steps)
				require.NoError(b, err)
				_, err = p.conditioning(prompt, plan, sampler.Timesteps())
				require.NoError(b, err)
			}
			for b.Loop() {
				if cold {
					p.conceptCache = nil
				}
				if _, err := p.Generate(ctx, prompt, opts); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/generation")
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N*n), "s/image")
			b.Logf("backend %s", p.Backend())
		})
	}
	run("plain", plainPrompt, plain, true)
	run("concept-first", conceptPrompt, withConcept, true)
	run("concept-next", conceptPrompt, withConcept, false)
}
