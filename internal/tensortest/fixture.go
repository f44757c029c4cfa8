package tensortest

import (
	"testing"

	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/org/neti/internal/safetensors"
	"github.com/stretchr/testify/require"
)

// LoadFixture reads every tensor of a safetensors fixture, each in its stored dtype (float32 stays float32,
// int32/int64 token ids stay integers), and the file's metadata. Any error fails the test immediately.
func LoadFixture(t testing.TB, path string) (map[string]*tensors.Tensor, map[string]string) {
	t.Helper()
	f, err := safetensors.Open(path)
	require.NoError(t, err, "loading fixture %s (fixtures are produced by tools/reference/)", path)
	defer func() { _ = f.Close() }()
	out := make(map[string]*tensors.Tensor)
	for _, name := range f.Names() {
		info, _ := f.Info(name)
		tt, err := f.Tensor(name, info.DType)
		require.NoError(t, err, "loading fixture %s", path)
		out[name] = tt
	}
	return out, f.Metadata()
}
