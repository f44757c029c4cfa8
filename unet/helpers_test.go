package unet

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/stretchr/testify/require"

	"github.com/org/neti/internal/safetensors"
	"github.com/org/neti/internal/tensortest"
	"github.com/org/neti/internal/weights"
)

// tinyModels are the tiny random diffusers pipelines under testdata/ (SD 1.x and SD 2.x UNet layouts).
var tinyModels = []string{"tiny-sd1", "tiny-sd2"}

// repoTestdata is the repository's shared fixture folder.
const repoTestdata = "../testdata"

// referencePath is the diffusers reference output fixture of a tiny model's UNet.
func referencePath(model string) string {
	return filepath.Join(repoTestdata, "reference", model, "unet.safetensors")
}

// testBackend returns the CPU backend shared by the package's tests.
func testBackend(t testing.TB) backends.Backend {
	t.Helper()
	return tensortest.Backend(t)
}

// loadTiny parses the config of a tiny model's UNet and loads its weights into a new context under the
// scope "unet". It returns the context and the checkpoint's tensors.
func loadTiny(t testing.TB, model string) (*Config, *context.Context, map[string]*tensors.Tensor) {
	t.Helper()
	return loadUNet(t, filepath.Join(repoTestdata, model, "unet"))
}

// loadUNet is loadTiny for a diffusers UNet folder dir (config.json, diffusion_pytorch_model.safetensors):
// it builds the graph once on a fresh context, so that every variable the model expects exists with its
// shape, and loads the file with internal/weights, which checks names and shapes in both directions.
func loadUNet(t testing.TB, dir string) (*Config, *context.Context, map[string]*tensors.Tensor) {
	t.Helper()
	cfg, err := LoadConfig(filepath.Join(dir, "config.json"))
	require.NoError(t, err)
	path := filepath.Join(dir, "diffusion_pytorch_model.safetensors")
	ctx := context.New()
	size := 1 << cfg.NumUpsamplers()
	buildGraph(t, ctx, cfg, 1, size, size, 1)
	f, err := safetensors.Open(path)
	require.NoError(t, err)
	defer func() { _ = f.Close() }()
	require.NoError(t, weights.Load(ctx.In("unet"), f, weights.Options{}))
	checkpoint, _ := tensortest.LoadFixture(t, path)
	return cfg, ctx, checkpoint
}

// variableNames lists the variables under the scope "/unet" of ctx as dotted checkpoint names with their
// dimensions, e.g. "conv_in.weight" → "[32 4 3 3]".
func variableNames(ctx *context.Context) map[string]string {
	out := make(map[string]string)
	for v := range ctx.IterVariables() {
		out[dottedName(v)] = fmt.Sprint(v.Shape().Dimensions)
	}
	return out
}

// dottedName is the checkpoint name of a variable under the scope "/unet": "down_blocks.0.resnets.0.conv1.weight".
func dottedName(v *context.Variable) string {
	scope := strings.TrimPrefix(v.Scope(), context.ScopeSeparator+"unet")
	scope = strings.TrimPrefix(scope, context.ScopeSeparator)
	return strings.ReplaceAll(scope, context.ScopeSeparator, ".") + "." + v.Name()
}

// recorder is a Conditioning that forwards to inner and records the layers it was asked for, in order.
type recorder struct {
	inner Conditioning
	asked []Layer
}

// States implements Conditioning.
func (r *recorder) States(l Layer) (keys, values *graph.Node) {
	r.asked = append(r.asked, l)
	return r.inner.States(l)
}
