package safetensors

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countingReader counts the bytes read through ReadAt.
type countingReader struct {
	r     *bytes.Reader
	bytes int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.bytes += int64(n)
	return n, err
}

// TestReadsOnlyTheRequestedTensor checks that opening reads just the header and that reading a tensor
// reads just its bytes, once: the file is never loaded whole.
func TestReadsOnlyTheRequestedTensor(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.safetensors")
	big := filled(dtypes.Float32, 256, 256) // 256 KiB.
	small := filled(dtypes.Float32, 3)
	require.NoError(t, Write(path, map[string]*tensors.Tensor{"big": big, "small": small}, nil))
	data, err := os.ReadFile(path)
	require.NoError(t, err)

	cr := &countingReader{r: bytes.NewReader(data)}
	f, err := newFile(path, cr, int64(len(data)))
	require.NoError(t, err)
	headerBytes := f.dataStart
	assert.Equal(t, headerBytes, cr.bytes, "Open must read only the header")

	got, err := f.Tensor("small", dtypes.Float32)
	require.NoError(t, err)
	assert.True(t, small.Equal(got))
	assert.Equal(t, headerBytes+12, cr.bytes, "reading small must read its 12 bytes only")

	got, err = f.Tensor("big", dtypes.Float32)
	require.NoError(t, err)
	assert.True(t, big.Equal(got))
	assert.Equal(t, headerBytes+12+256*256*4, cr.bytes, "reading big must read its bytes once")

	_, err = f.Tensor("big", dtypes.Float16) // Converting read, through the bounded scratch buffer.
	require.NoError(t, err)
	assert.Equal(t, headerBytes+12+2*256*256*4, cr.bytes)
}
