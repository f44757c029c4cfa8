package diffusion

import "fmt"

// Timestep spacings, as each diffusers scheduler computes them in set_timesteps. n is num_train_timesteps.

// ddimTimesteps matches DDIMScheduler.set_timesteps (int64 timesteps, descending).
func ddimTimesteps(spacing string, n, steps, offset int) ([]int, error) {
	out := make([]int, 0, steps)
	switch spacing {
	case "linspace":
		// matches diffusers: np.linspace(0, n-1, steps).round()[::-1]
		for _, v := range npLinspace(0, float64(n-1), steps) {
			out = append(out, int(npRound(v)))
		}
		reverseInts(out)
	case "leading":
		// matches diffusers: (np.arange(0, steps) * (n // steps)).round()[::-1] + steps_offset
		ratio := n / steps
		for i := steps - 1; i >= 0; i-- {
			out = append(out, i*ratio+offset)
		}
	case "trailing":
		// matches diffusers: np.round(np.arange(n, 0, -n/steps)) - 1
		for _, v := range npArange(float64(n), 0, -float64(n)/float64(steps)) {
			out = append(out, int(npRound(v))-1)
		}
	default:
		return nil, spacingError(spacing)
	}
	return out, nil
}

// eulerTimesteps matches EulerDiscreteScheduler.set_timesteps (float32 timesteps, descending).
func eulerTimesteps(spacing string, n, steps, offset int) ([]float32, error) {
	out := make([]float32, 0, steps)
	switch spacing {
	case "linspace":
		// matches diffusers: np.linspace(0, n-1, steps, dtype=np.float32)[::-1]
		for _, v := range npLinspace(0, float64(n-1), steps) {
			out = append(out, float32(v))
		}
		reverseFloats(out)
	case "leading":
		// matches diffusers: (np.arange(0, steps) * (n // steps)).round()[::-1].astype(np.float32) + steps_offset
		ratio := n / steps
		for i := steps - 1; i >= 0; i-- {
			out = append(out, float32(i*ratio)+float32(offset))
		}
	case "trailing":
		// matches diffusers: np.arange(n, 0, -n/steps).round().astype(np.float32) - 1
		for _, v := range npArange(float64(n), 0, -float64(n)/float64(steps)) {
			out = append(out, float32(npRound(v))-1)
		}
	default:
		return nil, spacingError(spacing)
	}
	return out, nil
}

// dpmTimesteps matches DPMSolverMultistepScheduler.set_timesteps (int64 timesteps, descending). last is
// num_train_timesteps less the steps clipped by lambda_min_clipped.
func dpmTimesteps(spacing string, n, last, steps, offset int) ([]int, error) {
	out := make([]int, 0, steps)
	switch spacing {
	case "linspace":
		// matches diffusers: np.linspace(0, last-1, steps+1).round()[::-1][:-1]
		vals := npLinspace(0, float64(last-1), steps+1)
		for i := steps; i >= 1; i-- {
			out = append(out, int(npRound(vals[i])))
		}
	case "leading":
		// matches diffusers: (np.arange(0, steps+1) * (last // (steps+1))).round()[::-1][:-1] + steps_offset
		ratio := last / (steps + 1)
		for i := steps; i >= 1; i-- {
			out = append(out, i*ratio+offset)
		}
	case "trailing":
		// matches diffusers: np.arange(last, 0, -n/steps).round() - 1
		for _, v := range npArange(float64(last), 0, -float64(n)/float64(steps)) {
			out = append(out, int(npRound(v))-1)
		}
	default:
		return nil, spacingError(spacing)
	}
	return out, nil
}

func spacingError(spacing string) error {
	return fmt.Errorf("timestep_spacing %q is not supported; use one of leading, trailing, linspace", spacing)
}

func reverseInts(s []int) {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
}

func reverseFloats(s []float32) {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
}

// float64s converts a sampler's timesteps for Sampler.Timesteps.
func float64s[T int | float32](ts []T) []float64 {
	out := make([]float64, len(ts))
	for i, t := range ts {
		out[i] = float64(t)
	}
	return out
}
