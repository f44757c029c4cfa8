package neti

import (
	"fmt"
	"math"

	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// P+ trained as its paper trains it: one word vector per cross-attention layer, each updated by AdamW on
// its own at Textual Inversion's learning rate.
//
// A P+ concept is stored as a mapper (MethodPPlus): frozen per-layer hidden features h_ℓ and an output head,
// v_ℓ = W·h_ℓ + b. Training W itself with AdamW is not P+: AdamW moves every element of W by about the
// learning rate, so v_ℓ moves by up to lr·Σ_j |h_ℓ[j]| — on the toy model the first step moved each layer's
// vector 31–43× as far as TI's. So the trainer's parameter for P+ is the table V [NumLayers, TextWidth] of
// the vectors. The step graph gives ∂L/∂W = Σ_ℓ g_ℓ·h_ℓᵀ = Gᵀ·H (H [NumLayers, Hidden] the features, G the
// vectors' gradients); as the features are independent, G = (∂L/∂W·H⁺)ᵀ with H⁺ = Hᵀ(H·Hᵀ)⁻¹. After each
// step the head is the least-norm W with W·h_ℓ + b = v_ℓ for every layer, b staying the super-category's
// embedding: Wᵀ = H⁺·(V − 1·bᵀ).

// pplusVectorsName names the vectors' table among the trainer's parameters and in checkpoints.
const pplusVectorsName = "pplus.vectors"

// pplusHead maps between P+'s per-layer vectors and the stored output head.
type pplusHead struct {
	layers, hidden, width int
	features              []float64 // H [layers, hidden]
	pinv                  []float64 // H⁺ [hidden, layers]
	bias                  []float32 // b [width]
}

// newPPlusHead reads the concept's per-layer features and output bias (at initialisation, the super-category's
// embedding) and prepares the mapping. It fails if the features are not independent (Hidden < NumLayers).
func newPPlusHead(c *Concept) (*pplusHead, error) {
	cfg := c.Mapper
	if cfg.Bypass || cfg.Normalize != NormalizeNone {
		return nil, fmt.Errorf("neti: P+ head: the mapper has bypass %v and normalisation %q: expected neither", cfg.Bypass, cfg.Normalize)
	}
	f32, err := c.layerFeatures()
	if err != nil {
		return nil, err
	}
	h := &pplusHead{layers: cfg.NumLayers, hidden: cfg.Hidden, width: cfg.TextWidth,
		features: make([]float64, len(f32))}
	for i, x := range f32 {
		h.features[i] = float64(x)
	}
	bias, ok := c.Weights()["output_layer.0.bias"]
	if !ok {
		return nil, fmt.Errorf("neti: P+ head: the concept has no output_layer.0.bias")
	}
	h.bias = tensors.MustCopyFlatData[float32](bias)
	if h.pinv, err = pseudoInverse(h.features, h.layers, h.hidden); err != nil {
		return nil, fmt.Errorf("neti: P+ needs one independent hidden feature vector per layer (Mapper.Hidden %d, "+
			"NumLayers %d): %w", cfg.Hidden, cfg.NumLayers, err)
	}
	return h, nil
}

// vectors returns V [layers, width] = W·h_ℓ + b for the head w [width, hidden].
func (h *pplusHead) vectors(w []float32) []float32 {
	v := make([]float32, h.layers*h.width)
	for l := range h.layers {
		feat := h.features[l*h.hidden : (l+1)*h.hidden]
		for d := range h.width {
			s := float64(h.bias[d])
			for j, x := range feat {
				s += float64(w[d*h.hidden+j]) * x
			}
			v[l*h.width+d] = float32(s)
		}
	}
	return v
}

// weight returns the least-norm head W [width, hidden] whose vectors are v [layers, width]: W[d][j] =
// Σ_ℓ H⁺[j][ℓ]·(v_ℓ[d] − b[d]).
func (h *pplusHead) weight(v []float32) []float32 {
	w := make([]float32, h.width*h.hidden)
	for d := range h.width {
		for j := range h.hidden {
			s := 0.0
			for l := range h.layers {
				s += h.pinv[j*h.layers+l] * (float64(v[l*h.width+d]) - float64(h.bias[d]))
			}
			w[d*h.hidden+j] = float32(s)
		}
	}
	return w
}

// gradient maps ∂L/∂W [width, hidden] to the vectors' gradient [layers, width]: g_ℓ[d] = Σ_j ∂L/∂W[d][j]·H⁺[j][ℓ].
func (h *pplusHead) gradient(gw []float32) []float32 {
	g := make([]float32, h.layers*h.width)
	for l := range h.layers {
		for d := range h.width {
			s := 0.0
			for j := range h.hidden {
				s += float64(gw[d*h.hidden+j]) * h.pinv[j*h.layers+l]
			}
			g[l*h.width+d] = float32(s)
		}
	}
	return g
}

// pseudoInverse returns H⁺ = Hᵀ(H·Hᵀ)⁻¹ [cols, rows] of h [rows, cols] (rows ≤ cols, full row rank), by a
// Cholesky factorisation of the Gram matrix; it fails when the rows are (numerically) dependent.
func pseudoInverse(h []float64, rows, cols int) ([]float64, error) {
	if rows > cols {
		return nil, fmt.Errorf("%d vectors of %d values cannot be independent", rows, cols)
	}
	gram := make([]float64, rows*rows) // H·Hᵀ
	for a := range rows {
		for b := range rows {
			s := 0.0
			for j := range cols {
				s += h[a*cols+j] * h[b*cols+j]
			}
			gram[a*rows+b] = s
		}
	}
	// Cholesky: gram = L·Lᵀ, L lower triangular.
	chol := make([]float64, rows*rows)
	maxDiag := 0.0
	for a := range rows {
		maxDiag = math.Max(maxDiag, gram[a*rows+a])
	}
	for a := range rows {
		for b := 0; b <= a; b++ {
			s := gram[a*rows+b]
			for k := range b {
				s -= chol[a*rows+k] * chol[b*rows+k]
			}
			if a == b {
				if s <= 1e-10*maxDiag {
					return nil, fmt.Errorf("feature vector %d depends on the earlier ones", a)
				}
				chol[a*rows+a] = math.Sqrt(s)
			} else {
				chol[a*rows+b] = s / chol[b*rows+b]
			}
		}
	}
	// H⁺ᵀ = (H·Hᵀ)⁻¹·H: solve L·Lᵀ·X = H column by column.
	x := make([]float64, rows*cols)
	for j := range cols {
		y := make([]float64, rows)
		for a := range rows { // L·y = H[:, j]
			s := h[a*cols+j]
			for k := range a {
				s -= chol[a*rows+k] * y[k]
			}
			y[a] = s / chol[a*rows+a]
		}
		for a := rows - 1; a >= 0; a-- { // Lᵀ·x = y
			s := y[a]
			for k := a + 1; k < rows; k++ {
				s -= chol[k*rows+a] * x[k*cols+j]
			}
			x[a*cols+j] = s / chol[a*rows+a]
		}
	}
	pinv := make([]float64, cols*rows)
	for a := range rows {
		for j := range cols {
			pinv[j*rows+a] = x[a*cols+j]
		}
	}
	return pinv, nil
}

// layerFeatures returns the mapper's hidden features h_ℓ at timestep 0 for ℓ = 0..NumLayers-1,
// [NumLayers·Hidden] row-major, computed on the CPU backend from a private copy of the weights.
func (c *Concept) layerFeatures() (features []float32, err error) {
	defer recoverError("concept features", &err)
	b, ctx, err := c.cpuCopy()
	if err != nil {
		return nil, err
	}
	cfg := c.Mapper
	exec, err := context.NewExec(b, ctx.Reuse(), func(ctx *context.Context, t, l *graph.Node) *graph.Node {
		return hiddenFeatures(ctx, &cfg, t, l) // [NumLayers, Hidden]
	})
	if err != nil {
		return nil, err
	}
	defer exec.Finalize()
	n := cfg.NumLayers
	ts, ls := make([]float32, n), make([]float32, n)
	for l := range n {
		ls[l] = float32(l)
	}
	out, err := exec.Exec(tensors.FromFlatDataAndDimensions(ts, n), tensors.FromFlatDataAndDimensions(ls, n))
	if err != nil {
		return nil, err
	}
	return tensors.MustCopyFlatData[float32](out[0]), nil
}

// optimizerTensors names AdamW's tensors and gives their shapes: the trained tensors, or P+'s vectors.
func (t *trainer) optimizerTensors() (names []string, dims [][]int) {
	if t.pplus != nil {
		return []string{pplusVectorsName}, [][]int{{t.pplus.layers, t.pplus.width}}
	}
	shapes := expectedShapes(t.concept.Mapper)
	for _, name := range t.names {
		names, dims = append(names, name), append(dims, shapes[name])
	}
	return names, dims
}
