package neti

import (
	"fmt"
	"math"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMapperGradient checks GoMLX's gradients of the mapper (Fourier features, anchor layer, LayerNorms,
// LeakyReLU, nested dropout, output head, word-half normalisation) against central finite differences in
// float64 on the CPU backend, for a loss Σ word·R₁ + Σ bypass·R₂ over rows with different truncations.
func TestMapperGradient(t *testing.T) {
	cfg := smallConfig(4)
	c, err := NewConcept(cfg)
	require.NoError(t, err)
	ctx := context.New()
	require.NoError(t, c.loadInto(ctx, dtypes.Float64))
	names := []string{"net.0.weight", "net.0.bias", "net.1.weight", "net.2.weight", "net.2.bias", "net.4.weight",
		"net.5.weight", "net.5.bias", "output_layer.0.weight", "output_layer.0.bias"}
	vars := make([]*context.Variable, len(names))
	for i, name := range names {
		scope, v := variableScope(ctx, name)
		vars[i] = scope.InspectVariableInScope(v)
		require.NotNil(t, vars[i], name)
	}

	ts := []float64{0, 37, 500, 981, 999}
	ls := []float64{0, 3, 6, 15, 9}
	keep := []int32{32, 32, 10, 0, 20}
	n, d := len(ts), cfg.TextWidth
	r1, r2 := make([]float64, n*d), make([]float64, n*d)
	for i := range r1 {
		r1[i], r2[i] = math.Sin(float64(i)*0.7), math.Cos(float64(i)*1.3)
	}
	loss := func(ctx *context.Context, in []*graph.Node) *graph.Node {
		word, bypass := mapper(ctx, &cfg, in[0], in[1], in[2])
		return graph.Add(graph.ReduceAllSum(graph.Mul(word, in[3])), graph.ReduceAllSum(graph.Mul(bypass, in[4])))
	}
	inputs := []any{tensors.FromFlatDataAndDimensions(ts, n), tensors.FromFlatDataAndDimensions(ls, n),
		tensors.FromFlatDataAndDimensions(keep, n), tensors.FromFlatDataAndDimensions(r1, n, d),
		tensors.FromFlatDataAndDimensions(r2, n, d)}
	gradExec, err := context.NewExec(testBackend(t), ctx.Reuse(), func(ctx *context.Context, in []*graph.Node) []*graph.Node {
		l := loss(ctx, in)
		nodes := make([]*graph.Node, len(vars))
		for i, v := range vars {
			nodes[i] = v.ValueGraph(l.Graph())
		}
		return graph.Gradient(l, nodes...)
	})
	require.NoError(t, err)
	lossExec, err := context.NewExec(testBackend(t), ctx.Reuse(), func(ctx *context.Context, in []*graph.Node) *graph.Node {
		return loss(ctx, in)
	})
	require.NoError(t, err)
	grads, err := gradExec.Exec(inputs...)
	require.NoError(t, err)
	evalLoss := func() float64 {
		out, err := lossExec.Exec(inputs...)
		require.NoError(t, err)
		return tensors.ToScalar[float64](out[0])
	}

	const eps = 1e-6
	worst := 0.0
	for i, v := range vars {
		g := tensors.MustCopyFlatData[float64](grads[i])
		base := tensors.MustCopyFlatData[float64](v.MustValue())
		dims := v.Shape().Dimensions
		largest := 0.0
		for _, x := range g {
			largest = math.Max(largest, math.Abs(x))
		}
		assert.Greater(t, largest, 1e-3, "%s: the loss depends on it", names[i])
		for _, j := range []int{0, len(base) / 3, len(base) / 2, len(base) - 1} {
			set := func(x float64) {
				vals := append([]float64(nil), base...)
				vals[j] = x
				require.NoError(t, v.SetValue(tensors.FromFlatDataAndDimensions(vals, dims...)))
			}
			set(base[j] + eps)
			plus := evalLoss()
			set(base[j] - eps)
			minus := evalLoss()
			set(base[j])
			fd := (plus - minus) / (2 * eps)
			// Central differences in float64: truncation ~eps², rounding ~1e-16·|loss|/eps ≈ 1e-9.
			diff := math.Abs(fd - g[j])
			assert.LessOrEqual(t, diff, 1e-6+1e-6*math.Abs(fd), fmt.Sprintf("%s[%d]: finite difference %.9g, gradient %.9g", names[i], j, fd, g[j]))
			worst = math.Max(worst, diff)
		}
	}
	t.Logf("max |finite difference - gradient| = %.3g over %d parameters × 4 entries", worst, len(vars))
}
