package backend

import (
	"fmt"
	"math"
	"testing"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	timage "github.com/gomlx/gomlx/pkg/core/tensors/images"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gradCase is a differentiable float64 function of a few inputs, reduced to a scalar loss by a weighted
// sum with fixed random weights (so every output element gets a distinct cotangent).
type gradCase struct {
	name   string
	inputs [][]int // dims of each input
	fn     func(inputs []*Node) *Node
}

// gradCases covers the ops the UNet/VAE training path back-propagates through.
var gradCases = []gradCase{
	{
		name:   "conv3x3_pad1",
		inputs: [][]int{{2, 3, 5, 5}, {4, 3, 3, 3}, {4}}, // x NCHW, kernel OIHW, bias
		fn: func(in []*Node) *Node {
			y := Convolve(in[0], in[1]).ChannelsAxis(timage.ChannelsFirst).PaddingPerDim([][2]int{{1, 1}, {1, 1}}).Done()
			return Add(y, Reshape(in[2], 1, 4, 1, 1)) // [2, 4, 5, 5]
		},
	},
	{
		name:   "conv3x3_stride2_pad1",
		inputs: [][]int{{1, 2, 6, 7}, {3, 2, 3, 3}},
		fn: func(in []*Node) *Node {
			return Convolve(in[0], in[1]).ChannelsAxis(timage.ChannelsFirst).StridePerAxis(2, 2).
				PaddingPerDim([][2]int{{1, 1}, {1, 1}}).Done() // [1, 3, 3, 4]
		},
	},
	{
		name:   "conv1x1",
		inputs: [][]int{{2, 3, 4, 4}, {2, 3, 1, 1}},
		fn: func(in []*Node) *Node {
			return Convolve(in[0], in[1]).ChannelsAxis(timage.ChannelsFirst).NoPadding().Done() // [2, 2, 4, 4]
		},
	},
	{
		name:   "group_norm",
		inputs: [][]int{{2, 4, 3, 3}, {4}, {4}},
		fn: func(in []*Node) *Node {
			return groupNorm(in[0], in[1], in[2], 2, 1e-5)
		},
	},
	{
		name:   "attention",
		inputs: [][]int{{2, 3, 4}, {2, 5, 4}, {2, 5, 4}}, // q [B, Lq, d], k/v [B, Lk, d]
		fn: func(in []*Node) *Node {
			q, k, v := in[0], in[1], in[2]
			scores := MulScalar(Einsum("bqd,bkd->bqk", q, k), 1/math.Sqrt(4)) // [2, 3, 5]
			return Einsum("bqk,bkd->bqd", Softmax(scores, -1), v)             // [2, 3, 4]
		},
	},
	{
		name:   "geglu_split",
		inputs: [][]int{{2, 3, 8}},
		fn: func(in []*Node) *Node {
			halves := Split(in[0], -1, 2) // 2 x [2, 3, 4]
			return Mul(halves[0], gelu(halves[1]))
		},
	},
	{
		name:   "strided_slice",
		inputs: [][]int{{3, 7}},
		fn: func(in []*Node) *Node {
			return Slice(in[0], AxisRange(1, 3), AxisRange(0, 7).Stride(3)) // [2, 3], interior padding in the VJP
		},
	},
	{
		name:   "embedding_gather",
		inputs: [][]int{{5, 3}}, // embedding table; rows 1 and 3 are looked up, row 1 twice
		fn: func(in []*Node) *Node {
			ids := Const(in[0].Graph(), [][]int32{{1}, {3}, {1}}) // [3, 1]
			return Gather(in[0], ids)                             // [3, 3]
		},
	},
	{
		name:   "upsample_nearest2x",
		inputs: [][]int{{1, 2, 3, 2}},
		fn: func(in []*Node) *Node {
			return upsampleNearest2x(in[0]) // [1, 2, 6, 4]
		},
	},
}

// groupNorm normalizes x [B, C, H, W] over groups of C/groups channels and the spatial axes, then applies
// the per-channel scale and bias (as torch.nn.GroupNorm).
func groupNorm(x, scale, bias *Node, groups int, eps float64) *Node {
	dims := x.Shape().Dimensions
	b, c := dims[0], dims[1]
	g := Reshape(x, b, groups, -1) // [B, groups, C/groups*H*W]
	mean := ReduceAndKeep(g, ReduceMean, -1)
	centered := Sub(g, mean)
	variance := ReduceAndKeep(Square(centered), ReduceMean, -1)
	normed := Reshape(Div(centered, Sqrt(AddScalar(variance, eps))), dims...)
	return Add(Mul(normed, Reshape(scale, 1, c, 1, 1)), Reshape(bias, 1, c, 1, 1))
}

// gelu is the erf GELU: x/2 * (1 + erf(x/sqrt(2))).
func gelu(x *Node) *Node {
	return Mul(MulScalar(x, 0.5), OnePlus(Erf(MulScalar(x, 1/math.Sqrt2))))
}

// upsampleNearest2x repeats each pixel of x [B, C, H, W] twice on H and W → [B, C, 2H, 2W].
func upsampleNearest2x(x *Node) *Node {
	dims := x.Shape().Dimensions
	b, c, h, w := dims[0], dims[1], dims[2], dims[3]
	x6 := BroadcastToDims(Reshape(x, b, c, h, 1, w, 1), b, c, h, 2, w, 2)
	return Reshape(x6, b, c, 2*h, 2*w)
}

// lossFn wraps a case into inputs (the case's inputs then the loss weights) → scalar loss.
func lossFn(fn func([]*Node) *Node) func([]*Node) *Node {
	return func(in []*Node) *Node {
		n := len(in) - 1
		return ReduceAllSum(Mul(fn(in[:n]), in[n]))
	}
}

// caseTensors returns the case's random inputs and the loss weights.
func caseTensors(t testing.TB, backend backends.Backend, c gradCase) []*tensors.Tensor {
	t.Helper()
	var args []*tensors.Tensor
	for i, dims := range c.inputs {
		args = append(args, tensors.FromFlatDataAndDimensions(randomFlat(uint64(10+i), size(dims)), dims...))
	}
	g := NewGraph(backend, "shape_"+c.name)
	var params []*Node
	for i, a := range args {
		params = append(params, Parameter(g, fmt.Sprint("x", i), a.Shape()))
	}
	outDims := c.fn(params).Shape().Dimensions
	g.Finalize()
	return append(args, tensors.FromFlatDataAndDimensions(randomFlat(99, size(outDims)), outDims...))
}

// analyticGradients returns d loss / d input for each of the case's inputs.
func analyticGradients(t testing.TB, backend backends.Backend, c gradCase, args []*tensors.Tensor) [][]float64 {
	t.Helper()
	exec, err := NewExec(backend, func(in []*Node) []*Node {
		n := len(in) - 1
		return Gradient(lossFn(c.fn)(in), in[:n]...)
	})
	require.NoError(t, err, "%s: NewExec of the gradient", c.name)
	defer exec.Finalize()
	anyArgs := make([]any, len(args))
	for i, a := range args {
		anyArgs[i] = a
	}
	outs, err := exec.Exec(anyArgs...)
	require.NoError(t, err, "%s: executing the gradient", c.name)
	grads := make([][]float64, len(outs))
	for i, o := range outs {
		grads[i] = flatOf(t, o)
	}
	return grads
}

// numericGradients returns the central finite-difference estimate of d loss / d input, element by element.
func numericGradients(t testing.TB, backend backends.Backend, c gradCase, args []*tensors.Tensor, eps float64) [][]float64 {
	t.Helper()
	exec, err := NewExec(backend, lossFn(c.fn))
	require.NoError(t, err, "%s: NewExec of the loss", c.name)
	defer exec.Finalize()
	flats := make([][]float64, len(args))
	for i, a := range args {
		flats[i] = flatOf(t, a)
	}
	loss := func() float64 {
		anyArgs := make([]any, len(args))
		for i, a := range args {
			anyArgs[i] = tensors.FromFlatDataAndDimensions(flats[i], a.Shape().Dimensions...)
		}
		out, err := exec.Exec1(anyArgs...)
		require.NoError(t, err, "%s: executing the loss", c.name)
		return flatOf(t, out)[0]
	}
	grads := make([][]float64, len(c.inputs))
	for i := range c.inputs {
		grads[i] = make([]float64, len(flats[i]))
		for j := range flats[i] {
			orig := flats[i][j]
			flats[i][j] = orig + eps
			plus := loss()
			flats[i][j] = orig - eps
			minus := loss()
			flats[i][j] = orig
			grads[i][j] = (plus - minus) / (2 * eps)
		}
	}
	return grads
}

// TestGradientsMatchFiniteDifferences back-propagates through each case on the adapted backend in float64
// and compares every gradient element with a central finite difference (eps 1e-5). The losses are
// polynomial or smooth in the inputs, so the truncation error is O(eps²)·|third derivative| ≈ 1e-10 and the rounding
// error ≈ 1e-16/eps ≈ 1e-11; the tolerance 1e-6 leaves ample room and still catches any wrong gradient.
// It runs with the convolutions lowered to DotGeneral (the default) and with SimpleGo's own convolution
// loop given the filled-in defaults ("direct").
func TestGradientsMatchFiniteDifferences(t *testing.T) {
	for _, direct := range []bool{false, true} {
		backend := newCPU(t)
		backend.(*adapter).directConv = direct
		mode := map[bool]string{false: "dot", true: "direct"}[direct]
		for _, c := range gradCases {
			t.Run(mode+"/"+c.name, func(t *testing.T) {
				checkGradients(t, backend, c)
			})
		}
	}
}

// checkGradients compares the analytic and finite-difference gradients of one case.
func checkGradients(t *testing.T, backend backends.Backend, c gradCase) {
	args := caseTensors(t, backend, c)
	analytic := analyticGradients(t, backend, c, args)
	numeric := numericGradients(t, backend, c, args, 1e-5)
	require.Len(t, analytic, len(c.inputs), "%s: one gradient per input", c.name)
	for i := range c.inputs {
		require.Len(t, analytic[i], len(numeric[i]), "%s: gradient %d size", c.name, i)
		diff, at := maxAbsDiff(analytic[i], numeric[i])
		t.Logf("%s: input %d %v: max |analytic - numeric| = %.3g at %d", c.name, i, c.inputs[i], diff, at)
		assert.Less(t, diff, 1e-6, "%s: input %d %v: analytic %v vs numeric %v at flat index %d",
			c.name, i, c.inputs[i], analytic[i][at], numeric[i][at], at)
		assert.Greater(t, maxAbs(analytic[i]), 1e-3, "%s: input %d gradient is all ~zero", c.name, i)
	}
}

// maxAbs is max |x_i|.
func maxAbs(x []float64) float64 {
	m := 0.0
	for _, v := range x {
		m = math.Max(m, math.Abs(v))
	}
	return m
}
