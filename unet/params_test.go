package unet

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// paramCounts is the part of testdata/reference/param_counts.json (diffusers' sum of numel over
// parameters(), per model and top-level module) that this package checks.
type paramCounts struct {
	Models map[string]struct {
		UNet struct {
			Total    int            `json:"total"`
			ByModule map[string]int `json:"by_module"`
		} `json:"unet"`
	} `json:"models"`
}

// TestParameterCountsRealSD builds (without running) the real SD 1.5 and 2.1 UNet graphs with fresh
// variables and compares the number of parameters, in total and per top-level module, with diffusers'.
func TestParameterCountsRealSD(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoTestdata, "reference", "param_counts.json"))
	require.NoError(t, err)
	var want paramCounts
	require.NoError(t, json.Unmarshal(data, &want))
	for _, model := range []string{"stable-diffusion-v1-5", "stable-diffusion-2-1"} {
		ref, ok := want.Models[model]
		require.True(t, ok, "param_counts.json has no entry for %s", model)
		require.NotZero(t, ref.UNet.Total, "param_counts.json: %s unet total", model)
		cfg, err := LoadConfig(filepath.Join("testdata", model+".json"))
		require.NoError(t, err)
		ctx := context.New()
		// 8x8 latents: the smallest size the three downsamplings allow; variables do not depend on it.
		buildGraph(t, ctx, cfg, 1, 8, 8, 77)
		total, byModule := 0, make(map[string]int)
		for name, dims := range variableSizes(ctx) {
			total += dims
			byModule[strings.SplitN(name, ".", 2)[0]] += dims
		}
		assert.Equal(t, ref.UNet.Total, total, "%s: parameters", model)
		assert.Equal(t, ref.UNet.ByModule, byModule, "%s: parameters per module", model)
	}
}

// variableSizes maps the dotted checkpoint name of every variable under "/unet" to its number of elements.
func variableSizes(ctx *context.Context) map[string]int {
	out := make(map[string]int)
	for v := range ctx.IterVariables() {
		out[dottedName(v)] = v.Shape().Size()
	}
	return out
}
