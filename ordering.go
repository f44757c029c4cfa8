package neti

import (
	"fmt"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// Nested dropout (paper §3.4; spec §4) imposes an importance ordering on the mapper's Hidden units: in
// training, units k..Hidden-1 of a sample are zeroed for a random k, so the first units learn the coarse
// concept and later ones the details; at inference a truncation k trades fidelity (large k) for
// editability (small k).
//
// The graph takes the truncation of every row as an input, keep [N] int32 (the number of leading units
// kept), and is otherwise deterministic. Training draws keep in Go (nestedDropoutSampler, trainbatch.go)
// from a PCG stream saved in checkpoints, so a resumed run draws exactly what the uninterrupted run would
// have; inference passes the same k for every row (Concept.Truncation, GenerateOptions.Truncation).

// nestedDropout zeroes units keep[n]..H-1 of row n: h [N, H], keep [N] int32 (0 ≤ keep ≤ H; H keeps all)
// → [N, H]. Kept units are passed through unchanged, dropped ones are exactly 0 (gradient 0).
func nestedDropout(h, keep *graph.Node) *graph.Node {
	h.AssertRank(2)
	keep.AssertRank(1)
	n, width := h.Shape().Dim(0), h.Shape().Dim(1)
	if keep.Shape().Dim(0) != n {
		panic(fmt.Sprintf("neti: nested dropout: keep has %d rows, h has %d: expected one truncation per row",
			keep.Shape().Dim(0), n))
	}
	units := graph.Iota(h.Graph(), shapes.Make(dtypes.Int32, 1, width), 1)                      // [1, H]: 0..H-1
	kept := graph.LessThan(units, graph.ExpandAxes(graph.ConvertDType(keep, dtypes.Int32), -1)) // [N, H]
	return graph.Where(kept, h, graph.ZerosLike(h))                                             // [N, H]
}
