package backend

import (
	"testing"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	timage "github.com/gomlx/gomlx/pkg/core/tensors/images"
	"github.com/stretchr/testify/require"
)

// BenchmarkConvForwardBackward measures one 3x3 pad-1 conv forward plus the gradients with respect to its
// input and kernel on the adapted CPU backend, at a UNet-like block size: x [1, 32, 32, 32] (NCHW),
// kernel [32, 32, 3, 3] (OIHW), float32. Each of the three convs is 32·32·32·32·9 ≈ 9.4M MACs.
// "dot" is the adapter's default (convolutions lowered to DotGeneral), "direct" SimpleGo's own loop.
func BenchmarkConvForwardBackward(b *testing.B) {
	for _, mode := range []struct {
		name   string
		direct bool
	}{{"dot", false}, {"direct", true}} {
		b.Run(mode.name, func(b *testing.B) {
			backend := newCPU(b)
			backend.(*adapter).directConv = mode.direct
			benchConv(b, backend)
		})
	}
}

func benchConv(b *testing.B, backend backends.Backend) {
	xDims, kDims := []int{1, 32, 32, 32}, []int{32, 32, 3, 3}
	x := tensors.FromFlatDataAndDimensions(toF32(randomFlat(1, size(xDims))), xDims...)
	k := tensors.FromFlatDataAndDimensions(toF32(randomFlat(2, size(kDims))), kDims...)
	exec, err := NewExec(backend, func(x, k *Node) (*Node, *Node) {
		y := Convolve(x, k).ChannelsAxis(timage.ChannelsFirst).PaddingPerDim([][2]int{{1, 1}, {1, 1}}).Done()
		grads := Gradient(ReduceAllSum(Square(y)), x, k)
		return grads[0], grads[1]
	})
	require.NoError(b, err, "NewExec")
	defer exec.Finalize()
	_, _, err = exec.Exec2(x, k) // Compile outside the loop.
	require.NoError(b, err, "first Exec2")
	for b.Loop() {
		gx, gk, err := exec.Exec2(x, k)
		if err != nil {
			b.Fatal(err)
		}
		gx.FinalizeAll()
		gk.FinalizeAll()
	}
	b.ReportMetric(3*9.437184e6*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
}

// BenchmarkBroadcastOps measures the adapter's broadcast and reduce rewrites ("rewritten") against
// SimpleGo's own iterators ("inner") on UNet-like shapes, float32: a norm's per-channel scale
// [2, 64, 32, 32] × [1, 64, 1, 1], softmax's [2, 8, 256, 256] / [2, 8, 256, 1], its row sums and a
// bias gradient's sum over axes 0, 2, 3.
func BenchmarkBroadcastOps(b *testing.B) {
	cases := []struct {
		name string
		dims [][]int
		fn   func(x, y *Node) *Node
	}{
		{"MulChannel", [][]int{{2, 64, 32, 32}, {1, 64, 1, 1}}, Mul},
		{"MulChannel8", [][]int{{2, 64, 8, 8}, {1, 64, 1, 1}}, Mul},
		{"MulChannel16", [][]int{{2, 64, 16, 16}, {1, 64, 1, 1}}, Mul},
		{"DivRows", [][]int{{2, 8, 256, 256}, {2, 8, 256, 1}}, Div},
		{"DivRows64", [][]int{{2, 8, 64, 64}, {2, 8, 64, 1}}, Div},
		{"SumRows", [][]int{{2, 8, 256, 256}, {1}}, func(x, _ *Node) *Node { return ReduceSum(x, 3) }},
		{"SumLead", [][]int{{128, 320}, {1}}, func(x, _ *Node) *Node { return ReduceSum(x, 0) }},
		{"SumBias", [][]int{{2, 64, 32, 32}, {1}}, func(x, _ *Node) *Node { return ReduceSum(x, 0, 2, 3) }},
	}
	for _, c := range cases {
		for _, on := range []bool{true, false} {
			name := c.name + "/inner"
			if on {
				name = c.name + "/rewritten"
			}
			b.Run(name, func(b *testing.B) {
				defer func() { fastBroadcast = true }()
				fastBroadcast = on
				backend := newCPU(b)
				x := tensors.FromFlatDataAndDimensions(toF32(randomFlat(1, size(c.dims[0]))), c.dims[0]...)
				y := tensors.FromFlatDataAndDimensions(toF32(randomFlat(2, size(c.dims[1]))), c.dims[1]...)
				exec, err := NewExec(backend, c.fn)
				require.NoError(b, err, "NewExec")
				defer exec.Finalize()
				_, err = exec.Exec1(x, y) // Compile outside the loop.
				require.NoError(b, err, "first Exec1")
				for b.Loop() {
					out, err := exec.Exec1(x, y)
					if err != nil {
						b.Fatal(err)
					}
					out.FinalizeAll()
				}
			})
		}
	}
}
