package safetensors

import (
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPythonFixture reads a file written by the reference Python implementation
// (testdata/make_python_fixture.py, safetensors.numpy); the values follow the formulas in that script.
func TestPythonFixture(t *testing.T) {
	f, err := Open("testdata/python.safetensors")
	require.NoError(t, err)
	defer f.Close()
	assert.Equal(t, map[string]string{"format": "np", "source": "make_python_fixture.py"}, f.Metadata())
	assert.Equal(t, []string{"empty", "f16", "f32", "f64", "ids_i32", "ids_i64", "mask", "nested.block.0.weight",
		"scalar", "u8"}, f.Names())

	f32, dims, err := f.Float32("f32")
	require.NoError(t, err)
	assert.Equal(t, []int{2, 3}, dims)
	for i, v := range f32 {
		assert.Equal(t, float32(i)*0.5-1, v, "f32[%d]", i)
	}

	f16, dims, err := f.Float32("f16")
	require.NoError(t, err)
	assert.Equal(t, []int{2, 2, 2}, dims)
	for i, v := range f16 {
		assert.Equal(t, float32(i)*0.25-1, v, "f16[%d]", i)
	}
	f16native, err := f.Tensor("f16", dtypes.Float16)
	require.NoError(t, err)
	assert.Equal(t, dtypes.Float16, f16native.DType())

	f64, err := f.Tensor("f64", dtypes.Float64)
	require.NoError(t, err)
	for i, v := range tensors.MustCopyFlatData[float64](f64) {
		assert.Equal(t, float64(i)/3, v, "f64[%d]", i)
	}

	for name, dt := range map[string]dtypes.DType{"ids_i32": dtypes.Int32, "ids_i64": dtypes.Int64} {
		ids, err := f.Tensor(name, dtypes.InvalidDType)
		require.NoError(t, err)
		assert.Equal(t, dt, ids.DType(), name)
		assert.Equal(t, []int{1, 4}, ids.Shape().Dimensions, name)
		vals, err := tensorsAsInt64(ids)
		require.NoError(t, err)
		for i, v := range vals {
			assert.Equal(t, int64(i*1000+7), v, "%s[%d]", name, i)
		}
	}

	mask, err := f.Tensor("mask", dtypes.InvalidDType)
	require.NoError(t, err)
	assert.Equal(t, []bool{true, false, true}, tensors.MustCopyFlatData[bool](mask))
	u8, err := f.Tensor("u8", dtypes.InvalidDType)
	require.NoError(t, err)
	assert.Equal(t, []uint8{0, 1, 2, 3, 4}, tensors.MustCopyFlatData[uint8](u8))

	scalar, err := f.Tensor("scalar", dtypes.InvalidDType)
	require.NoError(t, err)
	assert.True(t, scalar.IsScalar())
	assert.Equal(t, float32(2.5), scalar.Value())

	empty, err := f.Tensor("empty", dtypes.InvalidDType)
	require.NoError(t, err)
	assert.Equal(t, []int{0, 3}, empty.Shape().Dimensions)

	w, _, err := f.Float32("nested.block.0.weight")
	require.NoError(t, err)
	assert.Equal(t, []float32{1, 1, 1, 1}, w)
}

// tensorsAsInt64 returns the values of an int32 or int64 tensor as int64.
func tensorsAsInt64(t *tensors.Tensor) ([]int64, error) {
	var out []int64
	err := t.ConstFlatData(func(flat any) {
		switch f := flat.(type) {
		case []int32:
			for _, v := range f {
				out = append(out, int64(v))
			}
		case []int64:
			out = append(out, f...)
		}
	})
	return out, err
}
