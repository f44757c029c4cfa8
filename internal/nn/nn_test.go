package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The layers are checked against direct loops over PyTorch's definitions, with random weights set by name.

func testBackend(t *testing.T) backends.Backend {
	b, err := simplego.New("")
	require.NoError(t, err)
	return b
}

func randFloats(rng *rand.Rand, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(rng.NormFloat64())
	}
	return out
}

// run executes fn on x in a context holding the given variables (scope-relative name → flat values + dims).
func run(t *testing.T, vars map[string]*tensors.Tensor, fn func(ctx *context.Context, x *graph.Node) *graph.Node, x *tensors.Tensor) []float32 {
	ctx := context.New()
	for name, v := range vars {
		ctx.VariableWithValue(name, v)
	}
	exec, err := context.NewExec(testBackend(t), ctx.Reuse(), fn)
	require.NoError(t, err)
	out, err := exec.Exec1(x)
	require.NoError(t, err)
	return tensors.MustCopyFlatData[float32](out)
}

func assertClose(t *testing.T, want, got []float32, atol float64) {
	t.Helper()
	require.Len(t, got, len(want))
	worst, at := 0.0, -1
	for i := range want {
		if d := math.Abs(float64(want[i] - got[i])); d > worst {
			worst, at = d, i
		}
	}
	assert.LessOrEqual(t, worst, atol, "max |Δ| at flat index %d", at)
}

func TestLinear(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const batch, in, out = 3, 5, 4
	x, w, b := randFloats(rng, batch*in), randFloats(rng, out*in), randFloats(rng, out)
	got := run(t, map[string]*tensors.Tensor{
		"weight": tensors.FromFlatDataAndDimensions(w, out, in),
		"bias":   tensors.FromFlatDataAndDimensions(b, out),
	}, func(ctx *context.Context, x *graph.Node) *graph.Node { return Linear(ctx, x, out, true) },
		tensors.FromFlatDataAndDimensions(x, batch, in))
	want := make([]float32, batch*out)
	for n := range batch {
		for o := range out {
			s := b[o]
			for i := range in {
				s += x[n*in+i] * w[o*in+i]
			}
			want[n*out+o] = s
		}
	}
	assertClose(t, want, got, 1e-5)
}

func TestConv2D(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const batch, in, out, h, w, k = 2, 3, 4, 6, 5, 3
	for _, tc := range []struct{ stride, pad int }{{1, 1}, {2, 1}, {1, 0}} {
		x, wt, b := randFloats(rng, batch*in*h*w), randFloats(rng, out*in*k*k), randFloats(rng, out)
		got := run(t, map[string]*tensors.Tensor{
			"weight": tensors.FromFlatDataAndDimensions(wt, out, in, k, k),
			"bias":   tensors.FromFlatDataAndDimensions(b, out),
		}, func(ctx *context.Context, x *graph.Node) *graph.Node {
			return Conv2D(ctx, x, out, k, tc.stride, tc.pad)
		},
			tensors.FromFlatDataAndDimensions(x, batch, in, h, w))
		oh, ow := (h+2*tc.pad-k)/tc.stride+1, (w+2*tc.pad-k)/tc.stride+1
		want := make([]float32, batch*out*oh*ow)
		for n := range batch {
			for o := range out {
				for y := range oh {
					for xx := range ow {
						s := b[o]
						for c := range in {
							for ky := range k {
								for kx := range k {
									iy, ix := y*tc.stride+ky-tc.pad, xx*tc.stride+kx-tc.pad
									if iy < 0 || iy >= h || ix < 0 || ix >= w {
										continue
									}
									s += x[((n*in+c)*h+iy)*w+ix] * wt[((o*in+c)*k+ky)*k+kx]
								}
							}
						}
						want[((n*out+o)*oh+y)*ow+xx] = s
					}
				}
			}
		}
		assertClose(t, want, got, 1e-4)
	}
}

func TestGroupNorm(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const batch, c, hw, groups, eps = 2, 6, 4, 3, 1e-5
	x, wt, b := randFloats(rng, batch*c*hw), randFloats(rng, c), randFloats(rng, c)
	got := run(t, map[string]*tensors.Tensor{
		"weight": tensors.FromFlatDataAndDimensions(wt, c),
		"bias":   tensors.FromFlatDataAndDimensions(b, c),
	}, func(ctx *context.Context, x *graph.Node) *graph.Node { return GroupNorm(ctx, x, groups, eps) },
		tensors.FromFlatDataAndDimensions(x, batch, c, 2, 2))
	want := make([]float32, len(x))
	const per = c / groups * hw
	for n := range batch {
		for gi := range groups {
			start := (n*groups + gi) * per
			var mean, variance float64
			for i := range per {
				mean += float64(x[start+i])
			}
			mean /= per
			for i := range per {
				d := float64(x[start+i]) - mean
				variance += d * d
			}
			variance /= per
			for i := range per {
				ch := gi*(c/groups) + i/hw
				want[start+i] = float32((float64(x[start+i])-mean)/math.Sqrt(variance+eps))*wt[ch] + b[ch]
			}
		}
	}
	assertClose(t, want, got, 1e-5)
}

func TestLayerNorm(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const rows, d, eps = 3, 8, 1e-5
	x, wt, b := randFloats(rng, rows*d), randFloats(rng, d), randFloats(rng, d)
	got := run(t, map[string]*tensors.Tensor{
		"weight": tensors.FromFlatDataAndDimensions(wt, d),
		"bias":   tensors.FromFlatDataAndDimensions(b, d),
	}, func(ctx *context.Context, x *graph.Node) *graph.Node { return LayerNorm(ctx, x, eps) },
		tensors.FromFlatDataAndDimensions(x, rows, d))
	want := make([]float32, len(x))
	for r := range rows {
		var mean, variance float64
		for i := range d {
			mean += float64(x[r*d+i])
		}
		mean /= d
		for i := range d {
			dd := float64(x[r*d+i]) - mean
			variance += dd * dd
		}
		variance /= d
		for i := range d {
			want[r*d+i] = float32((float64(x[r*d+i])-mean)/math.Sqrt(variance+eps))*wt[i] + b[i]
		}
	}
	assertClose(t, want, got, 1e-5)
}

func TestAttentionCausal(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	const batch, l, heads, hd = 2, 5, 2, 3
	const d = heads * hd
	q, k, v := randFloats(rng, batch*l*d), randFloats(rng, batch*l*d), randFloats(rng, batch*l*d)
	exec, err := graph.NewExec(testBackend(t), func(q, k, v *graph.Node) *graph.Node {
		return Attention(q, k, v, heads, CausalMask(q.Graph(), l, q.DType()))
	})
	require.NoError(t, err)
	out, err := exec.Exec1(tensors.FromFlatDataAndDimensions(q, batch, l, d),
		tensors.FromFlatDataAndDimensions(k, batch, l, d), tensors.FromFlatDataAndDimensions(v, batch, l, d))
	require.NoError(t, err)
	got := tensors.MustCopyFlatData[float32](out)
	want := make([]float32, batch*l*d)
	for n := range batch {
		for h := range heads {
			for i := range l {
				scores := make([]float64, i+1) // causal: keys 0..i
				maxScore := math.Inf(-1)
				for j := 0; j <= i; j++ {
					var s float64
					for e := range hd {
						s += float64(q[(n*l+i)*d+h*hd+e]) * float64(k[(n*l+j)*d+h*hd+e])
					}
					scores[j] = s / math.Sqrt(hd)
					maxScore = math.Max(maxScore, scores[j])
				}
				var z float64
				for j := range scores {
					scores[j] = math.Exp(scores[j] - maxScore)
					z += scores[j]
				}
				for e := range hd {
					var acc float64
					for j := range scores {
						acc += scores[j] / z * float64(v[(n*l+j)*d+h*hd+e])
					}
					want[(n*l+i)*d+h*hd+e] = float32(acc)
				}
			}
		}
	}
	assertClose(t, want, got, 1e-5)
}

func TestUpsampleNearest2x(t *testing.T) {
	x := []float32{1, 2, 3, 4, 5, 6} // [1, 1, 2, 3]
	exec, err := graph.NewExec(testBackend(t), UpsampleNearest2x)
	require.NoError(t, err)
	out, err := exec.Exec1(tensors.FromFlatDataAndDimensions(x, 1, 1, 2, 3))
	require.NoError(t, err)
	assert.Equal(t, []int{1, 1, 4, 6}, out.Shape().Dimensions)
	assert.Equal(t, []float32{
		1, 1, 2, 2, 3, 3,
		1, 1, 2, 2, 3, 3,
		4, 4, 5, 5, 6, 6,
		4, 4, 5, 5, 6, 6,
	}, tensors.MustCopyFlatData[float32](out))
}

func TestActivations(t *testing.T) {
	xs := []float32{-3, -1, -0.5, 0, 0.5, 1, 3}
	for name, ref := range map[string]func(float64) float64{
		"silu":              func(x float64) float64 { return x / (1 + math.Exp(-x)) },
		"gelu":              func(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) },
		"quick_gelu":        func(x float64) float64 { return x / (1 + math.Exp(-1.702*x)) },
		"gelu_pytorch_tanh": func(x float64) float64 { return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x))) },
	} {
		act := Activation(name)
		require.NotNil(t, act, name)
		exec, err := graph.NewExec(testBackend(t), act)
		require.NoError(t, err)
		out, err := exec.Exec1(xs)
		require.NoError(t, err)
		got := tensors.MustCopyFlatData[float32](out)
		want := make([]float32, len(xs))
		for i, x := range xs {
			want[i] = float32(ref(float64(x)))
		}
		assertClose(t, want, got, 1e-5)
	}
	assert.Nil(t, Activation("relu6"), "unknown activation names give nil")
}
