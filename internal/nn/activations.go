package nn

import (
	"math"

	"github.com/gomlx/gomlx/pkg/core/graph"
)

// SiLU is x·sigmoid(x) (torch.nn.SiLU, "silu"/"swish").
func SiLU(x *graph.Node) *graph.Node { return graph.Mul(x, graph.Sigmoid(x)) }

// GELU is the exact Gaussian error linear unit x·½(1 + erf(x/√2)) (torch "gelu").
func GELU(x *graph.Node) *graph.Node {
	return graph.Mul(graph.MulScalar(x, 0.5), graph.OnePlus(graph.Erf(graph.MulScalar(x, 1/math.Sqrt2))))
}

// GELUTanh is the tanh approximation of GELU (torch "gelu_pytorch_tanh").
func GELUTanh(x *graph.Node) *graph.Node {
	inner := graph.MulScalar(graph.Add(x, graph.MulScalar(graph.Mul(x, graph.Square(x)), 0.044715)), math.Sqrt(2/math.Pi))
	return graph.Mul(graph.MulScalar(x, 0.5), graph.OnePlus(graph.Tanh(inner)))
}

// QuickGELU is x·sigmoid(1.702·x), CLIP's activation in SD 1.x text encoders ("quick_gelu").
func QuickGELU(x *graph.Node) *graph.Node {
	return graph.Mul(x, graph.Sigmoid(graph.MulScalar(x, 1.702)))
}

// ActivationNames are the names Activation knows.
var ActivationNames = []string{"silu", "swish", "gelu", "quick_gelu", "gelu_pytorch_tanh", "gelu_new"}

// Activation returns the activation named as in diffusers/transformers configs ("silu", "swish", "gelu",
// "quick_gelu", "gelu_pytorch_tanh", "gelu_new"), or nil if the name is unknown.
func Activation(name string) func(*graph.Node) *graph.Node {
	switch name {
	case "silu", "swish":
		return SiLU
	case "gelu":
		return GELU
	case "quick_gelu":
		return QuickGELU
	case "gelu_pytorch_tanh", "gelu_new":
		return GELUTanh
	}
	return nil
}
