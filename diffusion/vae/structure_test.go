package vae

import (
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/neti/internal/backend"
)

// TestSD15Structure builds (without executing) the encoder and decoder graphs of the real SD 1.5 VAE config
// with random weights and checks diffusers' parameter count, the variable names and the output shapes.
func TestSD15Structure(t *testing.T) {
	cfg, err := LoadConfig(sd15ConfigPath)
	require.NoError(t, err)
	require.Equal(t, 8, cfg.ScaleFactor())
	be, err := backend.New("")
	require.NoError(t, err)
	ctx := context.New()
	vaeCtx := ctx.In("vae")
	g := graph.NewGraph(be, "sd15_vae_structure")
	images := graph.Parameter(g, "images", shapes.Make(dtypes.Float32, 2, 3, 64, 48))
	mean, logvar := Encode(vaeCtx, cfg, images)
	assert.Equal(t, []int{2, 4, 8, 6}, mean.Shape().Dimensions, "mean of images %s", images.Shape())
	assert.Equal(t, []int{2, 4, 8, 6}, logvar.Shape().Dimensions, "logvar of images %s", images.Shape())
	latents := graph.Parameter(g, "latents", shapes.Make(dtypes.Float32, 1, 4, 8, 4))
	decoded := Decode(vaeCtx, cfg, latents)
	assert.Equal(t, []int{1, 3, 64, 32}, decoded.Shape().Dimensions, "decoded of latents %s", latents.Shape())

	// diffusers: AutoencoderKL.from_config(SD 1.5 vae config) has 248 parameters, 83,653,863 values
	// (measured with diffusers 0.42.1).
	assert.Equal(t, 83_653_863, ctx.NumParameters(), "parameter count")
	assert.Equal(t, 248, ctx.NumVariables(), "variable count")
	for _, name := range []struct {
		scope string
		dims  []int
	}{
		{"/vae/encoder/conv_in/weight", []int{128, 3, 3, 3}},
		{"/vae/encoder/down_blocks/1/resnets/0/conv_shortcut/weight", []int{256, 128, 1, 1}},
		{"/vae/encoder/down_blocks/2/downsamplers/0/conv/weight", []int{512, 512, 3, 3}},
		{"/vae/encoder/mid_block/attentions/0/to_out/0/weight", []int{512, 512}},
		{"/vae/encoder/conv_out/weight", []int{8, 512, 3, 3}},
		{"/vae/quant_conv/weight", []int{8, 8, 1, 1}},
		{"/vae/post_quant_conv/bias", []int{4}},
		{"/vae/decoder/up_blocks/3/resnets/2/norm2/weight", []int{128}},
		{"/vae/decoder/up_blocks/2/resnets/0/conv_shortcut/weight", []int{256, 512, 1, 1}},
		{"/vae/decoder/up_blocks/0/upsamplers/0/conv/weight", []int{512, 512, 3, 3}},
		{"/vae/decoder/conv_norm_out/bias", []int{128}},
	} {
		scope, varName := context.SplitScope(name.scope)
		v := ctx.GetVariableByScopeAndName(scope, varName)
		if assert.NotNil(t, v, "variable %s", name.scope) {
			assert.Equal(t, name.dims, v.Shape().Dimensions, "variable %s", name.scope)
		}
	}
	assert.Nil(t, ctx.GetVariableByScopeAndName("/vae/encoder/down_blocks/3/downsamplers/0/conv", "weight"),
		"the last encoder block has no downsampler")
	assert.Nil(t, ctx.GetVariableByScopeAndName("/vae/decoder/up_blocks/3/upsamplers/0/conv", "weight"),
		"the last decoder block has no upsampler")
}
