package backend

import (
	"fmt"
	"slices"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/shapeinference"
)

// ConvGeneral fills the defaults SimpleGo v0.26.0 does not (stride 1, padding 0, input and kernel dilation
// 1 for empty slices, as GoMLX's conv gradients pass them), checks there is one value per spatial axis,
// and forwards to SimpleGo. SimpleGo keeps empty non-nil strides/paddings and empty kernel dilations as
// they are and indexes them per spatial axis while executing, which panics.
func (b *builder) ConvGeneral(input, kernel backends.Op, axes backends.ConvolveAxesConfig,
	strides []int, paddings [][2]int, inputDilations, kernelDilations []int,
	channelGroupCount, batchGroupCount int) (backends.Op, error) {
	inputShape, err := b.OpShape(input)
	if err != nil {
		return nil, fmt.Errorf("ConvGeneral: input: %w", err)
	}
	kernelShape, err := b.OpShape(kernel)
	if err != nil {
		return nil, fmt.Errorf("ConvGeneral: kernel: %w", err)
	}
	spatial := len(axes.InputSpatial)
	if strides, err = defaultPerAxis("strides", strides, spatial, 1); err != nil {
		return nil, err
	}
	if inputDilations, err = defaultPerAxis("input dilations", inputDilations, spatial, 1); err != nil {
		return nil, err
	}
	if kernelDilations, err = defaultPerAxis("kernel dilations", kernelDilations, spatial, 1); err != nil {
		return nil, err
	}
	switch len(paddings) {
	case 0:
		paddings = make([][2]int, spatial)
	case spatial:
		paddings = slices.Clone(paddings)
	default:
		return nil, fmt.Errorf("ConvGeneral: %d paddings %v for %d spatial axes: expected one [start, end] "+
			"per spatial axis, or none for no padding", len(paddings), paddings, spatial)
	}
	channelGroupCount, batchGroupCount = max(channelGroupCount, 1), max(batchGroupCount, 1)
	// Check the shapes here: SimpleGo prints its arguments to stdout when this fails.
	if _, err := shapeinference.ConvGeneralOp(inputShape, kernelShape, axes, strides, paddings,
		inputDilations, kernelDilations, channelGroupCount, batchGroupCount); err != nil {
		return nil, fmt.Errorf("ConvGeneral: input %s, kernel %s, axes %+v, strides %v, paddings %v, "+
			"input dilations %v, kernel dilations %v, groups %d/%d: %w", inputShape, kernelShape, axes,
			strides, paddings, inputDilations, kernelDilations, channelGroupCount, batchGroupCount, err)
	}
	if batchGroupCount == 1 && !b.directConv {
		out, ok, err := b.convAsDot(input, kernel, inputShape, kernelShape, convParams{axes: axes,
			strides: strides, inDilations: inputDilations, kDilations: kernelDilations, paddings: paddings,
			groups: channelGroupCount})
		if err != nil {
			return nil, fmt.Errorf("ConvGeneral: lowering input %s, kernel %s to DotGeneral: %w",
				inputShape, kernelShape, err)
		}
		if ok {
			return out, nil
		}
	}
	return b.Builder.ConvGeneral(input, kernel, axes, strides, paddings, inputDilations, kernelDilations,
		channelGroupCount, batchGroupCount)
}

// defaultPerAxis returns values (cloned) with values <= 0 replaced by def, or n copies of def if empty.
func defaultPerAxis(what string, values []int, n, def int) ([]int, error) {
	if len(values) == 0 {
		values = make([]int, n)
	} else if len(values) != n {
		return nil, fmt.Errorf("ConvGeneral: %d %s %v for %d spatial axes: expected one per spatial axis, "+
			"or none for the default %d", len(values), what, values, n, def)
	} else {
		values = slices.Clone(values)
	}
	for i, v := range values {
		if v <= 0 {
			values[i] = def
		}
	}
	return values, nil
}
