package clip

import (
	"path/filepath"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/stretchr/testify/require"
)

// benchmarkEncoder times one text-encoder pass (ids → last_hidden_state) of a [batch, 77] input at random
// weights; compilation and variable initialisation happen before the timed loop.
func benchmarkEncoder(b *testing.B, cfg *Config, batch int) {
	ids := make([][]int32, batch)
	for i := range ids {
		ids[i] = make([]int32, cfg.MaxPositionEmbeddings)
		for j := range ids[i] {
			ids[i][j] = int32((i*131 + j*7) % cfg.VocabSize)
		}
	}
	exec, err := context.NewExec(cpuBackend(b), context.New().In("text_encoder"),
		func(ctx *context.Context, ids *graph.Node) *graph.Node { return Forward(ctx, cfg, ids) })
	require.NoError(b, err)
	defer exec.Finalize()
	_, err = exec.Exec(ids) // compile and initialise the variables
	require.NoError(b, err)
	b.ResetTimer()
	for b.Loop() {
		out, err := exec.Exec(ids)
		if err != nil {
			b.Fatal(err)
		}
		out[0].FinalizeAll()
	}
}

// BenchmarkEncoder is a pass of the tiny SD 1 text encoder (testdata/tiny-sd1) over a batch of 2 prompts
// (conditional + unconditional), at random weights.
func BenchmarkEncoder(b *testing.B) {
	cfg, err := LoadConfig(filepath.Join("..", "testdata", "tiny-sd1", "text_encoder", "config.json"))
	require.NoError(b, err)
	benchmarkEncoder(b, cfg, 2)
}
