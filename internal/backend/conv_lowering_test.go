package backend

import (
	"testing"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// convCase is one ConvGeneral configuration.
type convCase struct {
	name             string
	xDims, kDims     []int
	axes             backends.ConvolveAxesConfig
	strides          []int
	paddings         [][2]int
	inDil, kDil      []int
	groups           int
	maxPatchElements int // 0: default
	maxWindowSlices  int // 0: default
}

// nchw is the PyTorch layout: x [B, C, S...], kernel [O, I, S...], out [B, O, S...].
func nchw(spatial int) backends.ConvolveAxesConfig {
	s := make([]int, spatial)
	for i := range s {
		s[i] = 2 + i
	}
	return backends.ConvolveAxesConfig{InputBatch: 0, InputChannels: 1, InputSpatial: s,
		KernelOutputChannels: 0, KernelInputChannels: 1, KernelSpatial: s,
		OutputBatch: 0, OutputChannels: 1, OutputSpatial: s}
}

var convCases = []convCase{
	{name: "3x3_pad1", xDims: []int{2, 3, 5, 6}, kDims: []int{4, 3, 3, 3}, axes: nchw(2), paddings: [][2]int{{1, 1}, {1, 1}}},
	{name: "stride2_asym_pad", xDims: []int{1, 2, 7, 6}, kDims: []int{3, 2, 3, 3}, axes: nchw(2), strides: []int{2, 2}, paddings: [][2]int{{1, 0}, {0, 1}}},
	{name: "kernel_dilation2", xDims: []int{1, 2, 7, 7}, kDims: []int{2, 2, 3, 3}, axes: nchw(2), kDil: []int{2, 2}, paddings: [][2]int{{2, 2}, {1, 1}}},
	{name: "input_dilation2", xDims: []int{1, 3, 4, 3}, kDims: []int{2, 3, 3, 3}, axes: nchw(2), inDil: []int{2, 2}, paddings: [][2]int{{1, 2}, {1, 1}}},
	{name: "negative_padding", xDims: []int{1, 2, 6, 6}, kDims: []int{2, 2, 2, 2}, axes: nchw(2), paddings: [][2]int{{-1, 0}, {1, -2}}},
	{name: "channel_groups2", xDims: []int{2, 4, 5, 5}, kDims: []int{6, 2, 3, 3}, axes: nchw(2), paddings: [][2]int{{1, 1}, {1, 1}}, groups: 2},
	{name: "channels_last_stride2", xDims: []int{2, 6, 5, 3}, kDims: []int{3, 3, 3, 4}, strides: []int{2, 1},
		axes: backends.ConvolveAxesConfig{InputBatch: 0, InputSpatial: []int{1, 2}, InputChannels: 3,
			KernelSpatial: []int{0, 1}, KernelInputChannels: 2, KernelOutputChannels: 3,
			OutputBatch: 0, OutputSpatial: []int{1, 2}, OutputChannels: 3}},
	{name: "transposed_output_layout", xDims: []int{3, 2, 5, 4}, kDims: []int{3, 3, 2, 4}, paddings: [][2]int{{1, 1}, {0, 1}},
		axes: backends.ConvolveAxesConfig{InputChannels: 0, InputBatch: 1, InputSpatial: []int{2, 3},
			KernelInputChannels: 0, KernelOutputChannels: 3, KernelSpatial: []int{1, 2},
			OutputChannels: 0, OutputSpatial: []int{1, 2}, OutputBatch: 3}},
	{name: "conv1d", xDims: []int{2, 3, 9}, kDims: []int{2, 3, 4}, axes: nchw(1), strides: []int{2}, paddings: [][2]int{{1, 2}}},
	{name: "conv3d", xDims: []int{1, 2, 4, 3, 5}, kDims: []int{2, 2, 2, 3, 2}, axes: nchw(3), paddings: [][2]int{{0, 1}, {1, 1}, {0, 0}}},
	{name: "large_kernel_small_output", xDims: []int{2, 3, 6, 7}, kDims: []int{2, 3, 5, 6}, axes: nchw(2)}, // by output position
	{name: "large_kernel_dilated_strided", xDims: []int{1, 2, 9, 9}, kDims: []int{2, 2, 4, 4}, axes: nchw(2), kDil: []int{2, 2}, paddings: [][2]int{{1, 1}, {1, 1}}},
	{name: "chunked", xDims: []int{2, 3, 7, 5}, kDims: []int{4, 3, 3, 3}, axes: nchw(2), strides: []int{2, 1},
		paddings: [][2]int{{1, 1}, {1, 1}}, maxPatchElements: 200},
	{name: "chunked_one_row", xDims: []int{1, 2, 6, 5}, kDims: []int{2, 2, 3, 3}, axes: nchw(2),
		paddings: [][2]int{{1, 1}, {1, 1}}, maxPatchElements: 1},
	{name: "fallback_to_direct", xDims: []int{1, 2, 6, 5}, kDims: []int{2, 2, 3, 3}, axes: nchw(2),
		paddings: [][2]int{{1, 1}, {1, 1}}, maxWindowSlices: 1},
}

// runConv executes one ConvGeneral of c on backend.
func runConv(t *testing.T, backend backends.Backend, c convCase, xFlat, kFlat []float64) *tensors.Tensor {
	t.Helper()
	// Fresh tensors per backend: a tensor cannot move between backend instances.
	x := tensors.FromFlatDataAndDimensions(xFlat, c.xDims...)
	k := tensors.FromFlatDataAndDimensions(kFlat, c.kDims...)
	out, err := ExecOnce(backend, func(x, k *Node) *Node {
		return ConvGeneral(x, k, c.axes, c.strides, c.paddings, c.inDil, c.kDil, c.groups, 1)
	}, x, k)
	require.NoError(t, err, "%s: ConvGeneral", c.name)
	return out
}

// TestConvLoweringMatchesDirect compares the adapter's DotGeneral lowering of ConvGeneral with SimpleGo's
// direct convolution (with the adapter's defaults filled, which makes it correct) over layouts, strides,
// dilations, paddings, groups, 1-3 spatial axes, both window orders and chunking. float64, atol 1e-12:
// the two differ only by summation order.
func TestConvLoweringMatchesDirect(t *testing.T) {
	lowered := newCPU(t)
	direct := newCPU(t)
	direct.(*adapter).directConv = true
	defer func(patch, slices int) { maxPatchElements, maxWindowSlices = patch, slices }(maxPatchElements, maxWindowSlices)
	for _, c := range convCases {
		t.Run(c.name, func(t *testing.T) {
			maxPatchElements, maxWindowSlices = 1<<24, 1024
			if c.maxPatchElements > 0 {
				maxPatchElements = c.maxPatchElements
			}
			if c.maxWindowSlices > 0 {
				maxWindowSlices = c.maxWindowSlices
			}
			x, k := randomFlat(21, size(c.xDims)), randomFlat(22, size(c.kDims))
			want := runConv(t, direct, c, x, k)
			got := runConv(t, lowered, c, x, k)
			require.Equal(t, want.Shape().Dimensions, got.Shape().Dimensions, "%s: output shape", c.name)
			diff, at := maxAbsDiff(flatOf(t, want), flatOf(t, got))
			t.Logf("%s: output %v, max |Δ| = %.3g", c.name, got.Shape().Dimensions, diff)
			assert.Less(t, diff, 1e-12, "%s: at flat index %d", c.name, at)
			assert.Greater(t, maxAbs(flatOf(t, got)), 0.1, "%s: output is ~zero", c.name)
		})
	}
}
