package vae

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// paramCounts is the part of testdata/reference/param_counts.json (diffusers' parameter counts of the real
// configs, from tools/reference/param_counts.py) this package checks.
type paramCounts struct {
	Models map[string]struct {
		VAE struct {
			Total    int            `json:"total"`
			ByModule map[string]int `json:"by_module"`
		} `json:"vae"`
	} `json:"models"`
}

// realConfigPath is the vae/config.json of a real Stable Diffusion model (configs only, no weights).
func realConfigPath(model string) string {
	return filepath.Join(repoRoot, "testdata", "configs", model, "vae", "config.json")
}

// TestRealConfigParamCounts builds (without executing) the encoder and decoder graphs of the real SD 1.4,
// 1.5 and 2.1 VAE configs with random weights and checks diffusers' parameter counts, in total and per
// top-level module, and the output shapes.
func TestRealConfigParamCounts(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "testdata", "reference", "param_counts.json"))
	require.NoError(t, err)
	var counts paramCounts
	require.NoError(t, json.Unmarshal(data, &counts))
	require.NotEmpty(t, counts.Models, "param_counts.json lists no models")
	for model, want := range counts.Models {
		cfg, err := LoadConfig(realConfigPath(model))
		require.NoError(t, err, "config of %s", model)
		assert.Equal(t, 8, cfg.ScaleFactor(), "ScaleFactor of %s", model)
		ctx := context.New()
		g := graph.NewGraph(newBackend(t), "param_count")
		images := graph.Parameter(g, "images", shapes.Make(dtypes.Float32, 2, 3, 64, 48))
		mean, logvar := Encode(ctx.In("vae"), cfg, images)
		assert.Equal(t, []int{2, 4, 8, 6}, mean.Shape().Dimensions, "%s: mean of images %s", model, images.Shape())
		assert.Equal(t, []int{2, 4, 8, 6}, logvar.Shape().Dimensions, "%s: logvar of images %s", model, images.Shape())
		latents := graph.Parameter(g, "latents", shapes.Make(dtypes.Float32, 1, 4, 8, 4))
		decoded := Decode(ctx.In("vae"), cfg, latents)
		assert.Equal(t, []int{1, 3, 64, 32}, decoded.Shape().Dimensions, "%s: decoded of latents %s", model,
			latents.Shape())

		assert.Equal(t, want.VAE.Total, ctx.NumParameters(), "%s: parameter count", model)
		byModule := map[string]int{}
		for v := range ctx.IterVariables() {
			module := strings.Split(strings.TrimPrefix(v.Scope(), "/vae/"), "/")[0]
			byModule[module] += v.Shape().Size()
		}
		assert.Equal(t, want.VAE.ByModule, byModule, "%s: parameters per module", model)
	}
}

// TestSD15VariableNames spot-checks variable scopes and shapes of the SD 1.5 VAE against diffusers' tensor
// names and PyTorch layouts.
func TestSD15VariableNames(t *testing.T) {
	cfg, err := LoadConfig(realConfigPath("stable-diffusion-v1-5"))
	require.NoError(t, err)
	ctx := context.New()
	g := graph.NewGraph(newBackend(t), "sd15_names")
	Encode(ctx.In("vae"), cfg, graph.Parameter(g, "images", shapes.Make(dtypes.Float32, 1, 3, 16, 16)))
	Decode(ctx.In("vae"), cfg, graph.Parameter(g, "latents", shapes.Make(dtypes.Float32, 1, 4, 2, 2)))
	// diffusers' AutoencoderKL with this config has 248 parameter tensors.
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

// TestOptionalLayers checks that use_quant_conv, use_post_quant_conv and mid_block_add_attention set to
// false leave out their variables, and that a two-level model scales by 2.
func TestOptionalLayers(t *testing.T) {
	cfg, err := ParseConfig([]byte(`{"block_out_channels": [8, 16], "down_block_types": ["DownEncoderBlock2D",
		"DownEncoderBlock2D"], "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D"], "norm_num_groups": 4,
		"latent_channels": 2, "use_quant_conv": false, "use_post_quant_conv": false,
		"mid_block_add_attention": false}`))
	require.NoError(t, err)
	ctx := context.New()
	g := graph.NewGraph(newBackend(t), "optional_layers")
	mean, _ := Encode(ctx, cfg, graph.Parameter(g, "images", shapes.Make(dtypes.Float32, 1, 3, 10, 6)))
	assert.Equal(t, []int{1, 2, 5, 3}, mean.Shape().Dimensions, "mean of images [1, 3, 10, 6]")
	decoded := Decode(ctx, cfg, graph.Parameter(g, "latents", shapes.Make(dtypes.Float32, 1, 2, 5, 3)))
	assert.Equal(t, []int{1, 3, 10, 6}, decoded.Shape().Dimensions, "decoded of latents [1, 2, 5, 3]")
	for v := range ctx.IterVariables() {
		assert.NotContains(t, v.ScopeAndName(), "quant_conv", "use_quant_conv/use_post_quant_conv false")
		assert.NotContains(t, v.ScopeAndName(), "attentions", "mid_block_add_attention false")
	}
	assert.NotNil(t, ctx.GetVariableByScopeAndName("/decoder/mid_block/resnets/1/conv2", "weight"),
		"the mid block keeps its two resnets")
}
