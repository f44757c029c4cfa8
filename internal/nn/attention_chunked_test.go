package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/core/tensors/images"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/neti/internal/tensortest"
)

// TestChunkedAttentionMatches: with a ScoresBudget small enough to split the queries into uneven chunks,
// Attention's output and its gradients with respect to q, k and v (of Σ out ⊙ w) equal the single-pass
// attention's to float32 rounding, for self-attention (Lk = Lq) and cross-attention (Lk ≠ Lq), on the test
// binary's backend ($GOMLX_BACKEND). In bfloat16 (q, k, v kept in it, converted a chunk at a time; the
// output and the gradients rounded to it) they agree to two bfloat16 roundings: 2⁻⁶ of the largest value.
func TestChunkedAttentionMatches(t *testing.T) {
	const batch, heads, hd = 2, 3, 4
	const d = heads * hd
	rng := rand.New(rand.NewPCG(3, 5))
	random := func(dims ...int) *tensors.Tensor {
		return tensors.FromFlatDataAndDimensions(randFloats(rng, batch*dims[0]*d), batch, dims[0], d)
	}
	be := tensortest.Backend(t)
	for _, dtype := range []dtypes.DType{dtypes.Float32, dtypes.BFloat16} {
		for _, c := range []struct{ lq, lk, rows int }{{37, 37, 5}, {37, 11, 8}, {9, 30, 1}} {
			t.Run(fmt.Sprintf("%s_Lq%d_Lk%d_rows%d", dtype, c.lq, c.lk, c.rows), func(t *testing.T) {
				q, k, v, w := random(c.lq), random(c.lk), random(c.lk), random(c.lq)
				results := func(budget int) []*tensors.Tensor {
					saved := ScoresBudget
					ScoresBudget = budget
					defer func() { ScoresBudget = saved }()
					require.Equal(t, min(c.lq, max(budget/(4*batch*heads*c.lk), 1)), chunkRows(batch*heads, c.lq, c.lk))
					exec, err := graph.NewExec(be, func(q, k, v, w *graph.Node) []*graph.Node {
						q, k, v = graph.ConvertDType(q, dtype), graph.ConvertDType(k, dtype), graph.ConvertDType(v, dtype)
						out := graph.ConvertDType(Attention(q, k, v, heads, nil), dtypes.Float32)
						loss := graph.ReduceAllSum(graph.Mul(out, w))
						res := []*graph.Node{out}
						for _, g := range graph.Gradient(loss, q, k, v) {
							res = append(res, graph.ConvertDType(g, dtypes.Float32))
						}
						return res
					})
					require.NoError(t, err)
					outs, err := exec.Exec(q, k, v, w)
					require.NoError(t, err)
					return outs
				}
				whole := results(1 << 30)
				chunked := results(c.rows * 4 * batch * heads * c.lk)
				for i, name := range []string{"output", "dq", "dk", "dv"} {
					atol := 2e-6
					if dtype != dtypes.Float32 {
						atol = float64(maxAbs(tensors.MustCopyFlatData[float32](whole[i]))) / 64
					}
					tensortest.AllClose(t, whole[i], chunked[i], atol, "%s, chunks of %d rows", name, c.rows)
				}
				// The gradients are not trivially zero (the carrier's custom gradient is what flows).
				assert.Greater(t, maxAbs(tensors.MustCopyFlatData[float32](chunked[2])), float32(1e-3), "dk")
			})
		}
	}
}

// maxAbs is the largest |x|.
func maxAbs(xs []float32) float32 {
	var m float32
	for _, x := range xs {
		m = max(m, x, -x)
	}
	return m
}

// TestConv2DGradients: Conv2D's gradients with respect to its input and its kernel (through the late-kernel
// input gradient, convLateKernel) equal those of a plain graph.Convolve, for convolutions that keep, grow
// and shrink the size (stride 1 and 2, more and fewer output channels).
func TestConv2DGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	be := tensortest.Backend(t)
	for _, c := range []struct{ in, out, kernel, stride, padding int }{
		{3, 5, 3, 1, 1}, {6, 2, 3, 2, 1}, {4, 4, 1, 1, 0}, {2, 7, 3, 2, 0},
	} {
		t.Run(fmt.Sprintf("%d_to_%d_k%d_s%d_p%d", c.in, c.out, c.kernel, c.stride, c.padding), func(t *testing.T) {
			const batch, size = 2, 7
			x := tensors.FromFlatDataAndDimensions(randFloats(rng, batch*c.in*size*size), batch, c.in, size, size)
			w := tensors.FromFlatDataAndDimensions(randFloats(rng, c.out*c.in*c.kernel*c.kernel), c.out, c.in, c.kernel, c.kernel)
			outSize := (size+2*c.padding-c.kernel)/c.stride + 1
			weight := tensors.FromFlatDataAndDimensions(randFloats(rng, batch*c.out*outSize*outSize), batch, c.out, outSize, outSize)
			gradients := func(late bool) []*tensors.Tensor {
				exec, err := graph.NewExec(be, func(x, w, weight *graph.Node) []*graph.Node {
					conv := func(x, w *graph.Node) *graph.Node {
						return graph.Convolve(x, w).ChannelsAxis(images.ChannelsFirst).Strides(c.stride).
							PaddingPerDim([][2]int{{c.padding, c.padding}, {c.padding, c.padding}}).Done()
					}
					y := conv(x, w)
					if late {
						y = convLateKernel(x, w, conv)
					}
					loss := graph.ReduceAllSum(graph.Mul(y, weight))
					return append([]*graph.Node{y}, graph.Gradient(loss, x, w)...)
				})
				require.NoError(t, err)
				out, err := exec.Exec(x, w, weight)
				require.NoError(t, err)
				return out
			}
			plain, late := gradients(false), gradients(true)
			for i, name := range []string{"output", "dx", "dw"} {
				tensortest.AllClose(t, plain[i], late[i], 1e-5, "%s", name)
			}
			assert.Greater(t, maxAbs(tensors.MustCopyFlatData[float32](late[1])), float32(1e-3), "dx is not zero")
		})
	}
}
