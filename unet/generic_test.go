package unet

import (
	"path/filepath"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/neti/internal/tensortest"
)

// TestForwardParityGenericTopologies compares Forward with diffusers on this package's own tiny fixtures
// (unet/testdata/generic, written by make_generic.py), which exercise the options the SD fixtures do not:
// no mid block, downsample_padding 0, center_input_sample, freq_shift 1 with [sin, cos] features, a custom
// time embedding width, 5x5 conv_in/conv_out, gelu, 3 input channels and 2 output channels (no-mid), and
// mid_block_scale_factor with linear projections (mid-scale).
func TestForwardParityGenericTopologies(t *testing.T) {
	for _, name := range []string{"no-mid", "mid-scale"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("testdata", "generic", name)
			cfg, ctx, _ := loadUNet(t, dir)
			ref, _ := tensortest.LoadFixture(t, filepath.Join(dir, "reference.safetensors"))
			rec := &recorder{}
			exec, err := context.NewExec(testBackend(t), ctx.Reuse(),
				func(ctx *context.Context, sample, timestep, states *graph.Node) *graph.Node {
					rec.inner, rec.asked = Shared(states), nil
					return Forward(ctx.In("unet"), cfg, sample, timestep, rec)
				})
			require.NoError(t, err)
			out, err := exec.Exec(ref["sample"], ref["timestep"], ref["encoder_hidden_states"])
			require.NoError(t, err)
			tensortest.AllClose(t, ref["out"], out[0], parityTolerance, "%s: UNet output", name)
			t.Logf("%s: max |Δ| = %.3g", name, tensortest.MaxDelta(t, ref["out"], out[0]))
			assert.Equal(t, cfg.CrossAttentionLayers(), rec.asked, "%s: layers asked for states", name)
		})
	}
}
