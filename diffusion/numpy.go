package diffusion

import "math"

// This file reproduces the few numpy/torch routines diffusers' schedulers use, operation by operation, so
// that timesteps round the same way and sigmas agree to the last float32 bit where possible.

// npLinspace matches np.linspace(start, stop, num) in float64: start + i*step with step = (stop-start)/(num-1),
// and the last value exactly stop.
func npLinspace(start, stop float64, num int) []float64 {
	out := make([]float64, num)
	if num == 1 {
		out[0] = start
		return out
	}
	step := (stop - start) / float64(num-1)
	for i := range out {
		if step == 0 {
			out[i] = float64(i)/float64(num-1)*(stop-start) + start
		} else {
			out[i] = float64(i)*step + start
		}
	}
	out[num-1] = stop
	return out
}

// npArange matches np.arange(start, stop, step) for float64 arguments: length ceil((stop-start)/step), and
// numpy's fill, which computes the second value as start+step and then start + i*delta with
// delta = (start+step) - start.
func npArange(start, stop, step float64) []float64 {
	n := int(math.Ceil((stop - start) / step))
	if n <= 0 {
		return nil
	}
	out := make([]float64, n)
	out[0] = start
	if n == 1 {
		return out
	}
	out[1] = start + step
	delta := out[1] - start
	for i := 2; i < n; i++ {
		out[i] = start + float64(i)*delta
	}
	return out
}

// npRound matches np.round (round half to even).
func npRound(x float64) float64 { return math.RoundToEven(x) }

// npInterpIndexGrid matches np.interp(x, np.arange(len(fp)), fp) for one x, with fp float32 values promoted
// to float64 as numpy does: exact grid points return fp, others slope*(x-x_j) + fp_j.
func npInterpIndexGrid(x float64, fp []float32) float64 {
	n := len(fp)
	switch {
	case math.IsNaN(x):
		return x
	case x < 0:
		return float64(fp[0])
	case x >= float64(n-1):
		return float64(fp[n-1])
	}
	j := int(math.Floor(x))
	xj := float64(j)
	if x == xj {
		return float64(fp[j])
	}
	lo, hi := float64(fp[j]), float64(fp[j+1])
	slope := (hi - lo) / (float64(j+1) - xj)
	return slope*(x-xj) + lo
}

// torchLinspace32 matches torch.linspace(start, end, steps, dtype=torch.float32) on the CPU: start and end
// rounded to float32, step = (end-start)/(steps-1) in float32, the first half counted up from start and the
// second half down from end, each value start + step·i rounded once (torch's CPU kernel is built with fused
// multiply-add; checked bit-exact against torch 2.15 for SD's schedules).
func torchLinspace32(start, end float64, steps int) []float32 {
	out := make([]float32, steps)
	if steps == 1 {
		out[0] = float32(start)
		return out
	}
	s, e := float32(start), float32(end)
	step := (e - s) / float32(steps-1)
	half := steps / 2
	for i := range out {
		if i < half {
			out[i] = float32(math.FMA(float64(step), float64(i), float64(s)))
		} else {
			out[i] = float32(math.FMA(-float64(step), float64(steps-1-i), float64(e)))
		}
	}
	return out
}

// sqrt32, exp32 and log32 are torch's float32 sqrt/exp/log on 0-dim tensors (correctly rounded here; torch's
// exp/log may differ by one ulp).
func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }

func exp32(x float32) float32 { return float32(math.Exp(float64(x))) }

func log32(x float32) float32 { return float32(math.Log(float64(x))) }
