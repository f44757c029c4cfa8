package neti

import (
	"fmt"
	"math/rand/v2"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// Nested dropout (paper §3.4; spec §4) imposes an importance ordering on the mapper's Hidden units: in
// training, units k..Hidden-1 of a sample are zeroed for a random k, so the first units learn the coarse
// concept and later ones the details; at inference a truncation k trades fidelity (large k) for
// editability (small k).
//
// Design: the graph takes the truncation of every row as an input, keep [N] int32 (number of leading units
// kept), and is otherwise deterministic. Training draws keep in Go from NestedDropoutSampler, a PCG stream
// whose state can be saved and restored, so a resumed run draws exactly what the uninterrupted run would
// have; inference passes the same k for every row (Truncations).

// NestedDropout zeroes units keep[n]..H-1 of row n: h [N, H], keep [N] int32 (0 ≤ keep ≤ H; H keeps all)
// → [N, H]. Kept units are passed through unchanged, dropped ones are exactly 0 (gradient 0).
func NestedDropout(h, keep *graph.Node) *graph.Node {
	h.AssertRank(2)
	keep.AssertRank(1)
	n, width := h.Shape().Dim(0), h.Shape().Dim(1)
	if keep.Shape().Dim(0) != n {
		panic(fmt.Sprintf("neti.NestedDropout: keep has %d rows, h has %d: expected one truncation per row",
			keep.Shape().Dim(0), n))
	}
	units := graph.Iota(h.Graph(), shapes.Make(dtypes.Int32, 1, width), 1) // [1, H]: 0..H-1
	kept := graph.LessThan(units, graph.ExpandAxes(graph.ConvertDType(keep, dtypes.Int32), -1))
	return graph.Where(kept, h, graph.ZerosLike(h)) // [N, H]
}

// Truncations returns n copies of the inference truncation k (the keep input of Mapper).
func Truncations(n, k int) []int32 {
	out := make([]int32, n)
	for i := range out {
		out[i] = int32(k)
	}
	return out
}

// DefaultNestedDropoutProb is the probability that one mapper call applies nested dropout (the original's
// nested_dropout_prob).
const DefaultNestedDropoutProb = 0.5

// NestedDropoutSampler draws the training truncations of nested dropout in Go, from a PCG stream whose
// state is saved with MarshalBinary and restored with UnmarshalBinary (exact resume).
//
// As the original (spec §4): per mapper call, one coin with probability Prob; if it falls, each sample of
// the call draws k ~ U{0..Hidden-1} and keeps units 0..k-1 (k = 0 drops all); otherwise every sample keeps
// all Hidden units. The original calls the mapper once per cross-attention layer, so one training step has
// NumLayers calls of batch-size samples each.
type NestedDropoutSampler struct {
	// Prob is the probability of applying nested dropout to a call.
	Prob float64
	// Hidden is the number of ordered units.
	Hidden int
	pcg    *rand.PCG
	rng    *rand.Rand
}

// NewNestedDropoutSampler returns a sampler seeded with seed.
func NewNestedDropoutSampler(seed uint64, prob float64, hidden int) *NestedDropoutSampler {
	pcg := rand.NewPCG(seed, 0x6e657374) // "nest"
	return &NestedDropoutSampler{Prob: prob, Hidden: hidden, pcg: pcg, rng: rand.New(pcg)}
}

// Draw returns the keep values of calls mapper calls of perCall samples each, [calls·perCall] call-major
// (element c·perCall + i is sample i of call c).
func (s *NestedDropoutSampler) Draw(calls, perCall int) []int32 {
	out := make([]int32, 0, calls*perCall)
	for range calls {
		drop := s.rng.Float64() < s.Prob
		for range perCall {
			k := s.Hidden
			if drop {
				k = s.rng.IntN(s.Hidden)
			}
			out = append(out, int32(k))
		}
	}
	return out
}

// MarshalBinary returns the sampler's random state (not Prob or Hidden).
func (s *NestedDropoutSampler) MarshalBinary() ([]byte, error) { return s.pcg.MarshalBinary() }

// UnmarshalBinary restores a random state saved by MarshalBinary.
func (s *NestedDropoutSampler) UnmarshalBinary(state []byte) error {
	if err := s.pcg.UnmarshalBinary(state); err != nil {
		return fmt.Errorf("neti: restoring the nested-dropout sampler: %w", err)
	}
	return nil
}
