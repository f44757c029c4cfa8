package bench

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/org/neti"
)

// tinyModel is the tiny SD1-like model of the neti tests; tinyConcepts holds the toy-world concept "dot"
// made for it.
var (
	tinyModel    = filepath.Join("..", "testdata", "tiny-sd1")
	tinyConcepts = filepath.Join("..", "testdata", "concepts")
)

// loadTiny loads the tiny SD1 pipeline on the test backend ($GOMLX_BACKEND, else the fastest here).
func loadTiny(t testing.TB) *neti.Pipeline {
	t.Helper()
	p, err := neti.LoadPipeline(tinyModel, neti.LoadOptions{})
	require.NoError(t, err)
	t.Cleanup(p.Close)
	return p
}
