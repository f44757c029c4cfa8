//go:build linux

package nn

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/neti/internal/tensortest"
)

// memoryChildEnv makes the test binary run one attention step and report its memory (see
// TestAttentionMemoryChild); its value is the ScoresBudget to use.
const memoryChildEnv = "NETI_ATTENTION_MEMORY_CHILD"

// TestAttentionMemoryBounded: the forward and backward pass of one self-attention with 1024 tokens and 8
// heads (full scores: 1024² × 8 × 4 B = 32 MiB, kept for the backward pass with the probabilities and their
// gradients) raise the peak resident memory of a fresh process by far less when the scores are chunked
// (ScoresBudget 1 MiB) than when they are not: the chunked attention never holds the whole map. Each case
// runs in a child process (this test binary, TestAttentionMemoryChild) so that the peaks are its own.
func TestAttentionMemoryBounded(t *testing.T) {
	if os.Getenv(memoryChildEnv) != "" {
		t.Skip("in the child process")
	}
	growth := func(budget int) float64 {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestAttentionMemoryChild$", "-test.v", "-test.count", "1")
		cmd.Env = append(os.Environ(), memoryChildEnv+"="+strconv.Itoa(budget))
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "child with ScoresBudget %d: %s", budget, out)
		for _, line := range strings.Split(string(out), "\n") {
			if _, after, ok := strings.Cut(line, "peak growth MB: "); ok {
				mb, err := strconv.ParseFloat(strings.TrimSpace(after), 64)
				require.NoError(t, err)
				return mb
			}
		}
		t.Fatalf("child printed no peak growth: %s", out)
		return 0
	}
	full, chunked := growth(1<<30), growth(1<<20)
	t.Logf("peak growth of one attention step: %.0f MB whole, %.0f MB chunked", full, chunked)
	assert.Greater(t, full, 64.0, "the whole map (32 MiB of scores, kept with the probabilities) shows")
	assert.Less(t, chunked, full/2, "chunked attention holds at most a fraction of the whole map")
}

// TestAttentionMemoryChild is the child process of TestAttentionMemoryBounded (skipped otherwise): it builds,
// compiles and runs the attention step once, returns the freed memory to the system (the Go heap; XLA frees
// its buffers after each run), then prints how far a second run raised the peak resident memory (VmHWM)
// above the resident memory before it (VmRSS). The first run is not measured: XLA's compiler would dominate it.
func TestAttentionMemoryChild(t *testing.T) {
	budget, err := strconv.Atoi(os.Getenv(memoryChildEnv))
	if err != nil {
		t.Skip("run by TestAttentionMemoryBounded")
	}
	ScoresBudget = budget
	const batch, tokens, heads, width = 1, 1024, 8, 64
	rng := rand.New(rand.NewPCG(1, 2))
	x := tensors.FromFlatDataAndDimensions(randFloats(rng, batch*tokens*width), batch, tokens, width)
	exec, err := graph.NewExec(tensortest.Backend(t), func(x *graph.Node) *graph.Node {
		loss := graph.ReduceAllSum(graph.Square(Attention(x, x, x, heads, nil)))
		return graph.Gradient(loss, x)[0]
	})
	require.NoError(t, err)
	out, err := exec.Exec(x)
	require.NoError(t, err)
	out[0].FinalizeAll()
	debug.FreeOSMemory()
	require.NoError(t, resetPeak())
	before := status(t, "VmRSS")
	out, err = exec.Exec(x)
	require.NoError(t, err)
	_ = tensors.MustCopyFlatData[float32](out[0])
	fmt.Printf("peak growth MB: %.1f\n", (status(t, "VmHWM")-before)/1e6)
}

// resetPeak resets the process's VmHWM to its current resident memory (Linux ≥ 4.0).
func resetPeak() error {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0o200)
}

// status reads a "kB" field of /proc/self/status, in bytes.
func status(t *testing.T, field string) float64 {
	f, err := os.Open("/proc/self/status")
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			require.NoError(t, err)
			return kb * 1024
		}
	}
	t.Fatalf("no %s in /proc/self/status", field)
	return 0
}
