package safetensors

import (
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"slices"
	"unsafe"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/dtypes/bfloat16"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/x448/float16"
)

// chunkElements is how many elements a converting read decodes at a time, bounding the scratch memory.
const chunkElements = 1 << 18

// Tensor reads the named tensor into a new local GoMLX tensor of the given dtype.
//
// dtype dtypes.InvalidDType (the zero value) means the default: float32 for floating-point tensors (F16,
// BF16, F32, F64), the file's own dtype otherwise (e.g. I32/I64 token ids stay int32/int64). Floating-point
// tensors convert to any floating-point dtype (F16 and BF16 are kept as is when asked for); other dtypes
// must be asked for as stored. The data is read straight into the tensor's memory when no conversion is
// needed, and through a bounded scratch buffer otherwise.
func (f *File) Tensor(name string, dtype dtypes.DType) (*tensors.Tensor, error) {
	info, err := f.lookup(name)
	if err != nil {
		return nil, err
	}
	target, err := f.targetDType(name, info, dtype)
	if err != nil {
		return nil, err
	}
	t := tensors.FromShape(shapes.Make(target, info.Shape...))
	if info.Size() == 0 && target == info.DType {
		return t, nil
	}
	var readErr error
	err = t.MutableFlatData(func(flat any) { readErr = f.readInto(name, info, flat) })
	if err == nil {
		err = readErr
	}
	if err != nil {
		t.FinalizeLocal()
		return nil, err
	}
	return t, nil
}

// Float32 reads a floating-point tensor (F16, BF16, F32 or F64) as float32, converted on the host, and
// returns its values and dimensions.
func (f *File) Float32(name string) ([]float32, []int, error) {
	info, err := f.lookup(name)
	if err != nil {
		return nil, nil, err
	}
	if _, err := f.targetDType(name, info, dtypes.Float32); err != nil {
		return nil, nil, err
	}
	out := make([]float32, info.NumElements())
	if err := f.readInto(name, info, out); err != nil {
		return nil, nil, err
	}
	return out, slices.Clone(info.Shape), nil
}

// targetDType resolves the requested dtype (see Tensor) and checks the conversion is supported.
func (f *File) targetDType(name string, info Info, dtype dtypes.DType) (dtypes.DType, error) {
	if dtype == dtypes.InvalidDType {
		if info.DType.IsFloat() {
			return dtypes.Float32, nil
		}
		return info.DType, nil
	}
	if dtype == info.DType || (dtype.IsFloat() && info.DType.IsFloat()) {
		return dtype, nil
	}
	return 0, fmt.Errorf("safetensors: %s: tensor %q: cannot read %s data as %s (only floating-point dtypes "+
		"convert between each other)", f.path, name, DTypeName(info.DType), dtype)
}

// readInto reads the tensor's data into flat, a slice of the target dtype's Go type with NumElements
// elements, converting floating-point formats when they differ.
func (f *File) readInto(name string, info Info, flat any) error {
	if info.Size() == 0 {
		return nil
	}
	dst := bytesOf(flat)
	srcElemSize := int64(info.DType.Size())
	if dtypes.FromGoType(reflect.TypeOf(flat).Elem()) == info.DType {
		if err := f.readAt(name, info, dst, 0); err != nil {
			return err
		}
		if info.DType == dtypes.Bool {
			return checkBools(f.path, name, dst)
		}
		return nil
	}
	scratch := make([]byte, min(info.Size(), chunkElements*srcElemSize))
	values := make([]float32, chunkElements)
	for done := int64(0); done < info.Size(); done += int64(len(scratch)) {
		chunk := scratch[:min(int64(len(scratch)), info.Size()-done)]
		if err := f.readAt(name, info, chunk, done); err != nil {
			return err
		}
		n := decodeFloats(chunk, info.DType, values)
		encodeFloats(values[:n], flat, int(done/srcElemSize))
	}
	return nil
}

// readAt fills buf from the tensor's data starting at byte offset off within the tensor.
func (f *File) readAt(name string, info Info, buf []byte, off int64) error {
	if _, err := f.r.ReadAt(buf, f.dataStart+info.Offsets[0]+off); err != nil {
		return fmt.Errorf("safetensors: %s: tensor %q: reading %d bytes: %w (was the file changed since it was "+
			"opened?)", f.path, name, len(buf), err)
	}
	return nil
}

// checkBools rejects BOOL data other than 0 and 1, which Go's bool cannot hold.
func checkBools(path, name string, data []byte) error {
	for i, b := range data {
		if b > 1 {
			return fmt.Errorf("safetensors: %s: tensor %q: BOOL element %d has byte value %d, want 0 or 1",
				path, name, i, b)
		}
	}
	return nil
}

// bytesOf returns the memory of a non-empty flat slice as bytes (no copy).
func bytesOf(flat any) []byte {
	v := reflect.ValueOf(flat)
	if v.Len() == 0 {
		return nil
	}
	size := v.Len() * int(v.Type().Elem().Size())
	return unsafe.Slice((*byte)(v.Index(0).Addr().UnsafePointer()), size)
}

// decodeFloats decodes little-endian floating-point data of dtype src into out and returns the number of
// values decoded.
func decodeFloats(data []byte, src dtypes.DType, out []float32) int {
	switch src {
	case dtypes.Float16:
		n := len(data) / 2
		for i := range n {
			out[i] = float16.Frombits(binary.LittleEndian.Uint16(data[2*i:])).Float32()
		}
		return n
	case dtypes.BFloat16:
		n := len(data) / 2
		for i := range n {
			out[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(data[2*i:])) << 16)
		}
		return n
	case dtypes.Float32:
		n := len(data) / 4
		for i := range n {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
		}
		return n
	case dtypes.Float64:
		n := len(data) / 8
		for i := range n {
			out[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(data[8*i:])))
		}
		return n
	}
	panic(fmt.Sprintf("safetensors: decodeFloats: unexpected dtype %s", src))
}

// encodeFloats stores values into flat (a []float16.Float16, []bfloat16.BFloat16, []float32 or []float64)
// starting at element offset.
func encodeFloats(values []float32, flat any, offset int) {
	switch dst := flat.(type) {
	case []float32:
		copy(dst[offset:], values)
	case []float64:
		for i, v := range values {
			dst[offset+i] = float64(v)
		}
	case []float16.Float16:
		for i, v := range values {
			dst[offset+i] = float16.Fromfloat32(v)
		}
	case []bfloat16.BFloat16:
		for i, v := range values {
			dst[offset+i] = BFloat16FromFloat32(v)
		}
	default:
		panic(fmt.Sprintf("safetensors: encodeFloats: unexpected destination %T", flat))
	}
}

// BFloat16FromFloat32 converts with round-to-nearest-even (as PyTorch does), keeping NaNs NaN.
func BFloat16FromFloat32(v float32) bfloat16.BFloat16 {
	bits := math.Float32bits(v)
	if v != v { // NaN: keep the sign and force a quiet NaN, so truncation cannot turn it into Inf.
		return bfloat16.BFloat16(bits>>16 | 0x40)
	}
	rounding := uint32(0x7fff) + (bits>>16)&1
	return bfloat16.BFloat16((bits + rounding) >> 16)
}
