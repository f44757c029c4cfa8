package backend

import (
	"reflect"
	"slices"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// maxPatchElements bounds the gathered-windows tensor that feeds one DotGeneral; bigger convolutions are
// split into chunks along the first output spatial axis. 1<<24 elements is 64 MiB in float32. A variable
// so tests can force chunking.
var maxPatchElements = 1 << 24

// maxWindowSlices bounds the number of Slice ops one lowered convolution may use (chunks times the min of
// the kernel and output positions); beyond it SimpleGo's direct convolution is used.
var maxWindowSlices = 1024

// convParams are a ConvGeneral's parameters after defaults were filled.
type convParams struct {
	axes                             backends.ConvolveAxesConfig
	strides, inDilations, kDilations []int
	paddings                         [][2]int
	groups                           int
}

// convAsDot lowers a convolution (batch group count 1) to Pad + Slice windows + one DotGeneral per chunk,
// which runs an order of magnitude faster on SimpleGo than its direct convolution loop: SimpleGo's
// DotGeneral is blocked and parallel, its ConvGeneral is a scalar loop on one goroutine.
// It returns ok=false (and no error) when the lowering does not apply and SimpleGo's ConvGeneral should
// be used.
//
// Layout: x → [B, C, X...] (transpose), padded and input-dilated → [B, C, P...]; kernel → [O, C/G, K...].
// Windows are gathered with strided Slices, one per kernel position (im2col) or one per output position,
// whichever is fewer, and contracted with the kernel over (C/G, K...) per group G.
func (b *builder) convAsDot(input, kernel backends.Op, inShape, kShape shapes.Shape, p convParams) (
	out backends.Op, ok bool, err error) {
	spatial := len(p.axes.InputSpatial)
	if spatial == 0 || inShape.Size() == 0 || kShape.Size() == 0 {
		return nil, false, nil
	}
	// Sizes first, so nothing is added to the graph when the lowering does not apply.
	batch, channels := inShape.Dimensions[p.axes.InputBatch], inShape.Dimensions[p.axes.InputChannels]
	outChannels := kShape.Dimensions[p.axes.KernelOutputChannels]
	kSpatial := make([]int, spatial)
	outSpatial := make([]int, spatial)
	for i := range spatial {
		kSpatial[i] = kShape.Dimensions[p.axes.KernelSpatial[i]]
		padded := (inShape.Dimensions[p.axes.InputSpatial[i]]-1)*p.inDilations[i] + 1 + p.paddings[i][0] + p.paddings[i][1]
		span := (kSpatial[i]-1)*p.kDilations[i] + 1
		if padded < span {
			return nil, false, nil
		}
		outSpatial[i] = (padded-span)/p.strides[i] + 1
	}
	nK, nOut := product(kSpatial), product(outSpatial)
	// Chunk along the first output spatial axis so the windows tensor stays under maxPatchElements.
	rowsPerChunk := outSpatial[0]
	perRow := batch * channels * nK * (nOut / outSpatial[0])
	if rowsPerChunk*perRow > maxPatchElements {
		rowsPerChunk = max(1, maxPatchElements/perRow)
	}
	numChunks := (outSpatial[0] + rowsPerChunk - 1) / rowsPerChunk
	if numChunks*min(nK, nOut) > maxWindowSlices {
		return nil, false, nil
	}

	// [B, C, X...]
	x, err := b.transposeTo(input, append([]int{p.axes.InputBatch, p.axes.InputChannels}, p.axes.InputSpatial...))
	if err != nil {
		return nil, false, err
	}
	pads := make([]backends.PadAxis, 2+spatial)
	needPad := false
	for i := range spatial {
		pads[2+i] = backends.PadAxis{Start: p.paddings[i][0], End: p.paddings[i][1], Interior: p.inDilations[i] - 1}
		needPad = needPad || pads[2+i] != backends.PadAxis{}
	}
	if needPad {
		zero, err := b.zeroScalar(inShape.DType)
		if err != nil {
			return nil, false, err
		}
		if x, err = b.Pad(x, zero, pads...); err != nil { // [B, C, P...]
			return nil, false, err
		}
	}
	// [O, C/G, K...] → [G, O/G, C/G, nK]
	k, err := b.transposeTo(kernel, append([]int{p.axes.KernelOutputChannels, p.axes.KernelInputChannels}, p.axes.KernelSpatial...))
	if err != nil {
		return nil, false, err
	}
	if k, err = b.Reshape(k, p.groups, outChannels/p.groups, channels/p.groups, nK); err != nil {
		return nil, false, err
	}

	var chunks []backends.Op
	for r0 := 0; r0 < outSpatial[0]; r0 += rowsPerChunk {
		r1 := min(r0+rowsPerChunk, outSpatial[0])
		xc := x
		if r0 > 0 || r1 < outSpatial[0] {
			// Input rows needed for output rows [r0, r1) of a valid (pre-padded) convolution.
			from := r0 * p.strides[0]
			to := (r1-1)*p.strides[0] + (kSpatial[0]-1)*p.kDilations[0] + 1
			if xc, err = b.sliceAxis(x, 2, from, to); err != nil {
				return nil, false, err
			}
		}
		chunkOut := slices.Clone(outSpatial)
		chunkOut[0] = r1 - r0
		y, err := b.validConvDot(xc, k, batch, channels, kSpatial, chunkOut, p) // [O, B, chunkOut...]
		if err != nil {
			return nil, false, err
		}
		chunks = append(chunks, y)
	}
	y := chunks[0]
	if len(chunks) > 1 {
		if y, err = b.Concatenate(2, chunks...); err != nil { // [O, B, O1, ...]
			return nil, false, err
		}
	}
	// [O, B, O...] → the requested output layout.
	perm := make([]int, 2+spatial)
	perm[p.axes.OutputChannels] = 0
	perm[p.axes.OutputBatch] = 1
	for i, axis := range p.axes.OutputSpatial {
		perm[axis] = 2 + i
	}
	if y, err = b.transposeTo(y, perm); err != nil {
		return nil, false, err
	}
	return y, true, nil
}

// validConvDot convolves x [B, C, P...] (already padded and input-dilated) with k [G, O/G, C/G, nK]
// without padding, returning [O, B, outSpatial...].
func (b *builder) validConvDot(x, k backends.Op, batch, channels int, kSpatial, outSpatial []int, p convParams) (backends.Op, error) {
	spatial := len(kSpatial)
	xShape, err := b.OpShape(x)
	if err != nil {
		return nil, err
	}
	starts := make([]int, 2+spatial)
	limits := make([]int, 2+spatial)
	strides := make([]int, 2+spatial)
	limits[0], limits[1], strides[0], strides[1] = batch, channels, 1, 1
	byKernel := product(kSpatial) <= product(outSpatial)
	positions, windowDims := outSpatial, kSpatial
	if byKernel {
		positions, windowDims = kSpatial, outSpatial
	}
	windows := make([]backends.Op, 0, product(positions))
	pos := make([]int, spatial)
	for range product(positions) {
		for i := range spatial {
			if byKernel { // Window of all outputs for one kernel position.
				starts[2+i] = pos[i] * p.kDilations[i]
				strides[2+i] = p.strides[i]
			} else { // Window of all kernel positions for one output position.
				starts[2+i] = pos[i] * p.strides[i]
				strides[2+i] = p.kDilations[i]
			}
			limits[2+i] = min(starts[2+i]+(windowDims[i]-1)*strides[2+i]+1, xShape.Dimensions[2+i])
		}
		// Cloned: SimpleGo keeps the slices it is given.
		w, err := b.Slice(x, slices.Clone(starts), slices.Clone(limits), slices.Clone(strides)) // [B, C, windowDims...]
		if err != nil {
			return nil, err
		}
		if w, err = b.Reshape(w, batch, channels, 1, product(windowDims)); err != nil {
			return nil, err
		}
		windows = append(windows, w)
		for i := spatial - 1; i >= 0; i-- { // Next position, row-major.
			if pos[i]++; pos[i] < positions[i] {
				break
			}
			pos[i] = 0
		}
	}
	patches := windows[0]
	if len(windows) > 1 {
		if patches, err = b.Concatenate(2, windows...); err != nil {
			return nil, err
		}
	}
	cg := channels / p.groups
	// [B, G, C/G, nK, nOut] (by kernel position) or [B, G, C/G, nOut, nK] (by output position).
	if patches, err = b.Reshape(patches, batch, p.groups, cg, len(windows), product(windowDims)); err != nil {
		return nil, err
	}
	kAxis := 3
	if !byKernel {
		kAxis = 4
	}
	// k [G, O/G, C/G, nK] · patches → [G, O/G, B, nOut]
	y, err := b.DotGeneral(k, []int{2, 3}, []int{0}, patches, []int{2, kAxis}, []int{1})
	if err != nil {
		return nil, err
	}
	yShape, err := b.OpShape(y)
	if err != nil {
		return nil, err
	}
	outChannels := yShape.Dimensions[0] * yShape.Dimensions[1]
	return b.Reshape(y, append([]int{outChannels, batch}, outSpatial...)...) // [O, B, outSpatial...]
}

// transposeTo transposes x by perm, skipping the identity.
func (b *builder) transposeTo(x backends.Op, perm []int) (backends.Op, error) {
	identity := true
	for i, a := range perm {
		identity = identity && i == a
	}
	if identity {
		return x, nil
	}
	return b.Transpose(x, perm...)
}

// zeroScalar returns a scalar zero constant of dtype.
func (b *builder) zeroScalar(dtype dtypes.DType) (backends.Op, error) {
	flat := reflect.MakeSlice(reflect.SliceOf(dtype.GoType()), 1, 1).Interface()
	return b.Constant(flat)
}

// product of dims (1 for none).
func product(dims []int) int {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return n
}
