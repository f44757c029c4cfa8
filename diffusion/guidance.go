package diffusion

import (
	"fmt"
	"math"
)

// Guidance is classifier-free guidance as in diffusers' StableDiffusionPipeline:
// uncond + scale·(cond − uncond), elementwise in float32. uncond and cond are the UNet outputs without and
// with the prompt, of the same shape (e.g. [B, 4, H, W] flat); scale 1 returns cond, SD's default is 7.5.
// It panics if the lengths differ (a programming error).
func Guidance(uncond, cond []float32, scale float64) []float32 {
	if len(uncond) != len(cond) {
		panic(fmt.Sprintf("guidance: uncond has %d values and cond %d; they must have the same shape",
			len(uncond), len(cond)))
	}
	s := float32(scale)
	out := make([]float32, len(cond))
	for i, u := range uncond {
		out[i] = u + float32(s*(cond[i]-u))
	}
	return out
}

// RescaleGuidance is diffusers' rescale_noise_cfg (Lin et al. 2023, "Common Diffusion Noise Schedules and
// Sample Steps are Flawed", §3.4), optional and meant for v-prediction models with zero-SNR schedules: per
// batch item, the guided output is rescaled to the standard deviation of the conditional output and mixed
// back by phi:
//
//	out = phi·guided·(std(cond)/std(guided)) + (1 − phi)·guided
//
// guided is [Guidance]'s result and cond the conditional UNet output, both of batch equal items; the standard
// deviations are per item and unbiased (torch.std). phi 0 returns guided unchanged; diffusers suggests 0.7. An
// item whose guided values are all equal is kept as it is (diffusers would divide by its zero deviation).
func RescaleGuidance(guided, cond []float32, batch int, phi float64) ([]float32, error) {
	if len(guided) != len(cond) {
		return nil, fmt.Errorf("rescale guidance: guided has %d values and cond %d; they must have the same shape",
			len(guided), len(cond))
	}
	if batch < 1 || len(guided)%batch != 0 || len(guided)/batch < 2 {
		return nil, fmt.Errorf("rescale guidance: batch %d does not divide %d values into items of at least 2",
			batch, len(guided))
	}
	item := len(guided) / batch
	p, q := float32(phi), float32(1-phi)
	out := make([]float32, len(guided))
	for b := range batch {
		g, c := guided[b*item:(b+1)*item], cond[b*item:(b+1)*item]
		factor := float32(1) // a constant guided item has no spread to rescale (diffusers would divide by 0)
		if sg := stdUnbiased(g); sg > 0 {
			factor = float32(stdUnbiased(c) / sg)
		}
		for i, v := range g {
			out[b*item+i] = float32(p*float32(v*factor)) + float32(q*v)
		}
	}
	return out, nil
}

// stdUnbiased is the standard deviation with Bessel's correction, accumulated in float64.
func stdUnbiased(x []float32) float64 {
	var mean float64
	for _, v := range x {
		mean += float64(v)
	}
	mean /= float64(len(x))
	var ss float64
	for _, v := range x {
		d := float64(v) - mean
		ss += d * d
	}
	return math.Sqrt(ss / float64(len(x)-1))
}
