package safetensors

import (
	"slices"
	"unsafe"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
)

// dtypeNames maps safetensors dtype names to GoMLX dtypes. Sub-byte and 8-bit float formats (F8_*, F4, F6_*)
// are not supported.
var dtypeNames = map[string]dtypes.DType{
	"BOOL": dtypes.Bool,
	"U8":   dtypes.Uint8,
	"I8":   dtypes.Int8,
	"U16":  dtypes.Uint16,
	"I16":  dtypes.Int16,
	"U32":  dtypes.Uint32,
	"I32":  dtypes.Int32,
	"U64":  dtypes.Uint64,
	"I64":  dtypes.Int64,
	"F16":  dtypes.Float16,
	"BF16": dtypes.BFloat16,
	"F32":  dtypes.Float32,
	"F64":  dtypes.Float64,
	"C64":  dtypes.Complex64,
}

// supportedNames lists the accepted safetensors dtype names, sorted, for error messages.
var supportedNames = func() []string {
	names := make([]string, 0, len(dtypeNames))
	for name := range dtypeNames {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}()

// DTypeName returns the safetensors name of a GoMLX dtype ("F32", "BF16", ...), or "" if the format cannot
// store it.
func DTypeName(dtype dtypes.DType) string {
	for name, dt := range dtypeNames {
		if dt == dtype {
			return name
		}
	}
	return ""
}

// hostIsLittleEndian is true on the hosts we support: safetensors data is little-endian and is read into
// tensors' memory as is.
var hostIsLittleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()
