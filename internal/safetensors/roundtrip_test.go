package safetensors

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/dtypes/bfloat16"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/x448/float16"
)

// filled returns a tensor of the given dtype and dims whose element i holds a value derived from i
// (alternating signs for signed types, fractional values for floats).
func filled(dtype dtypes.DType, dims ...int) *tensors.Tensor {
	t := tensors.FromShape(shapes.Make(dtype, dims...))
	t.MustMutableFlatData(func(flat any) {
		switch f := flat.(type) {
		case []bool:
			for i := range f {
				f[i] = i%3 == 0
			}
		case []uint8:
			for i := range f {
				f[i] = uint8(i * 7)
			}
		case []int8:
			for i := range f {
				f[i] = int8(i*5 - 60)
			}
		case []uint16:
			for i := range f {
				f[i] = uint16(i * 1000)
			}
		case []int16:
			for i := range f {
				f[i] = int16(i*1000 - 9000)
			}
		case []uint32:
			for i := range f {
				f[i] = uint32(i) * 100000
			}
		case []int32:
			for i := range f {
				f[i] = int32(i)*100000 - 1000000
			}
		case []uint64:
			for i := range f {
				f[i] = uint64(i) << 40
			}
		case []int64:
			for i := range f {
				f[i] = -(int64(i) << 40)
			}
		case []float16.Float16:
			for i := range f {
				f[i] = float16.Fromfloat32(float32(i)*0.25 - 1)
			}
		case []bfloat16.BFloat16:
			for i := range f {
				f[i] = bfloat16.FromFloat32(float32(i)*0.5 - 3)
			}
		case []float32:
			for i := range f {
				f[i] = float32(i)*0.1 - 1
			}
		case []float64:
			for i := range f {
				f[i] = float64(i)/3 - 1
			}
		case []complex64:
			for i := range f {
				f[i] = complex(float32(i), -float32(i))
			}
		default:
			panic("filled: unexpected dtype")
		}
	})
	return t
}

var allDTypes = []dtypes.DType{
	dtypes.Bool, dtypes.Uint8, dtypes.Int8, dtypes.Uint16, dtypes.Int16, dtypes.Uint32, dtypes.Int32,
	dtypes.Uint64, dtypes.Int64, dtypes.Float16, dtypes.BFloat16, dtypes.Float32, dtypes.Float64,
	dtypes.Complex64,
}

func TestRoundTripAllDTypes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "all.safetensors")
	want := make(map[string]*tensors.Tensor)
	for _, dt := range allDTypes {
		want[DTypeName(dt)] = filled(dt, 2, 3, 4)
	}
	want["scalar"] = tensors.FromScalar(float32(2.5))
	want["empty"] = filled(dtypes.Float32, 0, 3)
	want["one_dim"] = filled(dtypes.Int64, 5)
	meta := map[string]string{"format": "pt", "note": "ünïcode \"quoted\""}
	require.NoError(t, Write(path, want, meta))

	f, err := Open(path)
	require.NoError(t, err)
	defer func() { assert.NoError(t, f.Close()) }()
	assert.Equal(t, meta, f.Metadata())
	names := f.Names()
	assert.IsIncreasing(t, names, "Names must be sorted")
	assert.Len(t, names, len(want))
	for name, w := range want {
		info, ok := f.Info(name)
		require.True(t, ok, "tensor %q missing", name)
		assert.Equal(t, w.DType(), info.DType, name)
		assert.True(t, slices.Equal(w.Shape().Dimensions, info.Shape), "%s: want %v, got %v", name, w.Shape().Dimensions, info.Shape)
		assert.Equal(t, int64(w.Shape().Memory()), info.Size(), name)

		got, err := f.Tensor(name, info.DType)
		require.NoError(t, err, name)
		assert.True(t, w.Equal(got), "tensor %q: want %s, got %s", name, w, got)
	}
	_, ok := f.Info("nope")
	assert.False(t, ok)
	_, err = f.Tensor("nope", dtypes.Float32)
	assert.ErrorContains(t, err, `no tensor "nope"`)
	assert.ErrorContains(t, err, path)
}

func TestFloatConversions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "floats.safetensors")
	// Multiples of 0.5 in a small range are exact in every float format, so conversions are exact.
	vals := make([]float32, 15)
	for i := range vals {
		vals[i] = float32(i)*0.5 - 3
	}
	src := map[string]*tensors.Tensor{}
	for _, dt := range []dtypes.DType{dtypes.Float16, dtypes.BFloat16, dtypes.Float32, dtypes.Float64} {
		tt := tensors.FromShape(shapes.Make(dt, 3, 5))
		tt.MustMutableFlatData(func(flat any) { encodeFloats(vals, flat, 0) })
		src[DTypeName(dt)] = tt
	}
	require.NoError(t, Write(path, src, nil))
	f, err := Open(path)
	require.NoError(t, err)
	defer f.Close()
	assert.Empty(t, f.Metadata())

	for name := range src {
		vals, dims, err := f.Float32(name)
		require.NoError(t, err, name)
		assert.Equal(t, []int{3, 5}, dims)
		for i, v := range vals {
			assert.Equal(t, float32(i)*0.5-3, v, "%s element %d", name, i)
		}
		def, err := f.Tensor(name, dtypes.InvalidDType)
		require.NoError(t, err)
		assert.Equal(t, dtypes.Float32, def.DType(), "default dtype of %s must be float32", name)
		assert.Equal(t, vals, tensors.MustCopyFlatData[float32](def))
		for _, to := range []dtypes.DType{dtypes.Float16, dtypes.BFloat16, dtypes.Float32, dtypes.Float64} {
			got, err := f.Tensor(name, to)
			require.NoError(t, err, "%s -> %s", name, to)
			assert.Equal(t, to, got.DType())
			assert.True(t, src[DTypeName(to)].Equal(got), "%s -> %s: got %s", name, to, got)
		}
	}
}

func TestIntegerTensorsKeepDType(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ids.safetensors")
	ids := tensors.FromValue([][]int64{{49406, 320, 49407}})
	require.NoError(t, Write(path, map[string]*tensors.Tensor{"input_ids": ids}, nil))
	f, err := Open(path)
	require.NoError(t, err)
	defer f.Close()
	got, err := f.Tensor("input_ids", dtypes.InvalidDType)
	require.NoError(t, err)
	assert.Equal(t, dtypes.Int64, got.DType())
	assert.True(t, ids.Equal(got))
	_, err = f.Tensor("input_ids", dtypes.Float32)
	assert.ErrorContains(t, err, "cannot read I64 data as Float32")
	_, _, err = f.Float32("input_ids")
	assert.ErrorContains(t, err, "cannot read I64 data as Float32")
}

func TestLargeConversionCrossesChunks(t *testing.T) {
	n := chunkElements*2 + 17
	vals := make([]float32, n)
	for i := range vals {
		vals[i] = float32(i%2048) - 1024 // Exact in float16.
	}
	tt := tensors.FromShape(shapes.Make(dtypes.Float16, n))
	tt.MustMutableFlatData(func(flat any) { encodeFloats(vals, flat, 0) })
	path := filepath.Join(t.TempDir(), "big.safetensors")
	require.NoError(t, Write(path, map[string]*tensors.Tensor{"w": tt}, nil))
	f, err := Open(path)
	require.NoError(t, err)
	defer f.Close()
	got, dims, err := f.Float32("w")
	require.NoError(t, err)
	assert.Equal(t, []int{n}, dims)
	assert.Equal(t, vals, got)
}

func TestBFloat16Rounding(t *testing.T) {
	for _, tc := range []struct {
		in   float32
		want uint16
	}{
		{1, 0x3f80},
		{math.Float32frombits(0x3f808000), 0x3f80}, // Halfway, even below: round down.
		{math.Float32frombits(0x3f818000), 0x3f82}, // Halfway, odd below: round up.
		{math.Float32frombits(0x3f808001), 0x3f81}, // Above halfway: round up.
		{float32(math.Inf(-1)), 0xff80},
	} {
		assert.Equal(t, tc.want, BFloat16FromFloat32(tc.in).Bits(), "input %x", math.Float32bits(tc.in))
	}
	nan := BFloat16FromFloat32(float32(math.NaN()))
	assert.True(t, math.IsNaN(float64(nan.Float32())), "NaN must stay NaN, got %x", nan.Bits())
}

func TestWriteOrderedList(t *testing.T) {
	path := filepath.Join(t.TempDir(), "list.safetensors")
	list := []Named{{"z", filled(dtypes.Float32, 2)}, {"a", filled(dtypes.Float32, 3)}}
	require.NoError(t, WriteList(path, list, map[string]string{}))
	f, err := Open(path)
	require.NoError(t, err)
	defer f.Close()
	z, _ := f.Info("z")
	a, _ := f.Info("a")
	assert.Equal(t, [2]int64{0, 8}, z.Offsets, "data must follow the list order")
	assert.Equal(t, [2]int64{8, 20}, a.Offsets)

	data, err := os.ReadFile(path)
	require.NoError(t, err)
	headerLen := int(data[0]) | int(data[1])<<8
	assert.Zero(t, headerLen%8, "header must be padded to 8 bytes")
}

func TestWriteRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.safetensors")
	for _, tc := range []struct {
		list []Named
		want string
	}{
		{[]Named{{"a", filled(dtypes.Float32, 1)}, {"a", filled(dtypes.Float32, 1)}}, `tensor "a" given twice`},
		{[]Named{{"__metadata__", filled(dtypes.Float32, 1)}}, "reserved"},
		{[]Named{{"n", nil}}, `tensor "n" is nil`},
		{[]Named{{"c", tensors.FromShape(shapes.Make(dtypes.Complex128, 2))}}, "cannot be stored"},
	} {
		err := WriteList(path, tc.list, nil)
		assert.ErrorContains(t, err, tc.want)
		assert.ErrorContains(t, err, path)
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "a failed write must leave nothing behind")
}

func TestWriteIsAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keep.safetensors")
	require.NoError(t, Write(path, map[string]*tensors.Tensor{"old": filled(dtypes.Float32, 4)}, nil))
	before, err := os.ReadFile(path)
	require.NoError(t, err)

	// A finalized tensor fails while the data is being written, after the temporary file was created.
	dead := filled(dtypes.Float32, 4)
	dead.FinalizeLocal()
	err = WriteList(path, []Named{{"ok", filled(dtypes.Float32, 4)}, {"dead", dead}}, nil)
	require.Error(t, err)
	assert.ErrorContains(t, err, `tensor "dead"`)

	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, before, after, "the previous file must be kept when a write fails")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "the temporary file must be removed: %v", entries)

	// Writing into a missing folder fails cleanly.
	err = Write(filepath.Join(dir, "missing", "x.safetensors"), nil, nil)
	assert.Error(t, err)
}

func TestOverwriteReplacesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.safetensors")
	require.NoError(t, Write(path, map[string]*tensors.Tensor{"a": filled(dtypes.Float32, 4)}, nil))
	require.NoError(t, Write(path, map[string]*tensors.Tensor{"b": filled(dtypes.Int32, 2)}, nil))
	f, err := Open(path)
	require.NoError(t, err)
	defer f.Close()
	assert.Equal(t, []string{"b"}, f.Names())
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), st.Mode().Perm())
}
