package clip

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/org/neti/internal/safetensors"
	"github.com/org/neti/internal/tensortest"
	"github.com/org/neti/internal/weights"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// loadTextEncoder reads a tiny model's text_encoder config and weights into ctx.In("text_encoder"),
// checking the file's tensor names and shapes against the variables the graph creates.
func loadTextEncoder(t testing.TB, model string) (*Config, *context.Context) {
	t.Helper()
	dir := filepath.Join("..", "testdata", model, "text_encoder")
	cfg, err := LoadConfig(filepath.Join(dir, "config.json"))
	require.NoError(t, err)

	// The variables the graph expects, from a build (no execution) on a scratch context.
	scratch := context.New().In("text_encoder")
	g := graph.NewGraph(cpuBackend(t), "expect")
	Forward(scratch, cfg, graph.Parameter(g, "ids", shapes.Make(dtypes.Int32, 1, cfg.MaxPositionEmbeddings)))
	expected := weights.Expect(scratch)
	require.Len(t, expected, len(transformersNames(cfg)))

	f, err := safetensors.Open(filepath.Join(dir, "model.safetensors"))
	require.NoError(t, err)
	defer func() { _ = f.Close() }()
	ctx := context.New()
	require.NoError(t, weights.Load(ctx.In("text_encoder"), f, weights.Options{Expected: expected}))
	return cfg, ctx.In("text_encoder").Reuse()
}

// maxAbsDelta is max |want - got| over all elements.
func maxAbsDelta(t testing.TB, want, got *tensors.Tensor) float64 {
	t.Helper()
	w, err := tensortest.Float64s(want)
	require.NoError(t, err)
	g, err := tensortest.Float64s(got)
	require.NoError(t, err)
	require.Equal(t, len(w), len(g))
	var m float64
	for i := range w {
		m = math.Max(m, math.Abs(w[i]-g[i]))
	}
	return m
}

func TestEncoderParity(t *testing.T) {
	for _, model := range []string{"tiny-sd1", "tiny-sd2"} {
		t.Run(model, func(t *testing.T) {
			ref, meta := tensortest.LoadFixture(t, filepath.Join(referenceDir, model, "clip.safetensors"))
			cfg, ctx := loadTextEncoder(t, model)
			L := cfg.NumHiddenLayers
			require.Equal(t, fmt.Sprint(L), meta["num_hidden_layers"])

			// The fixture's ids are what our tokenizer gives for its prompts.
			var prompts []string
			require.NoError(t, json.Unmarshal([]byte(meta["prompts"]), &prompts))
			tok := loadTokenizer(t, tinyTokenizerDir(model))
			assert.Equal(t, ref["input_ids"].Value(), tok.EncodeBatch(prompts), "tokenizer ids of the fixture prompts")

			out := execute(t, ctx, func(ctx *context.Context, in []*graph.Node) []*graph.Node {
				ids := in[0]
				x := Embeddings(ctx, cfg, TokenEmbeddings(ctx, cfg, ids))
				last, hidden := Encoder(ctx, cfg, x, EncoderOptions{HiddenStates: true})
				final := FinalNorm(ctx, cfg, last)
				return append([]*graph.Node{final, Pooled(cfg, ids, final)}, hidden...)
			}, ref["input_ids"])
			require.Len(t, out, L+3)
			check := func(name string, got *tensors.Tensor) {
				want, found := ref[name]
				require.True(t, found, "fixture tensor %s", name)
				// float32 on both sides, same operation order up to summation: expected ~1e-6.
				tensortest.AllClose(t, want, got, 1e-4, "%s %s", model, name)
				t.Logf("%s %s: max |Δ| = %.3g", model, name, maxAbsDelta(t, want, got))
			}
			check("last_hidden_state", out[0])
			check("pooled", out[1])
			for i := 0; i <= L; i++ {
				check(fmt.Sprintf("hidden_states.%d", i), out[2+i])
			}
		})
	}
}
