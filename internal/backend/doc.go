// Package backend selects the GoMLX backend neti runs on and adapts GoMLX's pure-Go SimpleGo backend so
// that models can be trained (back-propagated) on it, not only evaluated.
//
// # Selection
//
// New("") uses $GOMLX_BACKEND when set, else Auto: XLA on the CPU through XLA's CPU PJRT plugin when
// FindCPUPlugin finds it (scripts/pjrt-cpu.sh installs it from PyPI into neti's cache), else SimpleGo ("go")
// wrapped by the adapter; NewNoted also says which and why. New("go") / New("go:<simplego options>") are the
// adapter. Configs naming XLA ("xla", "xla:cpu", "xla:cuda", "xla:/path/to/pjrt_plugin.so", and GoMLX's
// aliases "stablehlo", "shlo", "hlo") go to GoMLX's XLA backend, which this package links; "xla:cpu" resolves
// to the plugin FindCPUPlugin finds. GoMLX's automatic plugin download is disabled: a missing plugin is an
// error that says how to install it.
//
// # What the adapter supplies, and why
//
// GoMLX v0.26.0's SimpleGo backend lacks or mishandles a few ops that neti's graphs need, above all in
// the reverse-mode gradients GoMLX's graph package emits (even a forward graph.Convolve with default
// strides fails).
// Read from backends/simplego (capabilities.go, convgeneral.go, gen_convgeneral_exec_full.go, ops.go):
//
//   - Reverse is not implemented ("op Reverse not implemented"). The input gradient of every
//     convolution (graph.convVJPWrtX) reverses the kernel's spatial axes, so no conv could be trained.
//     The adapter builds Reverse as one Gather per reversed axis with constant indices n-1, ..., 0.
//   - Pad is not implemented. The gradient of Slice (graph.sliceVJP) pads the incoming gradient back
//     to the input's shape, using interior padding when the slice had strides > 1; Split (GEGLU's
//     chunk(2)) is built on Slice. The adapter builds Pad from BroadcastInDim of the fill value and
//     Concatenate for edge padding, Slice for negative (cropping) edge padding, and a
//     reshape-concatenate-reshape-slice trick for interior padding.
//   - ConvGeneral with nil strides is rejected at build time ("stride[0]=0 must be >= 1"; SimpleGo's
//     shape inference, unlike its executor, does not default them) after SimpleGo prints its arguments
//     to stdout. graph.Convolve leaves strides nil unless set, and the conv input gradient always
//     does, so even a plain forward conv failed. With strides filled, the input gradient of a strided
//     conv (input dilation > 1, nil kernel dilations) takes SimpleGo's "full" kernel, which indexes the
//     kernel dilations per axis: an index-out-of-range panic inside an executor goroutine, which kills
//     the process. The adapter fills the defaults (stride 1, padding 0, input and kernel dilation 1),
//     checks there is one value per spatial axis, and runs the shape check itself so errors are returned
//     with the arguments, not printed.
//   - Float16 is not a SimpleGo dtype at all (no buffers, parameters, constants or kernels), yet its
//     ConvertDType accepts a Float16 target at build time and then panics at run time, inside an executor
//     goroutine (killing the process), since no converter is registered. The adapter rejects conversions to or from Float16 when the graph is built, with
//     an error that says to keep float32 (or use bfloat16, which SimpleGo converts to and from).
//   - Speed, not correctness: SimpleGo's ConvGeneral is a scalar loop on one goroutine, while its
//     DotGeneral is blocked and parallel. With the defaults filled, the adapter lowers ConvGeneral
//     (batch group count 1) to Transpose + Pad (padding and input dilation) + strided Slice windows +
//     one DotGeneral over (channels/group, kernel positions) per group: windows per kernel position
//     (im2col) or per output position, whichever is fewer, so the kernel gradient (whose "kernel" is
//     the output gradient) stays cheap; chunked along the first output spatial axis to bound memory.
//     A 3x3 conv forward+backward at [1, 32, 32, 32] runs about 10x faster than SimpleGo's own loop
//     (BenchmarkConvForwardBackward). Batch-grouped convolutions go to SimpleGo unchanged.
//   - Speed: SimpleGo runs element-wise binary ops whose operands differ in shape (a norm's
//     [B, C, H, W] × [1, C, 1, 1], softmax's [B, H, L, L] / [B, H, L, 1]), and BroadcastInDim, through a
//     per-element broadcast iterator, and ReduceSum through a per-element output iterator. For float
//     dtypes the adapter materialises the broadcast operand with Concatenate of doubling copies
//     (memmoves) and calls Add/Sub/Mul/Div/Max/Min/Pow with equal shapes, bit-identical results
//     (op_broadcast.go; only where each copied block has at least minRepeatBlock elements); and sums a
//     trailing run of reduced axes of float32/float64 tensors as a DotGeneral with ones, equal up to
//     summation order, leaving any reduced axes before it to SimpleGo on the smaller result
//     (op_reduce.go). Both apply to tensors of at least minRewriteSize elements only (below it the extra
//     ops cost more than they save). BenchmarkBroadcastOps compares both paths.
//
// Everything else is forwarded unchanged to SimpleGo, and the executables and buffers are SimpleGo's.
package backend
