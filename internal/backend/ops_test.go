package backend

import (
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/dtypes/bfloat16"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// reverseRef reverses flat x (row-major dims) on axes.
func reverseRef(x []float64, dims []int, axes []int) []float64 {
	st := strides(dims)
	out := make([]float64, len(x))
	for i := range x {
		j := 0
		for a := range dims {
			idx := i / st[a] % dims[a]
			for _, r := range axes {
				if r == a {
					idx = dims[a] - 1 - idx
				}
			}
			j += idx * st[a]
		}
		out[j] = x[i]
	}
	return out
}

// TestReverseMatchesGo compares the adapter's Reverse with a Go reference on a [2, 3, 4] tensor; the
// values are moved, not computed, so they must match exactly.
func TestReverseMatchesGo(t *testing.T) {
	backend := newCPU(t)
	dims := []int{2, 3, 4}
	x := randomFlat(1, size(dims))
	for _, axes := range [][]int{{}, {0}, {1}, {2}, {0, 2}, {2, 1, 0}} {
		out, err := ExecOnce(backend, func(x *Node) *Node { return Reverse(x, axes...) },
			tensors.FromFlatDataAndDimensions(x, dims...))
		require.NoError(t, err, "Reverse(x %v, axes %v)", dims, axes)
		assert.Equal(t, dims, out.Shape().Dimensions, "Reverse(x %v, axes %v) shape", dims, axes)
		assert.Equal(t, reverseRef(x, dims, axes), flatOf(t, out), "Reverse(x %v, axes %v)", dims, axes)
	}
	// Size-1 axes and a rank-1 int32 tensor.
	out, err := ExecOnce(backend, func(x *Node) *Node { return Reverse(x, 0, 1) },
		tensors.FromValue([][]int32{{1, 2, 3, 4, 5}}))
	require.NoError(t, err, "Reverse(int32 [1, 5], 0, 1)")
	assert.Equal(t, [][]int32{{5, 4, 3, 2, 1}}, out.Value(), "Reverse(int32 [1, 5], 0, 1)")
}

// padRef pads flat x (row-major dims) with fill following XLA's Pad semantics (negative edges crop).
func padRef(x []float64, dims []int, fill float64, cfg []backends.PadAxis) ([]float64, []int) {
	rank := len(dims)
	full := make([]backends.PadAxis, rank)
	copy(full, cfg)
	outDims := make([]int, rank)
	for a, d := range dims {
		inner := 0
		if d > 0 {
			inner = d + (d-1)*full[a].Interior
		}
		outDims[a] = full[a].Start + inner + full[a].End
	}
	out := make([]float64, size(outDims))
	for i := range out {
		out[i] = fill
	}
	inSt, outSt := strides(dims), strides(outDims)
	for i := range x {
		j, inside := 0, true
		for a := range dims {
			pos := full[a].Start + (i/inSt[a]%dims[a])*(full[a].Interior+1)
			if pos < 0 || pos >= outDims[a] {
				inside = false
				break
			}
			j += pos * outSt[a]
		}
		if inside {
			out[j] = x[i]
		}
	}
	return out, outDims
}

// TestPadMatchesGo compares the adapter's Pad with a Go reference for edge, interior and negative
// (cropping) padding; exact match since values are only moved.
func TestPadMatchesGo(t *testing.T) {
	backend := newCPU(t)
	dims := []int{3, 4}
	x := randomFlat(2, size(dims))
	for _, cfg := range [][]backends.PadAxis{
		{},
		{{Start: 1, End: 2}},
		{{}, {Start: 2, End: 1}},
		{{Interior: 2}, {Interior: 1}},
		{{Start: 1, End: 1, Interior: 1}, {Start: 0, End: 3, Interior: 2}},
		{{Start: -1, End: 1}, {Start: 2, End: -2, Interior: 1}},
		{{Start: -2, End: -1, Interior: 3}},
	} {
		want, wantDims := padRef(x, dims, 7.5, cfg)
		out, err := ExecOnce(backend, func(x *Node) *Node { return Pad(x, Scalar(x.Graph(), dtypes.Float64, 7.5), cfg...) },
			tensors.FromFlatDataAndDimensions(x, dims...))
		require.NoError(t, err, "Pad(x %v, %+v)", dims, cfg)
		assert.Equal(t, wantDims, out.Shape().Dimensions, "Pad(x %v, %+v) shape", dims, cfg)
		assert.Equal(t, want, flatOf(t, out), "Pad(x %v, %+v)", dims, cfg)
	}
}

// TestPadRejectsBadConfig checks the errors for a non-scalar fill and a negative interior padding.
func TestPadRejectsBadConfig(t *testing.T) {
	backend := newCPU(t)
	x := tensors.FromFlatDataAndDimensions(randomFlat(3, 6), 2, 3)
	_, err := ExecOnce(backend, func(x *Node) *Node {
		return Pad(x, Scalar(x.Graph(), dtypes.Float64, 0), backends.PadAxis{Interior: -1})
	}, x)
	require.Error(t, err, "Pad with Interior -1")
	assert.Contains(t, err.Error(), "negative interior padding", "Pad with Interior -1")
	_, err = ExecOnce(backend, func(x *Node) *Node { return Pad(x, Scalar(x.Graph(), dtypes.Float64, 0), backends.PadAxis{Start: -3}) }, x)
	require.Error(t, err, "Pad with Start -3 on size 2")
	assert.Contains(t, err.Error(), "negative size", "Pad with Start -3 on size 2")
}

// convRef is a direct NCHW x OIHW convolution with stride, padding and kernel dilation.
func convRef(x []float32, xDims []int, k []float32, kDims []int, stride, pad, dil int) ([]float32, []int) {
	b, c, h, w := xDims[0], xDims[1], xDims[2], xDims[3]
	o, kh, kw := kDims[0], kDims[2], kDims[3]
	oh := (h+2*pad-(kh-1)*dil-1)/stride + 1
	ow := (w+2*pad-(kw-1)*dil-1)/stride + 1
	out := make([]float32, b*o*oh*ow)
	for bi := range b {
		for oi := range o {
			for y := range oh {
				for xo := range ow {
					var sum float32
					for ci := range c {
						for i := range kh {
							for j := range kw {
								yy, xx := y*stride-pad+i*dil, xo*stride-pad+j*dil
								if yy < 0 || yy >= h || xx < 0 || xx >= w {
									continue
								}
								sum += x[((bi*c+ci)*h+yy)*w+xx] * k[((oi*c+ci)*kh+i)*kw+j]
							}
						}
					}
					out[((bi*o+oi)*oh+y)*ow+xo] = sum
				}
			}
		}
	}
	return out, []int{b, o, oh, ow}
}

// TestConvDefaultsMatchGo runs ConvGeneral with nil strides/dilations (and nil paddings where there is
// none), as GoMLX's gradients do, against a direct Go convolution. float32, atol 1e-5: at most 2*3*3 = 18
// products of values in [-1, 1] are summed, so the rounding difference from summation order is < 1e-5.
func TestConvDefaultsMatchGo(t *testing.T) {
	backend := newCPU(t)
	xDims, kDims := []int{2, 2, 6, 5}, []int{3, 2, 3, 3}
	x, k := toF32(randomFlat(4, size(xDims))), toF32(randomFlat(5, size(kDims)))
	axes := backends.ConvolveAxesConfig{InputBatch: 0, InputChannels: 1, InputSpatial: []int{2, 3},
		KernelOutputChannels: 0, KernelInputChannels: 1, KernelSpatial: []int{2, 3},
		OutputBatch: 0, OutputChannels: 1, OutputSpatial: []int{2, 3}}
	for _, tc := range []struct{ stride, pad, dil int }{{1, 0, 1}, {1, 1, 1}, {2, 1, 1}, {1, 2, 2}} {
		var strides, kernelDil []int
		var paddings [][2]int
		if tc.stride != 1 {
			strides = []int{tc.stride, tc.stride}
		}
		if tc.pad != 0 {
			paddings = [][2]int{{tc.pad, tc.pad}, {tc.pad, tc.pad}}
		}
		if tc.dil != 1 {
			kernelDil = []int{tc.dil, tc.dil}
		}
		out, err := ExecOnce(backend, func(x, k *Node) *Node {
			return ConvGeneral(x, k, axes, strides, paddings, nil, kernelDil, 0, 0)
		}, tensors.FromFlatDataAndDimensions(x, xDims...), tensors.FromFlatDataAndDimensions(k, kDims...))
		require.NoError(t, err, "conv %+v", tc)
		want, wantDims := convRef(x, xDims, k, kDims, tc.stride, tc.pad, tc.dil)
		require.Equal(t, wantDims, out.Shape().Dimensions, "conv %+v shape", tc)
		diff, at := maxAbsDiff(toF64(want), toF64(flatOf32(t, out)))
		t.Logf("conv %+v: max |Δ| = %.3g", tc, diff)
		assert.Less(t, diff, 1e-5, "conv %+v: want %v got %v at %d", tc, want[at], flatOf32(t, out)[at], at)
	}
}

// TestConvRejectsWrongLengths checks a stride list of the wrong length is a build error naming it.
func TestConvRejectsWrongLengths(t *testing.T) {
	backend := newCPU(t)
	axes := backends.ConvolveAxesConfig{InputBatch: 0, InputChannels: 1, InputSpatial: []int{2, 3},
		KernelOutputChannels: 0, KernelInputChannels: 1, KernelSpatial: []int{2, 3},
		OutputBatch: 0, OutputChannels: 1, OutputSpatial: []int{2, 3}}
	_, err := ExecOnce(backend, func(x, k *Node) *Node {
		return ConvGeneral(x, k, axes, []int{1, 1, 1}, nil, nil, nil, 1, 1)
	}, tensors.FromShape(shapesF32(1, 1, 4, 4)), tensors.FromShape(shapesF32(1, 1, 3, 3)))
	require.Error(t, err, "3 strides for 2 spatial axes")
	assert.Contains(t, err.Error(), "3 strides", "3 strides for 2 spatial axes")
}

// TestConvertDType checks float32 <-> bfloat16 round trips like Go's bfloat16 rounding and that float16,
// which SimpleGo cannot hold, is rejected while building with an error naming the fix.
func TestConvertDType(t *testing.T) {
	backend := newCPU(t)
	x := toF32(randomFlat(6, 12))
	out, err := ExecOnce(backend, func(x *Node) *Node { return ConvertDType(ConvertDType(x, dtypes.BFloat16), dtypes.Float32) },
		tensors.FromFlatDataAndDimensions(x, 3, 4))
	require.NoError(t, err, "float32 -> bfloat16 -> float32")
	want := make([]float32, len(x))
	for i, v := range x {
		want[i] = bfloat16.FromFloat32(v).Float32()
	}
	assert.Equal(t, want, flatOf32(t, out), "float32 -> bfloat16 -> float32")

	_, err = ExecOnce(backend, func(x *Node) *Node { return ConvertDType(x, dtypes.Float16) },
		tensors.FromFlatDataAndDimensions(x, 3, 4))
	require.Error(t, err, "float32 -> float16 on SimpleGo")
	assert.Contains(t, err.Error(), "Float16", "float32 -> float16 on SimpleGo")
	assert.Contains(t, err.Error(), "keep the model in float32", "float32 -> float16 on SimpleGo")
}

func toF32(x []float64) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(v)
	}
	return out
}

func toF64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

func shapesF32(dims ...int) shapes.Shape { return shapes.Make(dtypes.Float32, dims...) }
