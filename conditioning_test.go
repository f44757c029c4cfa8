package neti

import (
	"path/filepath"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/neti/internal/tensortest"
)

// encodeAll is encodeConcepts at each concept's Truncation with its steps concatenated: keys and values
// [len(timesteps)·L, 77, D], row s·L + ℓ being step s at layer ℓ.
func encodeAll(p *Pipeline, prompt string, concepts []*Concept, timesteps []int) (keys, values *tensors.Tensor, err error) {
	truncations := make([]int, len(concepts))
	for j, c := range concepts {
		truncations[j] = c.Truncation
	}
	k, v, err := p.encodeConcepts(prompt, concepts, timesteps, truncations)
	if err != nil {
		return nil, nil, err
	}
	if keys, err = concatRows(k); err != nil {
		return nil, nil, err
	}
	values, err = concatRows(v)
	return keys, values, err
}

// concatRows concatenates tensors [rows_i, ...] of one dtype along axis 0 (host copies).
func concatRows(parts []*tensors.Tensor) (*tensors.Tensor, error) {
	dims := append([]int{0}, parts[0].Shape().Dimensions[1:]...)
	for _, part := range parts {
		dims[0] += part.Shape().Dim(0)
	}
	out := tensors.FromShape(shapes.Make(parts[0].DType(), dims...))
	var err error
	outErr := out.MutableBytes(func(dst []byte) {
		offset := 0
		for _, part := range parts {
			if e := part.ConstBytes(func(src []byte) { offset += copy(dst[offset:], src) }); e != nil {
				err = e
			}
		}
	})
	if outErr != nil {
		return nil, outErr
	}
	return out, err
}

// TestConditioningRows checks the one row layout of the per-layer states: conditioningRows puts (t_n, ℓ)
// at row n·L + ℓ, and layerStates gives layer ℓ the rows n·L + ℓ.
func TestConditioningRows(t *testing.T) {
	ts, ls := conditioningRows([]float32{7, 900}, 3)
	assert.Equal(t, []float32{7, 7, 7, 900, 900, 900}, ts)
	assert.Equal(t, []float32{0, 1, 2, 0, 1, 2}, ls)
	steps, layers := conditioningRows([]int{999, 500}, 2)
	assert.Equal(t, []int{999, 999, 500, 500}, steps)
	assert.Equal(t, []int{0, 1, 0, 1}, layers)

	exec, err := context.NewExec(testBackend(t), nil, func(_ *context.Context, x *graph.Node) []*graph.Node {
		return layerStates(x, 3)
	})
	require.NoError(t, err)
	x := make([]float32, 6*2)
	for i := range x {
		x[i] = float32(i)
	}
	out, err := exec.Exec(tensors.FromFlatDataAndDimensions(x, 6, 1, 2)) // rows n·3 + ℓ, n = 0, 1
	require.NoError(t, err)
	require.Len(t, out, 3)
	assert.Equal(t, []float32{2, 3, 8, 9}, tensors.MustCopyFlatData[float32](out[1]), "layer 1 = rows 1 and 4")
	assert.Equal(t, []int{2, 1, 2}, out[2].Shape().Dimensions)
}

// TestPlaceholderPositions checks the exactly-once rule.
func TestPlaceholderPositions(t *testing.T) {
	pos, err := placeholderPositions([]int32{998, 1000, 5, 1001, 999}, []int32{1001, 1000})
	require.NoError(t, err)
	assert.Equal(t, []int32{3, 1}, pos)
	_, err = placeholderPositions([]int32{998, 1000, 1000, 999}, []int32{1000})
	assert.ErrorContains(t, err, "positions 1 and 2")
	_, err = placeholderPositions([]int32{998, 5, 999}, []int32{1000})
	assert.ErrorContains(t, err, "not in the prompt")
}

// TestEncodeConcepts checks the sampling-time conditioning (mappers on the CPU, encoder batched in chunks)
// against the single-graph conceptConditioning of training on the same rows, over two chunks.
func TestEncodeConcepts(t *testing.T) {
	p, err := LoadPipeline(filepath.Join("testdata", "tiny-sd1"), LoadOptions{})
	require.NoError(t, err)
	defer p.Close()
	c, err := p.InitConcept("<tiny-toy>", "a", 21)
	require.NoError(t, err)
	c.Truncation = 100
	timesteps := []int{999, 749, 500, 250, 1} // 80 rows: two chunks (64 + 16)
	prompt := "a photo of <tiny-toy> on a table"
	keys, values, err := encodeAll(p, prompt, []*Concept{c}, timesteps)
	require.NoError(t, err)
	rows := len(timesteps) * 16
	require.Equal(t, []int{rows, 77, 32}, keys.Shape().Dimensions)
	require.Equal(t, []int{rows, 77, 32}, values.Shape().Dimensions)

	id, err := p.placeholderID("<tiny-toy>")
	require.NoError(t, err)
	ids := p.tokenizer.Encode(prompt)
	pos, err := placeholderPositions(ids, []int32{id})
	require.NoError(t, err)
	require.NoError(t, c.loadInto(p.ctx.In("mapper"), dtypes.Float32))
	exec, err := context.NewExec(p.backend, p.ctx.Reuse(), func(ctx *context.Context, in []*graph.Node) []*graph.Node {
		k, v := conceptConditioning(ctx.In("text_encoder"), p.text, in[0], in[1], in[2], in[3], in[4],
			[]mapperSlot{{ctx.In("mapper"), &c.Mapper, c.Alpha}})
		return []*graph.Node{k, v}
	})
	require.NoError(t, err)
	steps := make([]float32, len(timesteps))
	for i, step := range timesteps {
		steps[i] = float32(step)
	}
	ts, ls := conditioningRows(steps, 16)
	var allIDs, allPos, keep []int32
	for range rows {
		allIDs, allPos, keep = append(allIDs, ids...), append(allPos, pos[0]), append(keep, int32(c.Truncation))
	}
	want, err := exec.Exec(tensors.FromFlatDataAndDimensions(allIDs, rows, len(ids)), tensors.FromFlatDataAndDimensions(allPos, rows, 1),
		tensors.FromFlatDataAndDimensions(ts, rows), tensors.FromFlatDataAndDimensions(ls, rows), tensors.FromFlatDataAndDimensions(keep, rows, 1))
	require.NoError(t, err)
	// Same float32 computation in two graphs (the mapper alone on the CPU vs inside the conditioning): XLA
	// fuses each graph its own way, a few ulp apart (2e-6 at values near 1); a wrong row moves values by > 1e-2.
	tensortest.AllClose(t, want[0], keys, 1e-5, "keys")
	tensortest.AllClose(t, want[1], values, 1e-5, "values")

	c.Truncation = 4
	_, coarse, err := encodeAll(p, prompt, []*Concept{c}, timesteps[:1])
	require.NoError(t, err)
	full := tensors.MustCopyFlatData[float32](values)[:16*77*32]
	assert.NotEqual(t, full, tensors.MustCopyFlatData[float32](coarse), "truncation 4 vs 100")

	_, _, err = encodeAll(p, "a photo of a table", []*Concept{c}, timesteps)
	assert.ErrorContains(t, err, "not in the prompt")
	other, err := NewConcept(DefaultMapperConfig(768, 0.4, 1))
	require.NoError(t, err)
	_, _, err = encodeAll(p, prompt, []*Concept{other}, timesteps)
	assert.ErrorContains(t, err, "768-wide")
}
