package tensortest

import (
	"sync"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/stretchr/testify/require"

	"github.com/org/neti/internal/backend"
)

// sharedBackend is the CPU backend of a test binary: GoMLX binds tensors to the backend instance they were
// first used on, so every test of a package uses the same one.
var sharedBackend = sync.OnceValues(func() (backends.Backend, error) { return backend.New("") })

// Backend returns the test binary's shared backend: backend.New(""), i.e. $GOMLX_BACKEND when set (the GPU
// check runs the parity tests on XLA that way), else the CPU adapter backend.
func Backend(t testing.TB) backends.Backend {
	t.Helper()
	b, err := sharedBackend()
	require.NoError(t, err)
	return b
}
