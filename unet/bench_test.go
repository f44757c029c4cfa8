package unet

import (
	"testing"

	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/stretchr/testify/require"

	"github.com/org/neti/internal/tensortest"
)

// BenchmarkTinyUNetStep measures one forward step of the tiny SD 1.x UNet (batch 2, 16×16 latents, 77
// tokens) on the CPU backend; compilation happens before the timed loop.
func BenchmarkTinyUNetStep(b *testing.B) {
	cfg, ctx, _ := loadTiny(b, "tiny-sd1")
	ref, _ := tensortest.LoadFixture(b, referencePath("tiny-sd1"))
	exec, err := context.NewExec(testBackend(b), ctx.Reuse(),
		func(ctx *context.Context, sample, timestep, states *graph.Node) *graph.Node {
			return Forward(ctx.In("unet"), cfg, sample, timestep, Shared(states))
		})
	require.NoError(b, err)
	args := []any{ref["sample"], ref["timestep"], ref["encoder_hidden_states"]}
	_, err = exec.Exec(args...)
	require.NoError(b, err)
	for b.Loop() {
		out, err := exec.Exec(args...)
		if err != nil {
			b.Fatal(err)
		}
		out[0].FinalizeAll()
	}
}
