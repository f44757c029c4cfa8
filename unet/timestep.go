package unet

import (
	"math"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/org/neti/internal/nn"
)

// maxPeriod is the longest period of the sinusoidal timestep features (diffusers' max_period).
const maxPeriod = 10000

// timestepFeatures is diffusers' Timesteps / get_timestep_embedding: timestep [batch] → [batch, dim] float32,
// with frequencies exp(−ln(maxPeriod)·k/(dim/2 − shift)) for k < dim/2, laid out [sin, cos] or, with
// flip, [cos, sin]. The operations follow diffusers' float32 order so that the arguments of sin/cos, which
// reach ~1000, round the same way.
func timestepFeatures(timestep *graph.Node, dim int, flip bool, shift float64) *graph.Node {
	g := timestep.Graph()
	half := dim / 2
	batch := timestep.Shape().Dim(0)
	// [half]
	exponent := graph.MulScalar(graph.Iota(g, shapes.Make(dtypes.Float32, half), 0), -math.Log(maxPeriod))
	exponent = graph.Div(exponent, graph.Scalar(g, dtypes.Float32, float64(half)-shift))
	freqs := graph.Exp(exponent)
	// [batch, 1] · [1, half] → [batch, half]
	args := graph.Mul(graph.Reshape(graph.ConvertDType(timestep, dtypes.Float32), batch, 1),
		graph.Reshape(freqs, 1, half))
	sin, cos := graph.Sin(args), graph.Cos(args)
	if flip {
		return graph.Concatenate([]*graph.Node{cos, sin}, -1)
	}
	return graph.Concatenate([]*graph.Node{sin, cos}, -1)
}

// timeEmbedding is diffusers' time_proj followed by TimestepEmbedding (ctx is "time_embedding"):
// timestep [batch] → [batch, cfg.TimeEmbeddingDim] in dtype, through linear_1, the activation and linear_2.
func timeEmbedding(ctx *context.Context, cfg *Config, timestep *graph.Node, dtype dtypes.DType) *graph.Node {
	features := timestepFeatures(timestep, cfg.BlockOutChannels[0], cfg.FlipSinToCos, cfg.FreqShift)
	features = graph.ConvertDType(features, dtype)
	h := nn.Linear(ctx.In("linear_1"), features, cfg.TimeEmbeddingDim, true)
	h = nn.Activation(cfg.ActFn)(h)
	return nn.Linear(ctx.In("linear_2"), h, cfg.TimeEmbeddingDim, true)
}
