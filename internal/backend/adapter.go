package backend

import (
	"maps"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
)

// Wrap returns inner (a SimpleGo backend) with the training adapter described in the package doc: its
// builders supply Reverse and Pad, fill ConvGeneral's default strides/dilations/paddings, and reject
// Float16 conversions at build time. Buffers and executables are inner's.
func Wrap(inner backends.Backend) backends.Backend {
	return &adapter{Backend: inner}
}

// adapter wraps a backends.Backend, replacing only its builders and capabilities.
type adapter struct {
	backends.Backend

	// directConv makes builders use SimpleGo's own ConvGeneral loop instead of the DotGeneral lowering.
	directConv bool
}

// Builder returns the inner builder wrapped with the supplied ops.
func (a *adapter) Builder(name string) backends.Builder {
	return &builder{Builder: a.Backend.Builder(name), dtypes: a.Backend.Capabilities().DTypes,
		directConv: a.directConv}
}

// Description says it is the inner backend plus this adapter.
func (a *adapter) Description() string {
	return a.Backend.Description() + " + neti training adapter (Reverse, Pad, conv defaults)"
}

// Capabilities adds the ops the adapter supplies to the inner backend's.
func (a *adapter) Capabilities() backends.Capabilities {
	c := a.Backend.Capabilities()
	c.Operations = maps.Clone(c.Operations)
	c.Operations[backends.OpTypeReverse] = true
	c.Operations[backends.OpTypePad] = true
	c.DTypes = maps.Clone(c.DTypes)
	return c
}

// builder embeds the inner builder; the methods declared on it in this package override the inner ones.
type builder struct {
	backends.Builder

	// dtypes the inner backend supports.
	dtypes map[dtypes.DType]bool

	// directConv disables the DotGeneral lowering of ConvGeneral (tests compare both paths).
	directConv bool
}
