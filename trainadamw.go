package neti

import "math"

// adamW is PyTorch's AdamW (decoupled weight decay, bias-corrected moments) over float32 tensors, in
// float32 arithmetic with the scalar factors in float64, as torch.optim.AdamW's single-tensor path:
// p ← p·(1 − lr·λ); m ← m + (1 − β1)(g − m); v ← β2·v + (1 − β2)·g²;
// p ← p − lr/(1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + ε). The moments and the step count are its state.
type adamW struct {
	lr, beta1, beta2, eps, decay float64
	step                         int
	m, v                         [][]float32
}

// newAdamW returns zero moments for params (the hyper-parameters are set by the trainer).
func newAdamW(params [][]float32) adamW {
	a := adamW{m: make([][]float32, len(params)), v: make([][]float32, len(params))}
	for i, p := range params {
		a.m[i], a.v[i] = make([]float32, len(p)), make([]float32, len(p))
	}
	return a
}

// update applies one step with gradients grads to params, in place.
func (a *adamW) update(params, grads [][]float32) {
	a.step++
	bc1 := 1 - math.Pow(a.beta1, float64(a.step))
	bc2 := 1 - math.Pow(a.beta2, float64(a.step))
	decay := float32(1 - a.lr*a.decay)
	stepSize := float32(a.lr / bc1)
	bc2Sqrt := float32(math.Sqrt(bc2))
	b1, b2, b2c, eps := float32(1-a.beta1), float32(a.beta2), float32(1-a.beta2), float32(a.eps)
	for i, p := range params {
		m, v, g := a.m[i], a.v[i], grads[i]
		for j := range p {
			p[j] *= decay
			m[j] += b1 * (g[j] - m[j])
			v[j] = b2*v[j] + b2c*g[j]*g[j]
			denom := float32(math.Sqrt(float64(v[j])))/bc2Sqrt + eps
			p[j] -= stepSize * m[j] / denom
		}
	}
}
