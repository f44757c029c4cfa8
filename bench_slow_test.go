//go:build slow

package neti

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/stretchr/testify/require"

	"github.com/org/neti/clip"
	"github.com/org/neti/internal/backend"
	"github.com/org/neti/internal/nn"
	"github.com/org/neti/unet"
)

// Full-size benchmarks at random weights, behind -tags slow: the SD 1.5 UNet step at 64×64 latents
// (512×512 pixels) with batch 2 (classifier-free guidance) and the SD 1.5 text encoder on 2 prompts, in
// float32 and bfloat16, on the backend of $GOMLX_BACKEND (CPU when unset; a step takes minutes there).
// Run: GOMLX_BACKEND=xla:cuda go test -tags 'slow xla' -run '^$' -bench SD15 .

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
			b.Log(fmt.Sprintf("backend %s", backend.Describe(be)))
		})
	}
}

func BenchmarkSD15TextEncoder(b *testing.B) {
	text, _ := sd15(b)
	for _, dtype := range []dtypes.DType{dtypes.Float32, dtypes.BFloat16} {
		b.Run(dtype.String(), func(b *testing.B) {
			be, err := backend.New("")
			require.NoError(b, err)
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
