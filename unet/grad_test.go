package unet

import (
	"testing"

	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/stretchr/testify/require"

	"github.com/org/neti/internal/tensortest"
)

// TestGradientWrtStatesParity back-propagates a weighted sum of the tiny SD 1.x UNet's output to the
// encoder states, the path NeTI trains through, and compares with torch's autograd
// (testdata/grad-tiny-sd1.safetensors, written by testdata/make_grad.py). On SimpleGo this runs through the
// internal/backend adapter (Pad for GEGLU's slice gradient, Reverse for the conv input gradients).
func TestGradientWrtStatesParity(t *testing.T) {
	cfg, ctx, _ := loadTiny(t, "tiny-sd1")
	ref, _ := tensortest.LoadFixture(t, referencePath("tiny-sd1"))
	grad, _ := tensortest.LoadFixture(t, "testdata/grad-tiny-sd1.safetensors")
	exec, err := context.NewExec(testBackend(t), ctx.Reuse(),
		func(ctx *context.Context, in []*graph.Node) *graph.Node {
			sample, timestep, states, weights := in[0], in[1], in[2], in[3]
			out := Forward(ctx.In("unet"), cfg, sample, timestep, Shared(states))
			loss := graph.ReduceAllSum(graph.Mul(out, weights))
			return graph.Gradient(loss, states)[0]
		})
	require.NoError(t, err)
	got, err := exec.Exec(ref["sample"], ref["timestep"], ref["encoder_hidden_states"], grad["weights"])
	require.NoError(t, err)
	tensortest.AllClose(t, grad["grad_states"], got[0], parityTolerance, "d loss / d encoder states")
	t.Logf("gradient w.r.t. states: max |Δ| = %.3g", tensortest.MaxDelta(t, grad["grad_states"], got[0]))
}
