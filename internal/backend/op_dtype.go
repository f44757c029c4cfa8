package backend

import (
	"fmt"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
)

// ConvertDType forwards to SimpleGo, but rejects conversions SimpleGo cannot execute (any dtype it does
// not support, notably Float16) when the graph is built: SimpleGo v0.26.0 accepts them at build time and
// panics at run time, since it has no Float16 buffers or converters.
func (b *builder) ConvertDType(x backends.Op, dtype dtypes.DType) (backends.Op, error) {
	shape, err := b.OpShape(x)
	if err != nil {
		return nil, fmt.Errorf("ConvertDType: %w", err)
	}
	if shape.DType != dtype && !b.dtypes[dtype] {
		return nil, fmt.Errorf("ConvertDType: x shaped %s to %s is not supported by the SimpleGo (%q) CPU "+
			"backend: expected a target among its dtypes (float32, float64, bfloat16, integers, bool); "+
			"keep the model in float32 on CPU (weights loaders convert float16 tensors when reading), or "+
			"use an XLA backend for float16", shape, dtype, CPUName)
	}
	return b.Builder.ConvertDType(x, dtype)
}
