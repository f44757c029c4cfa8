package unet

import (
	"testing"

	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParameterCountsRealSD builds (without running) the real SD 1.5 and 2.1 UNet graphs with fresh
// variables and compares the number of parameters and of tensors with diffusers'
// sum(p.numel() for p in UNet2DConditionModel.from_config(config).parameters()).
func TestParameterCountsRealSD(t *testing.T) {
	cases := []struct {
		config          string
		params, tensors int
	}{
		{"testdata/stable-diffusion-v1-5.json", 859_520_964, 686},
		{"testdata/stable-diffusion-2-1.json", 865_910_724, 686},
	}
	for _, c := range cases {
		cfg, err := LoadConfig(c.config)
		require.NoError(t, err)
		ctx := context.New()
		// 8x8 latents: the smallest size the three downsamplings allow; variables do not depend on it.
		buildGraph(t, ctx, cfg, 1, 8, 8, 77)
		params, tensors := 0, 0
		for v := range ctx.IterVariables() {
			params += v.Shape().Size()
			tensors++
		}
		assert.Equal(t, c.params, params, "%s: parameters", c.config)
		assert.Equal(t, c.tensors, tensors, "%s: parameter tensors", c.config)
	}
}
