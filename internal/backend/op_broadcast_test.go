package backend

import (
	"fmt"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// execBoth runs fn on inputs with the adapter's broadcast/reduce rewrites on and off, returning both
// outputs (rewritten first). minRepeatBlock and minRewriteSize are lowered to 1 so tiny
// shapes take the rewrites.
func execBoth[F ExecGraphFnOneOutput](t *testing.T, backend backends.Backend, fn F, inputs ...any) (fast, inner *tensors.Tensor) {
	t.Helper()
	defer func(m, n int) { fastBroadcast, minRepeatBlock, minRewriteSize = true, m, n }(minRepeatBlock, minRewriteSize)
	minRepeatBlock, minRewriteSize = 1, 1
	for _, on := range []bool{true, false} {
		fastBroadcast = on
		out, err := ExecOnce(backend, fn, inputs...)
		require.NoError(t, err, "ExecOnce (rewrites %v)", on)
		if on {
			fast = out
		} else {
			inner = out
		}
	}
	return fast, inner
}

// randomTensor returns a float64 tensor of dims with values in [-1, 1); graphs convert it to the dtype
// under test.
func randomTensor(seed uint64, dims ...int) *tensors.Tensor {
	return tensors.FromFlatDataAndDimensions(randomFlat(seed, size(dims)), dims...)
}

// binaryCases are operand shape pairs that broadcast: trailing, leading, interleaved, both sides, size-1
// output axes and rank 1.
var binaryCases = [][2][]int{
	{{2, 3, 4, 5}, {1, 3, 1, 1}},
	{{2, 3, 4, 5}, {2, 3, 4, 1}},
	{{2, 3, 4, 5}, {2, 1, 1, 5}},
	{{1, 3, 4, 5}, {2, 3, 1, 5}},
	{{2, 1, 4, 1}, {1, 3, 1, 5}},
	{{1, 7}, {6, 7}},
	{{6, 1}, {6, 7}},
	{{1, 1, 7}, {6, 1, 7}},
	{{3, 1, 2}, {3, 1, 1}},
	{{5}, {5}},
	{{4, 1}, {1, 1}},
}

// TestBroadcastBinaryMatchesInner compares Add/Sub/Mul/Div/Max/Min/Pow with materialised broadcasts
// against SimpleGo's broadcast iterator: values are only moved, so the results are identical.
func TestBroadcastBinaryMatchesInner(t *testing.T) {
	backend := newCPU(t)
	ops := map[string]func(a, b *Node) *Node{"Add": Add, "Sub": Sub, "Mul": Mul, "Div": Div, "Max": Max,
		"Min": Min, "Pow": func(a, b *Node) *Node { return Pow(Abs(a), b) }}
	for _, dtype := range []dtypes.DType{dtypes.Float32, dtypes.Float64, dtypes.BFloat16} {
		for i, c := range binaryCases {
			a, bb := randomTensor(uint64(10+i), c[0]...), randomTensor(uint64(50+i), c[1]...)
			for name, op := range ops {
				for _, swap := range []bool{false, true} {
					x, y := a, bb
					if swap {
						x, y = bb, a
					}
					msg := fmt.Sprintf("%s(%s %v, %v)", name, dtype, x.Shape().Dimensions, y.Shape().Dimensions)
					fast, inner := execBoth(t, backend, func(x, y *Node) *Node {
						return op(ConvertDType(x, dtype), ConvertDType(y, dtype))
					}, x, y)
					require.True(t, inner.Shape().Equal(fast.Shape()), "%s: shape %s vs %s", msg, fast.Shape(), inner.Shape())
					assert.Equal(t, inner.Value(), fast.Value(), msg)
				}
			}
		}
	}
}

// TestBroadcastInDimMatchesInner compares BroadcastInDim (via graph.BroadcastToDims and
// ExpandAndBroadcast) with SimpleGo's own, on float and int32 operands.
func TestBroadcastInDimMatchesInner(t *testing.T) {
	backend := newCPU(t)
	for i, c := range []struct{ in, out []int }{
		{[]int{3, 1}, []int{3, 4}}, {[]int{1, 4}, []int{3, 4}}, {[]int{2, 1, 3, 1}, []int{2, 5, 3, 4}},
		{[]int{1}, []int{6}}, {[]int{1, 1}, []int{2, 1}}, {[]int{5}, []int{5}},
	} {
		for _, dtype := range []dtypes.DType{dtypes.Float32, dtypes.BFloat16, dtypes.Int32} {
			x := randomTensor(uint64(90+i), c.in...)
			out := c.out
			fast, inner := execBoth(t, backend, func(x *Node) *Node {
				return BroadcastToDims(ConvertDType(x, dtype), out...)
			}, x)
			msg := fmt.Sprintf("BroadcastToDims(%s %v, %v)", dtype, c.in, c.out)
			assert.Equal(t, shapes.Make(dtype, out...), fast.Shape(), msg)
			assert.Equal(t, inner.Value(), fast.Value(), msg)
		}
	}
	// New axes in the middle and at both ends ([3] → [2, 3, 4]) and a rank-0 operand.
	x := randomTensor(99, 3)
	fast, inner := execBoth(t, backend, func(x *Node) *Node {
		return BroadcastToDims(ExpandAxes(x, 0, -1), 2, 3, 4)
	}, x)
	assert.Equal(t, inner.Value(), fast.Value(), "ExpandAndBroadcast [3] → [2, 3, 4]")
	fast, inner = execBoth(t, backend, func(x *Node) *Node {
		return BroadcastToDims(ReduceAllSum(x), 2, 2)
	}, x)
	assert.Equal(t, inner.Value(), fast.Value(), "broadcast of a scalar")
}

// TestReduceSumMatchesInner compares ReduceSum through DotGeneral with SimpleGo's, on trailing,
// leading, middle and several runs of axes, size-1 axes, rank 1 and bfloat16/int32 (left to SimpleGo).
func TestReduceSumMatchesInner(t *testing.T) {
	backend := newCPU(t)
	for i, c := range []struct {
		dims, axes []int
	}{
		{[]int{2, 3, 4, 5}, []int{2, 3}}, {[]int{2, 3, 4, 5}, []int{0}}, {[]int{2, 3, 4, 5}, []int{1, 2}},
		{[]int{2, 3, 4, 5}, []int{0, 2, 3}}, {[]int{2, 3, 4, 5}, []int{0, 1, 2, 3}}, {[]int{2, 3, 4, 5}, []int{1, 3}},
		{[]int{7}, []int{0}}, {[]int{1, 6, 1}, []int{0, 2}}, {[]int{1, 6, 1}, []int{1}}, {[]int{4, 1, 3}, []int{1}},
		{[]int{3, 1000}, []int{1}}, {[]int{1000, 3}, []int{0}}, {[]int{20000, 3}, []int{1}}, // batched: 20000 > maxSumCross
		{[]int{2, 1, 3, 4}, []int{0, 1, 3}}, {[]int{3, 4, 1}, []int{1, 2}},
	} {
		for _, dtype := range []dtypes.DType{dtypes.Float32, dtypes.Float64, dtypes.BFloat16, dtypes.Int32} {
			x := randomTensor(uint64(130+i), c.dims...)
			axes := c.axes
			fast, inner := execBoth(t, backend, func(x *Node) *Node {
				return ReduceSum(ConvertDType(MulScalar(x, 10), dtype), axes...)
			}, x)
			msg := fmt.Sprintf("ReduceSum(%s %v, %v)", dtype, c.dims, axes)
			require.True(t, inner.Shape().Equal(fast.Shape()), "%s: shape %s vs %s", msg, fast.Shape(), inner.Shape())
			f, err := ExecOnce(backend, func(x *Node) *Node { return ConvertDType(x, dtypes.Float64) }, fast)
			require.NoError(t, err, msg)
			g, err := ExecOnce(backend, func(x *Node) *Node { return ConvertDType(x, dtypes.Float64) }, inner)
			require.NoError(t, err, msg)
			worst, at := maxAbsDiff(tensorsFlat(t, g), tensorsFlat(t, f))
			// Summation order differs: float32 sums of up to 1000 values of magnitude 10.
			assert.LessOrEqual(t, worst, 1e-3, "%s: max |Δ| at %d", msg, at)
		}
	}
}

// tensorsFlat returns a float64 tensor's values (a scalar as one value).
func tensorsFlat(t *testing.T, x *tensors.Tensor) []float64 {
	t.Helper()
	return flatOf(t, x)
}
