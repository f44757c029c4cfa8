package unet

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/neti/internal/tensortest"
)

// parityTolerance is the float32 tolerance of the parity tests against diffusers.
const parityTolerance = 1e-4

// TestForwardParity compares Forward with Shared text states against diffusers' UNet2DConditionModel on
// the tiny SD 1.x (conv projections) and SD 2.x (linear projections, per-block heads) models.
func TestForwardParity(t *testing.T) {
	for _, model := range tinyModels {
		t.Run(model, func(t *testing.T) {
			cfg, ctx, _ := loadTiny(t, model)
			ref, _ := tensortest.LoadFixture(t, referencePath(model))
			exec, err := context.NewExec(testBackend(t), ctx.Reuse(),
				func(ctx *context.Context, sample, timestep, states *graph.Node) *graph.Node {
					return Forward(ctx.In("unet"), cfg, sample, timestep, Shared(states))
				})
			require.NoError(t, err)
			out, err := exec.Exec(ref["sample"], ref["timestep"], ref["encoder_hidden_states"])
			require.NoError(t, err)
			tensortest.AllClose(t, ref["out"], out[0], parityTolerance, "%s: UNet output, shared states", model)
			t.Logf("%s shared: max |Δ| = %.3g", model, tensortest.MaxDelta(t, ref["out"], out[0]))
		})
	}
}

// TestForwardPerLayerParity gives every cross-attention layer its own keys and values (the reference
// replaced diffusers' attn2 inputs layer by layer) and checks that each layer was asked once, in forward
// order, by its own Layer value.
func TestForwardPerLayerParity(t *testing.T) {
	for _, model := range tinyModels {
		t.Run(model, func(t *testing.T) {
			cfg, ctx, _ := loadTiny(t, model)
			ref, _ := tensortest.LoadFixture(t, referencePath(model))
			layers := cfg.CrossAttentionLayers()
			require.Len(t, layers, 16)
			args := []any{ref["sample"], ref["timestep"]}
			for _, l := range layers {
				args = append(args, ref[fmt.Sprintf("keys.%d", l.Index)], ref[fmt.Sprintf("values.%d", l.Index)])
			}
			rec := &recorder{}
			exec, err := context.NewExec(testBackend(t), ctx.Reuse(),
				func(ctx *context.Context, in []*graph.Node) *graph.Node {
					var keys, values []*graph.Node
					for i := 2; i < len(in); i += 2 {
						keys, values = append(keys, in[i]), append(values, in[i+1])
					}
					rec.inner = PerLayer(keys, values)
					rec.asked = nil
					return Forward(ctx.In("unet"), cfg, in[0], in[1], rec)
				})
			require.NoError(t, err)
			out, err := exec.Exec(args...)
			require.NoError(t, err)
			assert.Equal(t, layers, rec.asked, "%s: layers asked for states, in order", model)
			tensortest.AllClose(t, ref["out_per_layer"], out[0], parityTolerance, "%s: UNet output, per-layer states", model)
			t.Logf("%s per-layer: max |Δ| = %.3g", model, tensortest.MaxDelta(t, ref["out_per_layer"], out[0]))
		})
	}
}

// TestVariableNamesMatchCheckpoint builds the tiny UNets with fresh (random) variables and checks that
// their names and shapes are exactly the diffusers checkpoint's: nothing missing, nothing extra.
func TestVariableNamesMatchCheckpoint(t *testing.T) {
	for _, model := range tinyModels {
		t.Run(model, func(t *testing.T) {
			cfg, _, weights := loadTiny(t, model)
			ctx := context.New()
			buildGraph(t, ctx, cfg, 2, 16, 16, 77)
			want := make(map[string]string)
			for name, w := range weights {
				want[name] = fmt.Sprint(w.Shape().Dimensions)
			}
			got := variableNames(ctx)
			assert.Equal(t, sortedKeys(want), sortedKeys(got), "%s: variable names", model)
			assert.Equal(t, want, got, "%s: variable shapes", model)
		})
	}
}

// TestShapeErrors checks that wrong inputs and wrong conditioning states fail with messages that say what
// was expected.
func TestShapeErrors(t *testing.T) {
	cfg, err := LoadConfig(repoTestdata + "/tiny-sd1/unet/config.json")
	require.NoError(t, err)
	cases := []struct {
		name              string
		batch, h, w, seq  int
		statesDim, tSteps int
		want              string
	}{
		{"odd size", 2, 12, 16, 77, 32, 2, "multiples of 8"},
		{"cross dim", 2, 16, 16, 77, 16, 2, "expected [2, seq, 32]"},
		{"timesteps", 2, 16, 16, 77, 32, 3, "timestep has shape"},
	}
	for _, c := range cases {
		g := graph.NewGraph(testBackend(t), c.name)
		sample := graph.Parameter(g, "sample", shapes.Make(dtypes.Float32, c.batch, 4, c.h, c.w))
		timestep := graph.Parameter(g, "t", shapes.Make(dtypes.Float32, c.tSteps))
		states := graph.Parameter(g, "states", shapes.Make(dtypes.Float32, c.batch, c.seq, c.statesDim))
		requirePanic(t, func() { Forward(context.New().In("unet"), cfg, sample, timestep, Shared(states)) },
			c.want, c.name)
	}

	bad := *cfg
	bad.AttentionHeads = []int{3, 2, 2, 2}
	g := graph.NewGraph(testBackend(t), "bad config")
	sample := graph.Parameter(g, "sample", shapes.Make(dtypes.Float32, 1, 4, 16, 16))
	timestep := graph.Parameter(g, "t", shapes.Make(dtypes.Float32, 1))
	states := graph.Parameter(g, "states", shapes.Make(dtypes.Float32, 1, 7, 32))
	requirePanic(t, func() { Forward(context.New().In("unet"), &bad, sample, timestep, Shared(states)) },
		"invalid config: config block_out_channels[0] = 8 is not divisible by its number of attention heads 3",
		"hand-edited config")
}

// requirePanic runs fn and checks that it panics with a message containing want.
func requirePanic(t *testing.T, fn func(), want, name string) {
	t.Helper()
	defer func() {
		value := recover()
		require.NotNil(t, value, "%s: expected a panic containing %q", name, want)
		assert.Contains(t, fmt.Sprint(value), want, name)
	}()
	fn()
}

// buildGraph builds (without running) the UNet graph of cfg for a batch of h×w latents and seq tokens of
// shared states, creating the variables in ctx under "unet".
func buildGraph(t testing.TB, ctx *context.Context, cfg *Config, batch, h, w, seq int) *graph.Node {
	t.Helper()
	g := graph.NewGraph(testBackend(t), "unet")
	sample := graph.Parameter(g, "sample", shapes.Make(dtypes.Float32, batch, cfg.InChannels, h, w))
	timestep := graph.Parameter(g, "timestep", shapes.Make(dtypes.Float32, batch))
	states := graph.Parameter(g, "states", shapes.Make(dtypes.Float32, batch, seq, cfg.CrossAttentionDim[0]))
	out := Forward(ctx.In("unet"), cfg, sample, timestep, Shared(states))
	require.Equal(t, []int{batch, cfg.OutChannels, h, w}, out.Shape().Dimensions)
	return out
}

// sortedKeys returns the keys of m, sorted.
func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }

// TestPerLayerRoutingIsObservable checks that the per-layer fixture can tell layers apart: giving each layer
// the states of the next layer, or swapping keys and values, moves the output far beyond the parity
// tolerance. Together with TestForwardPerLayerParity this shows each layer received exactly its own states.
func TestPerLayerRoutingIsObservable(t *testing.T) {
	model := "tiny-sd1"
	cfg, ctx, _ := loadTiny(t, model)
	ref, _ := tensortest.LoadFixture(t, referencePath(model))
	n := len(cfg.CrossAttentionLayers())
	args := []any{ref["sample"], ref["timestep"]}
	for i := range n {
		args = append(args, ref[fmt.Sprintf("keys.%d", i)], ref[fmt.Sprintf("values.%d", i)])
	}
	wrongs := map[string]func(keys, values []*graph.Node) Conditioning{
		"shifted layers": func(keys, values []*graph.Node) Conditioning {
			return PerLayer(append(keys[1:], keys[0]), append(values[1:], values[0]))
		},
		"keys and values swapped": func(keys, values []*graph.Node) Conditioning { return PerLayer(values, keys) },
	}
	for name, wrong := range wrongs {
		exec, err := context.NewExec(testBackend(t), ctx.Reuse(),
			func(ctx *context.Context, in []*graph.Node) *graph.Node {
				var keys, values []*graph.Node
				for i := 2; i < len(in); i += 2 {
					keys, values = append(keys, in[i]), append(values, in[i+1])
				}
				return Forward(ctx.In("unet"), cfg, in[0], in[1], wrong(keys, values))
			})
		require.NoError(t, err)
		out, err := exec.Exec(args...)
		require.NoError(t, err)
		delta := tensortest.MaxDelta(t, ref["out_per_layer"], out[0])
		assert.Greater(t, delta, 100*parityTolerance, name)
		t.Logf("%s: max |Δ| = %.3g", name, delta)
	}
}
