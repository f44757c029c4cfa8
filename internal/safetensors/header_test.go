package safetensors

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// build returns the bytes of a safetensors file with the given header text and dataLen bytes of data
// (byte i of the data is i).
func build(header string, dataLen int) []byte {
	var buf bytes.Buffer
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(header)))
	buf.Write(n[:])
	buf.WriteString(header)
	for i := range dataLen {
		buf.WriteByte(byte(i))
	}
	return buf.Bytes()
}

// openBytes opens in-memory file bytes under the name "mem.safetensors".
func openBytes(data []byte) (*File, error) {
	return newFile("mem.safetensors", bytes.NewReader(data), int64(len(data)))
}

func TestHeaderErrors(t *testing.T) {
	hugeLen := make([]byte, 16)
	binary.LittleEndian.PutUint64(hugeLen, MaxHeaderSize+1)
	pastEnd := make([]byte, 16)
	binary.LittleEndian.PutUint64(pastEnd, 9)

	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"short file", []byte{1, 2, 3}, "file has 3 bytes, too short"},
		{"header cap", hugeLen, "exceeds the 104857600 bytes limit"},
		{"header past end", pastEnd, "header length 9 exceeds the 8 bytes left"},
		{"empty header", build("", 0), "must be a JSON object starting with '{'"},
		{"not an object", build(`["a"]`, 0), "starting with '{'"},
		{"leading space", build(` {}`, 0), "starting with '{'"},
		{"invalid json", build(`{"a":`, 0), "not valid JSON"},
		{"invalid json value", build(`{"a" 1}`, 0), "not valid JSON"},
		{"bad utf8", build("{\"\xff\":1}", 0), "not valid UTF-8"},
		{"trailing data", build(`{} {}`, 0), "trailing data"},
		{"duplicate key", build(`{"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]},`+
			`"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}`, 4), `key "a" twice`},
		{"metadata not strings", build(`{"__metadata__":{"k":1}}`, 0), "__metadata__ must map strings to strings"},
		{"missing field", build(`{"x":{"dtype":"F32","shape":[1]}}`, 4), `tensor "x": entry needs`},
		{"wrong field type", build(`{"x":{"dtype":5,"shape":[1],"data_offsets":[0,4]}}`, 4), `tensor "x": invalid entry`},
		{"entry not object", build(`{"x":[1,2]}`, 0), `tensor "x": invalid entry`},
		{"unknown dtype", build(`{"x":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}`, 1),
			`tensor "x": dtype "F8_E4M3" is not supported (supported: BF16, BOOL`},
		{"fractional dim", build(`{"x":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}`, 4), `tensor "x": invalid entry`},
		{"negative dim", build(`{"x":{"dtype":"F32","shape":[-1, 2],"data_offsets":[0,4]}}`, 4),
			`tensor "x": shape [-1, 2] has a negative dimension`},
		{"three offsets", build(`{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}`, 8),
			`data_offsets must be [begin, end]`},
		{"reversed offsets", build(`{"x":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}`, 4),
			`data_offsets [4, 0] must satisfy 0 <= begin <= end`},
		{"negative offset", build(`{"x":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}`, 4),
			`must satisfy 0 <= begin`},
		{"offsets past end", build(`{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, 4),
			`tensor "x": data_offsets [0, 8] go past the end of the data section (4 bytes)`},
		{"size mismatch", build(`{"x":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}`, 20),
			`tensor "x": shape [2, 3] F32 needs 24 bytes, data_offsets [0, 20] give 20`},
		{"huge shape", build(`{"x":{"dtype":"F32","shape":[4611686018427387904,4611686018427387904],`+
			`"data_offsets":[0,4]}}`, 4), `needs more bytes than the data section has (4)`},
		{"overlap", build(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},`+
			`"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, 12),
			`tensor "b": data_offsets [4, 12] overlap tensor "a", which ends at 8`},
		{"gap", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},`+
			`"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`, 12),
			`tensor "b": data starts at 8, leaving a gap after tensor "a", which ends at 4`},
		{"leading gap", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8),
			`leaving 4 unused bytes at the start`},
		{"trailing bytes", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 6),
			`the data section has 6 bytes but the tensors cover 4`},
		{"data without tensors", build(`{}`, 3), `the data section has 3 bytes but the tensors cover 0`},
	} {
		f, err := openBytes(tc.data)
		assert.Nil(t, f, tc.name)
		if assert.Error(t, err, tc.name) {
			assert.Contains(t, err.Error(), tc.want, tc.name)
			assert.True(t, strings.HasPrefix(err.Error(), "safetensors: mem.safetensors: "),
				"%s: the error must name the file: %v", tc.name, err)
		}
	}
}

func TestHeaderAccepted(t *testing.T) {
	// Tolerated: trailing padding, unknown fields, null metadata, zero-size tensors sharing an offset.
	f, err := openBytes(build(`{"__metadata__":null,"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1},`+
		`"e":{"dtype":"I64","shape":[0,7],"data_offsets":[4,4]},"b":{"dtype":"U8","shape":[],"data_offsets":[4,5]}}   `, 5))
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b", "e"}, f.Names())
	assert.Empty(t, f.Metadata())
	e, err := f.Tensor("e", dtypes.InvalidDType)
	require.NoError(t, err)
	assert.Equal(t, []int{0, 7}, e.Shape().Dimensions)
	assert.Equal(t, dtypes.Int64, e.DType())
	b, err := f.Tensor("b", dtypes.InvalidDType)
	require.NoError(t, err)
	assert.Equal(t, uint8(4), b.Value(), "byte 4 of the data")

	f, err = openBytes(build(`{}`, 0))
	require.NoError(t, err, "an empty file (no tensors) is valid")
	assert.Empty(t, f.Names())
}

func TestBoolValuesChecked(t *testing.T) {
	// Data bytes are 0, 1, 2: the third is not a valid bool.
	f, err := openBytes(build(`{"m":{"dtype":"BOOL","shape":[3],"data_offsets":[0,3]}}`, 3))
	require.NoError(t, err)
	_, err = f.Tensor("m", dtypes.Bool)
	assert.ErrorContains(t, err, `tensor "m": BOOL element 2 has byte value 2`)
}

func TestOpenErrorsNameThePath(t *testing.T) {
	dir := t.TempDir()
	_, err := Open(filepath.Join(dir, "absent.safetensors"))
	assert.ErrorContains(t, err, "absent.safetensors")

	path := filepath.Join(dir, "bad.safetensors")
	require.NoError(t, os.WriteFile(path, build(`{"x":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}`, 20), 0o644))
	_, err = Open(path)
	assert.ErrorContains(t, err, "safetensors: "+path+`: tensor "x": shape [2, 3] F32 needs 24 bytes`)
}

func TestTruncatedFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "t.safetensors")
	require.NoError(t, os.WriteFile(path, build(`{"x":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, 16), 0o644))

	// Truncated before opening: the header no longer matches the data size.
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	for _, cut := range []int{1, 16, len(data) - 8 - 2} {
		require.NoError(t, os.WriteFile(path, data[:len(data)-cut], 0o644))
		_, err = Open(path)
		assert.Error(t, err, "cut %d bytes", cut)
	}
	require.NoError(t, os.WriteFile(path, data[:len(data)-4], 0o644))
	_, err = Open(path)
	assert.ErrorContains(t, err, "data_offsets [0, 16] go past the end of the data section (12 bytes)")

	// Truncated after opening: the read itself fails with a message naming the tensor.
	require.NoError(t, os.WriteFile(path, data, 0o644))
	f, err := Open(path)
	require.NoError(t, err)
	defer f.Close()
	require.NoError(t, os.Truncate(path, int64(len(data)-4)))
	_, err = f.Tensor("x", dtypes.Float32)
	assert.ErrorContains(t, err, `tensor "x": reading 16 bytes`)
	_, _, err = f.Float32("x")
	assert.ErrorContains(t, err, `tensor "x"`)
	_, err = f.Tensor("x", dtypes.Float16)
	assert.ErrorContains(t, err, `tensor "x"`)
}
