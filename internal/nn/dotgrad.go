package nn

import (
	"fmt"
	"reflect"
	"slices"

	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// GoMLX v0.26's gradient of DotGeneral multiplies the output gradient with the other operand broadcast to
// [batch, lhs cross, rhs cross, contracted] and then sums the unwanted axes: for a linear layer x·W with x
// [32, 77, 64] and W [64, 256] that materialises 40 M values per operand. XLA fuses it back into a dot;
// SimpleGo executes it literally, and it was most of a NeTI training step on the CPU (the text encoder's
// 16-layer batch). dotGeneralVJP computes the same gradients as two DotGenerals and a transpose, the
// textbook form; it replaces GoMLX's in graph.VJPRegistration (which GoMLX documents as replaceable) when
// this package is loaded, for every backend. TestDotGeneralVJPMatchesGoMLX compares the two.

// goMLXDotGeneralVJP is GoMLX's own DotGeneral gradient, kept for the comparison test.
var goMLXDotGeneralVJP = graph.VJPRegistration[graph.NodeTypeDotGeneral]

func init() {
	graph.VJPRegistration[graph.NodeTypeDotGeneral] = func(node *graph.Node, v []*graph.Node, _ shapes.Shape) []*graph.Node {
		return dotGeneralVJP(node, v[0])
	}
}

// dotAxes are a DotGeneral node's axis parameters.
type dotAxes struct {
	lhsContracting, lhsBatch, rhsContracting, rhsBatch []int
}

// dotGeneralAxes reads a DotGeneral node's axis parameters. GoMLX keeps them in unexported fields of the
// node; reflection reads them (without writing anything), and panics with a clear message if a GoMLX
// upgrade renamed them (the test catches that first).
func dotGeneralAxes(node *graph.Node) dotAxes {
	inputs := reflect.ValueOf(node).Elem().FieldByName("inputs")
	if inputs.IsValid() && inputs.Kind() == reflect.Interface {
		inputs = inputs.Elem()
	}
	if inputs.IsValid() && inputs.Kind() == reflect.Pointer {
		inputs = inputs.Elem()
	}
	ints := func(name string) []int {
		if !inputs.IsValid() || inputs.Kind() != reflect.Struct {
			panic(fmt.Sprintf("nn: DotGeneral gradient: cannot read the axes of %s (GoMLX's node layout changed)", node))
		}
		f := inputs.FieldByName(name)
		if !f.IsValid() || f.Kind() != reflect.Slice {
			panic(fmt.Sprintf("nn: DotGeneral gradient: node %s has no field %s (GoMLX's node layout changed)", node, name))
		}
		out := make([]int, f.Len())
		for i := range out {
			out[i] = int(f.Index(i).Int())
		}
		return out
	}
	return dotAxes{ints("lhsContractingAxes"), ints("lhsBatchAxes"), ints("rhsContractingAxes"), ints("rhsBatchAxes")}
}

// crossAxes lists, in order, the axes of a rank-r operand that are neither contracting nor batch.
func crossAxes(rank int, contracting, batch []int) []int {
	var out []int
	for a := range rank {
		if !slices.Contains(contracting, a) && !slices.Contains(batch, a) {
			out = append(out, a)
		}
	}
	return out
}

// dotGeneralVJP returns the gradients of out = DotGeneral(lhs, rhs) for the output gradient v, shaped as
// out: [batch..., lhs cross..., rhs cross...].
func dotGeneralVJP(node, v *graph.Node) []*graph.Node {
	lhs, rhs := node.Inputs()[0], node.Inputs()[1]
	ax := dotGeneralAxes(node)
	lhsCross := crossAxes(lhs.Rank(), ax.lhsContracting, ax.lhsBatch)
	rhsCross := crossAxes(rhs.Rank(), ax.rhsContracting, ax.rhsBatch)
	nb := len(ax.lhsBatch)
	vBatch := axisRange(0, nb)
	vLhsCross := axisRange(nb, len(lhsCross))
	vRhsCross := axisRange(nb+len(lhsCross), len(rhsCross))
	return []*graph.Node{
		operandGradient(v, vBatch, vRhsCross, rhs, ax.rhsBatch, rhsCross, lhs.Rank(), ax.lhsBatch, lhsCross,
			ax.lhsContracting, ax.rhsContracting),
		operandGradient(v, vBatch, vLhsCross, lhs, ax.lhsBatch, lhsCross, rhs.Rank(), ax.rhsBatch, rhsCross,
			ax.rhsContracting, ax.lhsContracting),
	}
}

// operandGradient is the gradient of one operand ("this") of a DotGeneral: v contracted with the other
// operand over the other's cross axes (vOtherCross in v; batch axes vBatch kept), giving [batch..., this cross..., contracted...]
// with the contracted axes in the other operand's axis order, then transposed to this operand's layout.
// thisContracting[i] pairs with otherContracting[i].
func operandGradient(v *graph.Node, vBatch, vOtherCross []int, other *graph.Node, otherBatch, otherCross []int,
	thisRank int, thisBatch, thisCross, thisContracting, otherContracting []int) *graph.Node {
	if other.Type() == graph.NodeTypeParameter {
		// A weight: XLA rearranges it (and, in bfloat16 on the CPU, converts it to float32) for this dot. Made
		// to depend on v, that copy is built when the backward pass reaches this dot instead of being shared
		// with the forward pass's copy and kept alive in between (as convLateKernel does for convolutions).
		other = after(other, v)
	}
	g := graph.DotGeneral(v, vOtherCross, vBatch, other, otherCross, otherBatch)
	// The remaining axes of other (its contracting axes) come out in increasing axis order.
	sorted := slices.Sorted(slices.Values(otherContracting))
	perm := make([]int, thisRank)
	for i, a := range thisBatch {
		perm[a] = i
	}
	for i, a := range thisCross {
		perm[a] = len(thisBatch) + i
	}
	for i, a := range thisContracting {
		perm[a] = len(thisBatch) + len(thisCross) + slices.Index(sorted, otherContracting[i])
	}
	identity := true
	for i, p := range perm {
		identity = identity && i == p
	}
	if identity {
		return g
	}
	return graph.TransposeAllAxes(g, perm...)
}

// axisRange returns n consecutive integers from start.
func axisRange(start, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = start + i
	}
	return out
}
