package neti

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/neti/clip"
	"github.com/org/neti/internal/tensortest"
)

// TestTextualBypassParity compares the bypass h' = h + α·b/‖b‖·‖h‖ with the reference, for one placeholder
// at α 0.2 and 0.7 and for two placeholders (α 0.2, 0.5), and checks that only placeholder rows change.
func TestTextualBypassParity(t *testing.T) {
	ref, _ := tensortest.LoadFixture(t, filepath.Join(netiFixtures, "bypass.safetensors"))
	run := func(slots int, alpha []float64) *tensors.Tensor {
		exec, err := context.NewExec(testBackend(t), nil, func(_ *context.Context, h, pos, b *graph.Node) *graph.Node {
			pos = graph.Slice(pos, graph.AxisRange(), graph.AxisRange(0, slots))
			b = graph.Slice(b, graph.AxisRange(), graph.AxisRange(0, slots))
			return textualBypass(h, pos, b, alpha)
		})
		require.NoError(t, err)
		out, err := exec.Exec1(ref["bypass.h"], ref["bypass.positions"], ref["bypass.b"])
		require.NoError(t, err)
		return out
	}
	for _, tc := range []struct {
		name  string
		slots int
		alpha []float64
	}{{"bypass.out1.a0.2", 1, []float64{0.2}}, {"bypass.out1.a0.7", 1, []float64{0.7}}, {"bypass.out2", 2, []float64{0.2, 0.5}}} {
		got := run(tc.slots, tc.alpha)
		// Inputs O(1..5), one norm and one division per row: float32 rounding ~1e-6.
		tensortest.AllClose(t, ref[tc.name], got, 1e-5, tc.name)
		t.Logf("%s: max |Δ| %.3g", tc.name, maxAbs(t, ref[tc.name], tensors.MustCopyFlatData[float32](got)))

		// Rows other than the placeholders are passed through exactly.
		h := tensors.MustCopyFlatData[float32](ref["bypass.h"])
		out := tensors.MustCopyFlatData[float32](got)
		pos := tensors.MustCopyFlatData[int32](ref["bypass.positions"])
		dims := ref["bypass.h"].Shape().Dimensions
		r, l, d := dims[0], dims[1], dims[2]
		for row := range r {
			for p := range l {
				isPlaceholder := false
				for j := range tc.slots {
					isPlaceholder = isPlaceholder || int(pos[row*2+j]) == p
				}
				base := (row*l + p) * d
				if isPlaceholder {
					assert.NotEqual(t, h[base:base+d], out[base:base+d], "%s: row %d position %d changes", tc.name, row, p)
				} else {
					require.Equal(t, h[base:base+d], out[base:base+d], "%s: row %d position %d is not a placeholder", tc.name, row, p)
				}
			}
		}
	}
}

// conditioningExec builds the whole conditioning graph on the tiny SD1 text encoder with the reference
// mapper's weights under scope "mapper" (slot 0, mode word) and "mapper2" (slot 1, mode concat).
func conditioningExec(t *testing.T, p *Pipeline, slots int) *context.Exec {
	t.Helper()
	ref, meta := tensortest.LoadFixture(t, mapperFixturePath)
	c1 := fixtureConcept(t, ref, meta, NormalizeWord, true)
	c2 := fixtureConcept(t, ref, meta, NormalizeConcat, true)
	c2.Alpha = 0.5
	require.NoError(t, c1.loadInto(p.ctx.In("mapper"), dtypes.Float32))
	require.NoError(t, c2.loadInto(p.ctx.In("mapper2"), dtypes.Float32))
	exec, err := context.NewExec(p.backend, p.ctx.Reuse(), func(ctx *context.Context, in []*graph.Node) []*graph.Node {
		ids, positions, ts, ls := in[0], in[1], in[2], in[3]
		all := []mapperSlot{{ctx.In("mapper"), &c1.Mapper, c1.Alpha}, {ctx.In("mapper2"), &c2.Mapper, c2.Alpha}}
		keys, values := conceptConditioning(ctx.In("text_encoder"), p.text, ids, positions, ts, ls, nil, all[:slots])
		return []*graph.Node{keys, values}
	})
	require.NoError(t, err)
	return exec
}

// TestConditioningParity runs the batched conditioning (mapper → injected word → CLIP → bypass → final
// norm) on the tiny SD1 text encoder and compares keys and values with transformers' CLIPTextModel hooked
// as the original NeTI, for one and two placeholders.
func TestConditioningParity(t *testing.T) {
	p, err := LoadPipeline(filepath.Join("testdata", "tiny-sd1"), LoadOptions{})
	require.NoError(t, err)
	defer p.Close()
	ref, _ := tensortest.LoadFixture(t, filepath.Join(netiFixtures, "conditioning-tiny-sd1.safetensors"))
	ids := tensors.MustCopyFlatData[int32](ref["ids"])
	positions, err := placeholderPositions(ids, []int32{1000, 1001})
	require.NoError(t, err)
	n := ref["cond.t"].Shape().Dim(0)
	for slots := 1; slots <= 2; slots++ {
		exec := conditioningExec(t, p, slots)
		var rowsIDs, rowsPos []int32
		for range n {
			rowsIDs = append(rowsIDs, ids...)
			rowsPos = append(rowsPos, positions[:slots]...)
		}
		out, err := exec.Exec(tensors.FromFlatDataAndDimensions(rowsIDs, n, len(ids)),
			tensors.FromFlatDataAndDimensions(rowsPos, n, slots), ref["cond.t"], ref["cond.l"])
		require.NoError(t, err)
		name := []string{"", "cond1", "cond2"}[slots]
		// The mapper (~1e-6, see mapperTolerance) feeds two CLIP layers and a LayerNorm over 32 values,
		// which amplify its rounding a few times; 1e-4 as every float32 parity test of the encoder.
		tensortest.AllClose(t, ref[name+".keys"], out[0], 1e-4, name+" keys")
		tensortest.AllClose(t, ref[name+".values"], out[1], 1e-4, name+" values")
		t.Logf("%d placeholder(s): keys max |Δ| %.3g, values max |Δ| %.3g", slots,
			maxAbs(t, ref[name+".keys"], tensors.MustCopyFlatData[float32](out[0])),
			maxAbs(t, ref[name+".values"], tensors.MustCopyFlatData[float32](out[1])))

		// Keys and values differ only at the placeholders (the final norm is per position).
		keys, values := tensors.MustCopyFlatData[float32](out[0]), tensors.MustCopyFlatData[float32](out[1])
		l, d := len(ids), out[0].Shape().Dim(2)
		for row := range n {
			for pos := range l {
				base := (row*l + pos) * d
				at := pos == int(positions[0]) || (slots == 2 && pos == int(positions[1]))
				if at {
					assert.NotEqual(t, keys[base:base+d], values[base:base+d], "row %d placeholder %d", row, pos)
				} else {
					require.Equal(t, keys[base:base+d], values[base:base+d], "row %d position %d", row, pos)
				}
			}
		}
	}
}

// TestConditioningKeysIgnoreBypass checks that the keys do not depend on the bypass vectors (only the
// values do) and that the states before the placeholder are those of plain CLIP (causal attention).
func TestConditioningKeysIgnoreBypass(t *testing.T) {
	p, err := LoadPipeline(filepath.Join("testdata", "tiny-sd1"), LoadOptions{})
	require.NoError(t, err)
	defer p.Close()
	exec, err := context.NewExec(p.backend, p.ctx.Reuse(), func(ctx *context.Context, ids, pos, words, bypass *graph.Node) []*graph.Node {
		tctx := ctx.In("text_encoder")
		k1, v1 := encodeConditioning(tctx, p.text, ids, pos, words, bypass, []float64{0.2})
		k2, v2 := encodeConditioning(tctx, p.text, ids, pos, words, graph.MulScalar(bypass, -3), []float64{0.2})
		k3, v3 := encodeConditioning(tctx, p.text, ids, pos, words, nil, nil)
		return []*graph.Node{k1, v1, k2, v2, k3, v3, clip.Forward(tctx, p.text, ids)}
	})
	require.NoError(t, err)
	ids := []int32{998, 5, 17, 1000, 42, 999, 999, 999}
	words := make([]float32, 32)
	bypass := make([]float32, 32)
	for i := range words {
		words[i], bypass[i] = float32(i%5)*0.1-0.2, float32(i%3)-1
	}
	out, err := exec.Exec(tensors.FromFlatDataAndDimensions(ids, 1, len(ids)), tensors.FromFlatDataAndDimensions([]int32{3}, 1, 1),
		tensors.FromFlatDataAndDimensions(words, 1, 1, 32), tensors.FromFlatDataAndDimensions(bypass, 1, 1, 32))
	require.NoError(t, err)
	k1, v1 := tensors.MustCopyFlatData[float32](out[0]), tensors.MustCopyFlatData[float32](out[1])
	k2, v2 := tensors.MustCopyFlatData[float32](out[2]), tensors.MustCopyFlatData[float32](out[3])
	k3, v3 := tensors.MustCopyFlatData[float32](out[4]), tensors.MustCopyFlatData[float32](out[5])
	plain := tensors.MustCopyFlatData[float32](out[6])
	assert.Equal(t, k1, k2, "keys with bypass b and -3b")
	assert.Equal(t, k1, k3, "keys with and without bypass")
	assert.Equal(t, k3, v3, "without bypass the values are the keys")
	assert.NotEqual(t, v1[3*32:4*32], v2[3*32:4*32], "values at the placeholder depend on the bypass")
	// Two graphs (plain CLIP and the conditioning): bit-identical on SimpleGo, while XLA fuses and orders each
	// graph's sums its own way (1-2 ulp apart); 1e-5 still fails any use of the bypass or the word there.
	tensortest.AllCloseFloats(t, plain[:3*32], k1[:3*32], 1e-5, "positions before the placeholder are plain CLIP's")
	assert.NotEqual(t, plain[3*32:4*32], k1[3*32:4*32], "the placeholder's state comes from the injected word")
}

// TestBypassGradient checks the gradients of injectWords and textualBypass (the path from the mapper's
// outputs into the encoder states) against central finite differences in float64.
func TestBypassGradient(t *testing.T) {
	const r, l, d = 2, 5, 4
	positions := tensors.FromFlatDataAndDimensions([]int32{1, 3, 4, -1}, r, 2) // row 1's second slot is empty
	fill := func(n int, f func(i int) float64) []float64 {
		out := make([]float64, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	states := fill(r*l*d, func(i int) float64 { return math.Sin(float64(i) * 0.9) })
	words := fill(r*2*d, func(i int) float64 { return math.Cos(float64(i)*1.7) * 0.5 })
	bypass := fill(r*2*d, func(i int) float64 { return math.Sin(float64(i)*2.3) + 0.1 })
	weights := fill(r*l*d, func(i int) float64 { return math.Cos(float64(i) * 0.37) })
	loss := func(s, w, b, wt *graph.Node, pos *graph.Node) *graph.Node {
		x := textualBypass(injectWords(s, pos, w), pos, b, []float64{0.2, 0.7})
		return graph.ReduceAllSum(graph.Mul(x, wt))
	}
	gradExec, err := context.NewExec(testBackend(t), nil, func(_ *context.Context, in []*graph.Node) []*graph.Node {
		return graph.Gradient(loss(in[0], in[1], in[2], in[3], in[4]), in[0], in[1], in[2])
	})
	require.NoError(t, err)
	lossExec, err := context.NewExec(testBackend(t), nil, func(_ *context.Context, in []*graph.Node) *graph.Node {
		return loss(in[0], in[1], in[2], in[3], in[4])
	})
	require.NoError(t, err)
	args := func(s, w, b []float64) []any {
		return []any{tensors.FromFlatDataAndDimensions(s, r, l, d), tensors.FromFlatDataAndDimensions(w, r, 2, d),
			tensors.FromFlatDataAndDimensions(b, r, 2, d), tensors.FromFlatDataAndDimensions(weights, r, l, d), positions}
	}
	grads, err := gradExec.Exec(args(states, words, bypass)...)
	require.NoError(t, err)
	const eps = 1e-6
	worst := 0.0
	for which, values := range [][]float64{states, words, bypass} {
		g := tensors.MustCopyFlatData[float64](grads[which])
		for j := range values {
			probe := func(delta float64) float64 {
				in := [][]float64{states, words, bypass}
				changed := append([]float64(nil), values...)
				changed[j] += delta
				in[which] = changed
				out, err := lossExec.Exec(args(in[0], in[1], in[2])...)
				require.NoError(t, err)
				return tensors.ToScalar[float64](out[0])
			}
			fd := (probe(eps) - probe(-eps)) / (2 * eps)
			assert.InDelta(t, fd, g[j], 1e-6, "input %d element %d", which, j)
			worst = math.Max(worst, math.Abs(fd-g[j]))
		}
	}
	// Row 1's empty slot: its word and bypass have no effect.
	g := tensors.MustCopyFlatData[float64](grads[2])
	for j := range d {
		assert.Zero(t, g[(1*2+1)*d+j], "bypass of an empty slot")
	}
	t.Logf("max |finite difference - gradient| = %.3g", worst)
}

// TestConditioningGradientReachesMapper checks that the loss on the conditioning of the tiny SD1 text
// encoder back-propagates to every trainable mapper tensor (finite, nonzero), and not to W.
func TestConditioningGradientReachesMapper(t *testing.T) {
	p, err := LoadPipeline(filepath.Join("testdata", "tiny-sd1"), LoadOptions{})
	require.NoError(t, err)
	defer p.Close()
	c, err := NewConcept(smallConfig(8))
	require.NoError(t, err)
	mctx := p.ctx.In("mapper")
	require.NoError(t, c.loadInto(mctx, dtypes.Float32))
	var names []string
	for name := range expectedShapes(c.Mapper) {
		if name != EncoderWeightName {
			names = append(names, name)
		}
	}
	exec, err := context.NewExec(p.backend, p.ctx.Reuse(), func(ctx *context.Context, ids, pos, ts, ls *graph.Node) []*graph.Node {
		keys, values := conceptConditioning(ctx.In("text_encoder"), p.text, ids, pos, ts, ls, nil,
			[]mapperSlot{{ctx.In("mapper"), &c.Mapper, 0.2}})
		loss := graph.Add(graph.ReduceAllSum(graph.Square(keys)), graph.ReduceAllSum(graph.Mul(values, keys)))
		nodes := make([]*graph.Node, len(names))
		for i, name := range names {
			scope, v := variableScope(ctx.In("mapper"), name)
			nodes[i] = scope.InspectVariableInScope(v).ValueGraph(loss.Graph())
		}
		return graph.Gradient(loss, nodes...)
	})
	require.NoError(t, err)
	ids := []int32{998, 5, 17, 1000, 42, 999, 999, 999}
	ts, ls := conditioningRows([]float32{10, 700}, 2)
	var rowsIDs, rowsPos []int32
	for range ts {
		rowsIDs, rowsPos = append(rowsIDs, ids...), append(rowsPos, 3)
	}
	grads, err := exec.Exec(tensors.FromFlatDataAndDimensions(rowsIDs, len(ts), len(ids)),
		tensors.FromFlatDataAndDimensions(rowsPos, len(ts), 1), tensors.FromFlatDataAndDimensions(ts, len(ts)),
		tensors.FromFlatDataAndDimensions(ls, len(ts)))
	require.NoError(t, err)
	for i, name := range names {
		largest := 0.0
		for _, x := range tensors.MustCopyFlatData[float32](grads[i]) {
			require.False(t, math.IsNaN(float64(x)) || math.IsInf(float64(x), 0), "%s: finite gradient", name)
			largest = math.Max(largest, math.Abs(float64(x)))
		}
		assert.Positive(t, largest, "%s: gradient reaches it", name)
	}
}

// TestTextualBypassHalf checks that half-precision states (a bfloat16 pipeline; SimpleGo has no float16)
// get the bypass computed in float32: close to the reference, and non-placeholder positions unchanged.
func TestTextualBypassHalf(t *testing.T) {
	ref, _ := tensortest.LoadFixture(t, filepath.Join(netiFixtures, "bypass.safetensors"))
	exec, err := context.NewExec(testBackend(t), nil, func(_ *context.Context, h, pos, b *graph.Node) []*graph.Node {
		h16 := graph.ConvertDType(h, dtypes.BFloat16)
		out := textualBypass(h16, pos, graph.ConvertDType(b, dtypes.BFloat16), []float64{0.2, 0.5})
		return []*graph.Node{graph.ConvertDType(out, dtypes.Float32), graph.ConvertDType(h16, dtypes.Float32)}
	})
	require.NoError(t, err)
	out, err := exec.Exec(ref["bypass.h"], ref["bypass.positions"], ref["bypass.b"])
	require.NoError(t, err)
	assert.Equal(t, dtypes.Float32, out[0].DType())
	// bfloat16 has 8 significant bits: states up to ~12 round by up to ~0.03 (input and output rounding).
	tensortest.AllClose(t, ref["bypass.out2"], out[0], 0.1, "bfloat16 bypass")
	got, h16 := tensors.MustCopyFlatData[float32](out[0]), tensors.MustCopyFlatData[float32](out[1])
	d := 32
	assert.Equal(t, h16[:2*d], got[:2*d], "row 0 positions 0, 1 (placeholders at 2 and 7) are unchanged")
}
