package nn

import (
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// withGradient returns out, computed without gradients to inputs (on StopGradient of them), with its
// gradients with respect to inputs supplied by vjp: given the adjoint of out, vjp returns one gradient per
// input, of its shape. GoMLX v0.26 has custom gradients only for one-input identities
// (graph.IdentityWithCustomGradient), so a zero-valued carrier (each input minus itself, flattened, packed
// and padded with zeros to at least out's size) goes through such an identity and its first |out| values are
// added to out: the identity's adjoint starts with out's adjoint, and the gradients its custom VJP returns
// reach the inputs through the subtractions. Gradients of out with respect to anything else (weights used
// on the stopped inputs) are GoMLX's own. inputs and out share a dtype.
func withGradient(out *graph.Node, inputs []*graph.Node, vjp func(dOut *graph.Node) []*graph.Node) *graph.Node {
	dims := out.Shape().Dimensions
	nOut := out.Shape().Size()
	pack := func(xs []*graph.Node) *graph.Node {
		parts, n := make([]*graph.Node, 0, len(xs)+1), 0
		for _, x := range xs {
			parts, n = append(parts, graph.Reshape(x, x.Shape().Size())), n+x.Shape().Size()
		}
		if n < nOut {
			parts = append(parts, graph.Zeros(out.Graph(), shapes.Make(out.DType(), nOut-n)))
		}
		return graph.Concatenate(parts, 0)
	}
	zeros := make([]*graph.Node, len(inputs))
	for i, x := range inputs {
		zeros[i] = graph.Sub(x, graph.StopGradient(x))
	}
	carrier := graph.IdentityWithCustomGradient(pack(zeros), func(_, adjoint *graph.Node) *graph.Node {
		return pack(vjp(graph.Reshape(graph.Slice(adjoint, graph.AxisRange(0, nOut)), dims...)))
	})
	return graph.Add(out, graph.Reshape(graph.Slice(carrier, graph.AxisRange(0, nOut)), dims...))
}

// after returns x with a data dependency on dep that does not change its value (x + 0·Σdep), so that XLA
// cannot compute x before dep. Without it XLA's scheduler is free to compute work that depends only on
// early values (every attention chunk's scores, a kernel's rearranged copy) at once, or during the forward
// pass, keeping it all alive: the memory chunkedAttention and convLateKernel exist to save. XLA does not
// fold a floating-point 0·y to 0 (y may be NaN), so the dependency survives its optimisations; it costs
// one reduction of dep.
func after(x, dep *graph.Node) *graph.Node {
	return graph.Add(x, graph.ConvertDType(graph.MulScalar(graph.ReduceAllSum(dep), 0), x.DType()))
}
