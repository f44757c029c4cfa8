package vae

import (
	"path/filepath"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/stretchr/testify/require"

	"github.com/org/neti/internal/safetensors"
	"github.com/org/neti/internal/tensortest"
	"github.com/org/neti/internal/weights"
)

// parityAtol is the float32 tolerance of the parity tests.
const parityAtol = 1e-4

// repoRoot is the repository root relative to this package.
const repoRoot = "../.."

// loadTiny returns the tiny model's vae config and a context holding its weights under "vae".
func loadTiny(t testing.TB, model string) (Config, *context.Context) {
	t.Helper()
	dir := filepath.Join(repoRoot, "testdata", model, "vae")
	cfg, err := LoadConfig(filepath.Join(dir, "config.json"))
	require.NoError(t, err)
	return cfg, loadWeights(t, cfg, filepath.Join(dir, "diffusion_pytorch_model.safetensors"))
}

// loadWeights builds the encoder and decoder graphs once (not executed) so that the context knows every
// variable the model expects, then loads path with internal/weights, which fails on any missing,
// unexpected or mis-shaped tensor. Names go through LegacyName.
func loadWeights(t testing.TB, cfg Config, path string) *context.Context {
	t.Helper()
	ctx := context.New()
	g := graph.NewGraph(newBackend(t), "expected_variables")
	f := cfg.ScaleFactor()
	Encode(ctx.In("vae"), cfg, graph.Parameter(g, "images", shapes.Make(dtypes.Float32, 1, cfg.InChannels, 2*f, 2*f)))
	Decode(ctx.In("vae"), cfg, graph.Parameter(g, "latents", shapes.Make(dtypes.Float32, 1, cfg.LatentChannels, 2, 2)))
	file, err := safetensors.Open(path)
	require.NoError(t, err)
	defer func() { _ = file.Close() }()
	require.NoError(t, weights.Load(ctx.In("vae"), file, weights.Options{Rename: LegacyName}), "loading %s", path)
	for v := range ctx.IterVariables() {
		require.True(t, v.HasValue(), "variable %s has no value in %s", v.ScopeAndName(), path)
	}
	return ctx
}

// checkClose is tensortest.AllClose at the parity tolerance (it logs the measured max |Δ|).
func checkClose(t *testing.T, want, got *tensors.Tensor, what string) {
	t.Helper()
	tensortest.AllClose(t, want, got, parityAtol, what)
}

// newBackend returns the shared CPU test backend.
func newBackend(t testing.TB) backends.Backend {
	t.Helper()
	return tensortest.Backend(t)
}
