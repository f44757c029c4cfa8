package neti

import (
	stdcontext "context"
	"path/filepath"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/neti/internal/tensortest"
)

// A placeholder used more than once in a prompt ("a <c> next to a <c>") gets the concept's word and bypass
// at every occurrence, as the original NeTI's embedding and text-transformer hooks do (they act wherever
// input_ids equals the placeholder's id).

// TestPlaceholderOccurrences checks the slots of repeated and several placeholders.
func TestPlaceholderOccurrences(t *testing.T) {
	pos, owners, err := placeholderOccurrences([]int32{998, 1000, 5, 1001, 1000, 999}, []int32{1000, 1001})
	require.NoError(t, err)
	assert.Equal(t, []int32{1, 4, 3}, pos, "placeholder 1000 at 1 and 4, then 1001 at 3")
	assert.Equal(t, []int{0, 0, 1}, owners)
	_, _, err = placeholderOccurrences([]int32{998, 5, 999}, []int32{1000})
	assert.ErrorContains(t, err, "not in the prompt")
	assert.ErrorContains(t, err, "at least once")
}

// TestTextualBypassRepeatedPlaceholder applies one concept's bypass vector at both placeholder positions
// of the reference rows (bypass.safetensors): at the first position the result is the reference's
// single-placeholder output (bypass.out1.a0.2), at the second it is the single-placeholder bypass applied
// there, and every other position is passed through.
func TestTextualBypassRepeatedPlaceholder(t *testing.T) {
	ref, _ := tensortest.LoadFixture(t, filepath.Join(netiFixtures, "bypass.safetensors"))
	exec, err := context.NewExec(testBackend(t), nil, func(_ *context.Context, h, pos, b, out1 *graph.Node) []*graph.Node {
		b0 := graph.Slice(b, graph.AxisRange(), graph.AxisRange(0, 1)) // [R, 1, D]: the concept's vector
		twice := textualBypass(h, pos, graph.Concatenate([]*graph.Node{b0, b0}, 1), []float64{0.2, 0.2})
		// The single-placeholder path at the second position, on top of the reference's first.
		second := textualBypass(out1, graph.Slice(pos, graph.AxisRange(), graph.AxisRange(1, 2)), b0, []float64{0.2})
		return []*graph.Node{twice, second}
	})
	require.NoError(t, err)
	out, err := exec.Exec(ref["bypass.h"], ref["bypass.positions"], ref["bypass.b"], ref["bypass.out1.a0.2"])
	require.NoError(t, err)
	tensortest.AllClose(t, out[1], out[0], 1e-6, "both positions vs the single path at each")

	got, h := tensors.MustCopyFlatData[float32](out[0]), tensors.MustCopyFlatData[float32](ref["bypass.h"])
	one := tensors.MustCopyFlatData[float32](ref["bypass.out1.a0.2"])
	pos := tensors.MustCopyFlatData[int32](ref["bypass.positions"])
	dims := ref["bypass.h"].Shape().Dimensions
	l, d := dims[1], dims[2]
	for row := range dims[0] {
		p0, p1 := int(pos[2*row]), int(pos[2*row+1])
		require.NotEqual(t, p0, p1, "row %d: two positions", row)
		for p := range l {
			base := (row*l + p) * d
			switch p {
			case p0:
				assert.InDeltaSlice(t, one[base:base+d], got[base:base+d], 1e-5, "row %d: first occurrence = reference", row)
			case p1:
				assert.NotEqual(t, h[base:base+d], got[base:base+d], "row %d: the second occurrence gets the bypass", row)
			default:
				require.Equal(t, h[base:base+d], got[base:base+d], "row %d position %d is not a placeholder", row, p)
			}
		}
	}
}

// copyConcept returns c under another placeholder, with the same weights.
func copyConcept(t *testing.T, c *Concept, placeholder string) *Concept {
	t.Helper()
	out, err := NewConcept(c.Mapper)
	require.NoError(t, err)
	require.NoError(t, out.SetWeights(c.Weights()))
	out.Placeholder, out.SuperCategory, out.Alpha, out.Truncation = placeholder, c.SuperCategory, c.Alpha, c.Truncation
	out.BaseModel, out.LayerNames = c.BaseModel, c.LayerNames
	return out
}

// TestEncodeConceptsRepeatedPlaceholder encodes "… <tiny-toy> next to a <tiny-toy>": exactly the states of
// the same prompt with the second occurrence replaced by a copy of the concept under another placeholder
// (the two-placeholder path of TestConditioningParity); up to the second occurrence the states are those
// of the single-placeholder prompt (causal attention); keys and values differ at both occurrences only.
func TestEncodeConceptsRepeatedPlaceholder(t *testing.T) {
	p := tinyPipeline(t)
	c, err := p.InitConcept("<tiny-toy>", "happy", 3)
	require.NoError(t, err)
	require.True(t, c.Mapper.Bypass, "the default concept has a bypass")
	twin := copyConcept(t, c, "<tiny-twin>")
	timesteps := []int{999, 20}
	const prompt = "a photo of <tiny-toy> next to a <tiny-toy>"
	keys, values, err := encodeAll(p, prompt, []*Concept{c}, timesteps)
	require.NoError(t, err)
	twinKeys, twinValues, err := encodeAll(p, "a photo of <tiny-toy> next to a <tiny-twin>", []*Concept{c, twin}, timesteps)
	require.NoError(t, err)
	assert.Equal(t, tensors.MustCopyFlatData[float32](twinKeys), tensors.MustCopyFlatData[float32](keys), "keys")
	assert.Equal(t, tensors.MustCopyFlatData[float32](twinValues), tensors.MustCopyFlatData[float32](values), "values")

	id, err := p.placeholderID("<tiny-toy>")
	require.NoError(t, err)
	pos, _, err := placeholderOccurrences(p.tokenizer.Encode(prompt), []int32{id})
	require.NoError(t, err)
	require.Len(t, pos, 2)
	singleKeys, singleValues, err := encodeAll(p, "a photo of <tiny-toy> next to a", []*Concept{c}, timesteps)
	require.NoError(t, err)
	k, v := tensors.MustCopyFlatData[float32](keys), tensors.MustCopyFlatData[float32](values)
	sk, sv := tensors.MustCopyFlatData[float32](singleKeys), tensors.MustCopyFlatData[float32](singleValues)
	const l, d = 77, 32
	for row := range len(timesteps) * 16 {
		prefix := func(x []float32) []float32 { return x[row*l*d : (row*l+int(pos[1]))*d] }
		assert.InDeltaSlice(t, prefix(sk), prefix(k), 1e-5, "row %d: keys before the second occurrence", row)
		assert.InDeltaSlice(t, prefix(sv), prefix(v), 1e-5, "row %d: values before the second occurrence", row)
		for p := range l {
			base := (row*l + p) * d
			if p == int(pos[0]) || p == int(pos[1]) {
				assert.NotEqual(t, k[base:base+d], v[base:base+d], "row %d: bypass at occurrence %d", row, p)
			} else {
				require.Equal(t, k[base:base+d], v[base:base+d], "row %d position %d", row, p)
			}
		}
	}
}

// TestGenerateRepeatedPlaceholder generates with a placeholder used twice: the same latents as with a copy
// of the concept at the second occurrence, different from the prompt with the placeholder used once.
func TestGenerateRepeatedPlaceholder(t *testing.T) {
	p := tinyPipeline(t)
	c, err := p.InitConcept("<tiny-toy>", "happy", 3)
	require.NoError(t, err)
	twin := copyConcept(t, c, "<tiny-twin>")
	opts := GenerateOptions{Steps: 2, Seed: 5, Concepts: []*Concept{c}}
	twice := latentsOf(t, p, "a <tiny-toy> next to a <tiny-toy>", opts)
	withTwin := opts
	withTwin.Concepts = []*Concept{c, twin}
	assert.Equal(t, latentsOf(t, p, "a <tiny-toy> next to a <tiny-twin>", withTwin), twice,
		"the second occurrence is conditioned as a second concept with the same weights")
	once := latentsOf(t, p, "a <tiny-toy> next to a happy", opts)
	assert.Greater(t, tensortest.MaxDeltaFloats(once, twice), 1e-4, "the second occurrence is personalised too")
	images, err := p.Generate(stdcontext.Background(), "a <tiny-toy> next to a <tiny-toy>", opts)
	require.NoError(t, err)
	assert.Len(t, images, 1)
}
