package nn

import (
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors/images"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/context/initializers"
)

// Conv2D is torch.nn.Conv2d with a square kernel, symmetric zero padding and a bias:
// x [batch, in, H, W] → [batch, outChannels, H', W'] with H' = (H + 2·padding − kernel)/stride + 1.
// Variables in ctx: "weight" [outChannels, in, kernel, kernel] (OIHW) and "bias" [outChannels].
func Conv2D(ctx *context.Context, x *graph.Node, outChannels, kernel, stride, padding int) *graph.Node {
	x.AssertRank(4)
	inChannels := x.Shape().Dim(1)
	dtype := x.DType()
	g := x.Graph()
	w := ctx.VariableWithShape("weight", shapes.Make(dtype, outChannels, inChannels, kernel, kernel)).ValueGraph(g)
	b := ctx.WithInitializer(initializers.Zero).VariableWithShape("bias", shapes.Make(dtype, outChannels)).ValueGraph(g)
	conv := func(x, w *graph.Node) *graph.Node {
		return graph.Convolve(x, w).
			ChannelsAxis(images.ChannelsFirst).
			Strides(stride).
			PaddingPerDim([][2]int{{padding, padding}, {padding, padding}}).
			Done()
	}
	y := convLateKernel(x, w, conv)
	// bias per output channel: [out] → [1, out, 1, 1]
	return graph.Add(y, graph.Reshape(b, 1, outChannels, 1, 1))
}

// convLateKernel returns conv(x, w), whose gradient with respect to x is GoMLX's own but computed from a
// copy of w that depends on the output's adjoint (see after): XLA then builds the rearranged kernel the input
// gradient needs (spatially reversed, in and out channels swapped, in its preferred layout) when the backward
// pass reaches this convolution, instead of sharing the forward's rearranged copy, which it otherwise keeps
// alive from the forward to the backward pass: in an SD 1.5 NeTI step at 512 px that was 2 GiB of weight
// copies live at the peak. The gradient with respect to w is unchanged (autodiff of conv(x, w) with x held).
//
// The input gradient is supplied through withGradient.
func convLateKernel(x, w *graph.Node, conv func(x, w *graph.Node) *graph.Node) *graph.Node {
	// The forward pass's copy likewise waits for x: otherwise XLA builds every layer's rearranged kernel
	// (in float32 when the weights are bfloat16 on the CPU) at the start and holds them all until each
	// layer runs, 2.2 GiB at the peak of that step.
	y := conv(graph.StopGradient(x), after(w, graph.StopGradient(x)))
	return withGradient(y, []*graph.Node{x}, func(dy *graph.Node) []*graph.Node {
		input := graph.Identity(x)
		return graph.Gradient(graph.ReduceAllSum(graph.Mul(conv(input, after(w, dy)), dy)), input)
	})
}

// UpsampleNearest2x doubles the spatial size of x [batch, C, H, W] → [batch, C, 2H, 2W] by repeating each
// pixel, as torch.nn.functional.interpolate(scale_factor=2, mode="nearest").
func UpsampleNearest2x(x *graph.Node) *graph.Node {
	x.AssertRank(4)
	b, c, h, w := x.Shape().Dim(0), x.Shape().Dim(1), x.Shape().Dim(2), x.Shape().Dim(3)
	// [b, c, h, 1, w, 1] → broadcast [b, c, h, 2, w, 2] → [b, c, 2h, 2w]
	y := graph.Reshape(x, b, c, h, 1, w, 1)
	y = graph.BroadcastToDims(y, b, c, h, 2, w, 2)
	return graph.Reshape(y, b, c, 2*h, 2*w)
}
