package clip

import (
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/org/neti/internal/tensortest"
	"github.com/stretchr/testify/require"
)

// cpuBackend is the CPU backend shared by the tests of this package.
func cpuBackend(t testing.TB) backends.Backend {
	t.Helper()
	return tensortest.Backend(t)
}

// tinyConfig is a small CLIPTextConfig with SD 1.x's legacy special ids (eos_token_id 2).
func tinyConfig() *Config {
	cfg := DefaultConfig()
	cfg.VocabSize = 1000
	cfg.HiddenSize = 32
	cfg.IntermediateSize = 64
	cfg.NumHiddenLayers = 3
	cfg.NumAttentionHeads = 4
	cfg.BOSTokenID, cfg.EOSTokenID, cfg.PadTokenID = 0, 2, 1
	return &cfg
}

// execute builds fn on ctx and runs it once with the given inputs (Go values or tensors).
func execute(t testing.TB, ctx *context.Context, fn func(ctx *context.Context, inputs []*graph.Node) []*graph.Node,
	inputs ...any) []*tensors.Tensor {
	t.Helper()
	exec, err := context.NewExec(cpuBackend(t), ctx, fn)
	require.NoError(t, err)
	defer exec.Finalize()
	out, err := exec.Exec(inputs...)
	require.NoError(t, err)
	return out
}

// flat returns a float32 tensor's values.
func flat(t testing.TB, x *tensors.Tensor) []float32 {
	t.Helper()
	v, err := tensors.CopyFlatData[float32](x)
	require.NoError(t, err)
	return v
}

// ids77 returns a [batch][77] id matrix: each row is bos, the given tokens, eos, then pad.
func ids77(bos, eos, pad int32, rows ...[]int32) [][]int32 {
	out := make([][]int32, len(rows))
	for i, r := range rows {
		row := append([]int32{bos}, r...)
		row = append(row, eos)
		for len(row) < 77 {
			row = append(row, pad)
		}
		out[i] = row
	}
	return out
}
