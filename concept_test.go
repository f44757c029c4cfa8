package neti

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/neti/internal/safetensors"
)

// testBackend is the CPU backend (SimpleGo through internal/backend) shared by the tests.
func testBackend(t testing.TB) backends.Backend {
	t.Helper()
	b, err := cpuBackend()
	require.NoError(t, err)
	return b
}

// shapesOfF32 is a float32 shape.
func shapesOfF32(dims ...int) shapes.Shape { return shapes.Make(dtypes.Float32, dims...) }

// smallConfig is a reduced mapper for fast tests (same equations as the default).
func smallConfig(seed uint64) MapperConfig {
	cfg := DefaultMapperConfig(32, 0.4, seed)
	cfg.NumFourier, cfg.Hidden = 64, 32
	return cfg
}

// TestEmbedDeterministic checks that Embed gives the same values on repeated calls and for a concept
// re-created from the same seed, that truncation changes them, and that the word has the target norm.
func TestEmbedDeterministic(t *testing.T) {
	a, err := NewConcept(smallConfig(5))
	require.NoError(t, err)
	b, err := NewConcept(smallConfig(5))
	require.NoError(t, err)
	w1, b1, err := a.Embed(500, 3)
	require.NoError(t, err)
	w2, b2, err := a.Embed(500, 3)
	require.NoError(t, err)
	w3, b3, err := b.Embed(500, 3)
	require.NoError(t, err)
	assert.Equal(t, w1, w2, "repeated Embed(500, 3)")
	assert.Equal(t, b1, b2, "repeated Embed(500, 3)")
	assert.Equal(t, w1, w3, "Embed of a concept with the same seed")
	assert.Equal(t, b1, b3, "Embed of a concept with the same seed")
	assert.Len(t, w1, 32)
	assert.Len(t, b1, 32)
	assert.InDelta(t, 0.4, norm(w1), 1e-5, "word norm = TargetNorm")

	wk, _, err := a.EmbedTruncated(500, 3, 4)
	require.NoError(t, err)
	assert.NotEqual(t, w1, wk, "truncation 4 vs full")
	a.Truncation = 4
	wd, _, err := a.Embed(500, 3)
	require.NoError(t, err)
	assert.Equal(t, wk, wd, "Embed uses Concept.Truncation")

	w4, _, err := a.EmbedTruncated(501, 3, 32)
	require.NoError(t, err)
	assert.NotEqual(t, w1, w4, "t = 500 vs 501")
}

// norm is the Euclidean norm of v.
func norm(v []float32) float64 {
	s := 0.0
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

// TestEmbedErrors checks the range checks of Embed.
func TestEmbedErrors(t *testing.T) {
	c, err := NewConcept(smallConfig(1))
	require.NoError(t, err)
	for _, tc := range []struct{ t, l, k int }{{-1, 0, 32}, {1000, 0, 32}, {0, 16, 32}, {0, -1, 32}, {0, 0, 33}, {0, 0, -1}} {
		_, _, err := c.EmbedTruncated(tc.t, tc.l, tc.k)
		assert.Error(t, err, "EmbedTruncated(%d, %d, %d)", tc.t, tc.l, tc.k)
	}
	var empty Concept
	_, _, err = empty.Embed(0, 0)
	assert.Error(t, err, "a zero Concept has no configuration or weights")
}

// TestLoadIntoUpdateFrom checks that loadInto gives the variables copies (W not trainable) and updateFrom
// reads changed values back and refreshes Embed.
func TestLoadIntoUpdateFrom(t *testing.T) {
	c, err := NewConcept(smallConfig(2))
	require.NoError(t, err)
	before, _, err := c.Embed(10, 1)
	require.NoError(t, err)
	ctx := context.New().In("mapper")
	require.NoError(t, c.loadInto(ctx, dtypes.Float32))
	w := ctx.In("encoder").InspectVariableInScope("w")
	require.NotNil(t, w)
	assert.False(t, w.Trainable, "W is fixed")
	bias := ctx.In("output_layer").In("0").InspectVariableInScope("bias")
	require.NotNil(t, bias)
	assert.True(t, bias.Trainable)
	values := make([]float32, bias.Shape().Size())
	for i := range values {
		values[i] = 0.5
	}
	require.NoError(t, bias.SetValue(tensorOf(values, bias.Shape().Dimensions...)))
	same, _, err := c.Embed(10, 1)
	require.NoError(t, err)
	assert.Equal(t, before, same, "changing the context's variables does not change the concept")
	require.NoError(t, c.updateFrom(ctx))
	after, _, err := c.Embed(10, 1)
	require.NoError(t, err)
	assert.NotEqual(t, before, after, "updateFrom takes the new bias")
	// Loading again into the same context overwrites the variables.
	require.NoError(t, c.loadInto(ctx, dtypes.Float32))
	assert.Error(t, c.updateFrom(context.New()), "updateFrom from a context without the mapper")
}

// TestFits checks the model compatibility check.
func TestFits(t *testing.T) {
	c, err := NewConcept(smallConfig(1))
	require.NoError(t, err)
	names := make([]string, 16)
	for i := range names {
		names[i] = "L" + string(rune('a'+i))
	}
	c.BaseModel = "tiny-sd1"
	assert.NoError(t, c.Fits(32, names), "no recorded names: any 16 layers")
	c.LayerNames = names
	assert.NoError(t, c.Fits(32, names))
	err = c.Fits(768, names)
	if assert.Error(t, err) {
		assert.Contains(t, err.Error(), "32-wide")
		assert.Contains(t, err.Error(), "tiny-sd1")
	}
	assert.Error(t, c.Fits(32, names[:15]), "15 layers")
	other := append([]string{}, names...)
	other[3] = "MID"
	assert.Error(t, c.Fits(32, other), "different layer names")
}

// tensorOf builds a float32 tensor.
func tensorOf(values []float32, dims ...int) *tensors.Tensor {
	return tensors.FromFlatDataAndDimensions(values, dims...)
}

// TestInitConcept creates a concept for the tiny SD1 model: its width, layers and target norm (the norm of
// the super-category's embedding row, read here straight from the checkpoint) come from the model.
func TestInitConcept(t *testing.T) {
	p, err := LoadPipeline(filepath.Join("testdata", "tiny-sd1"), LoadOptions{})
	require.NoError(t, err)
	defer p.Close()
	word := "a"
	ids := p.tokenizer.TokenIDs(word)
	require.Len(t, ids, 1, "%q is one token of the tiny vocabulary", word)
	f, err := safetensors.Open(filepath.Join("testdata", "tiny-sd1", "text_encoder", "model.safetensors"))
	require.NoError(t, err)
	table, err := f.Tensor("text_model.embeddings.token_embedding.weight", dtypes.Float32)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	d := table.Shape().Dim(1)
	row := tensors.MustCopyFlatData[float32](table)[int(ids[0])*d : int(ids[0]+1)*d]

	c, err := p.InitConcept("<tiny-toy>", word, 3)
	require.NoError(t, err)
	assert.InDelta(t, norm(row), c.Mapper.TargetNorm, 1e-6, "target norm = ‖embedding of %q‖", word)
	assert.Equal(t, 32, c.Mapper.TextWidth)
	assert.Equal(t, 16, c.Mapper.NumLayers)
	assert.Equal(t, "IN01", c.LayerNames[0])
	assert.Equal(t, "OUT11", c.LayerNames[15])
	assert.Equal(t, "<tiny-toy>", c.Placeholder)
	assert.NoError(t, p.CheckConcept(c))
	w, _, err := c.Embed(0, 0)
	require.NoError(t, err)
	assert.InDelta(t, c.Mapper.TargetNorm, norm(w), 1e-5, "word norm")

	_, err = p.InitConcept("<tiny-toy>", "photograph", 3)
	assert.ErrorContains(t, err, "single-token")
	_, err = p.InitConcept(word, word, 3)
	assert.ErrorContains(t, err, "already a word")
	other, err := NewConcept(DefaultMapperConfig(768, 0.4, 1))
	require.NoError(t, err)
	assert.ErrorContains(t, p.CheckConcept(other), "768-wide")
}
