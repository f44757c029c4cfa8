package toyworld

import (
	"math"
	"math/cmplx"
)

// measurePattern computes the pattern statistics over P: the mask pixels beyond the outline (chamfer
// distance ≥ max(2, OutlineWidth + 1)) farther than 2 pixels (Chebyshev) from every mark pixel. With s = ΔE(pixel, Color) and s̃ its 3×3 mean over pixels of P:
//   - contrast C = 90th percentile of s̃ over P; fraction = share of P with s̃ > C/2;
//   - at pixels of P whose 4 neighbours are in P, the central-difference gradient g of s, angle θ and
//     weight w = |g|²: C2 = |Σ w e^{2iθ}|/Σ w, C4 = |Σ w e^{4iθ}|/Σ w, angle = arg(Σ w e^{2iθ})/2 (the
//     stripes' normal, y up), density = Σ|g| / (C · |P|);
//   - tone = mean L* of the pixels of P with s̃ > C/2 minus L* of Color.
func measurePattern(m *Measurement, p *picture, mask []bool, dist []float64, marked []bool) {
	n := p.w * p.h
	minD := math.Max(2, m.OutlineWidth+1)
	nearMark := func(i int) bool {
		if marked == nil {
			return false
		}
		x, y := i%p.w, i/p.w
		for dy := -2; dy <= 2; dy++ {
			for dx := -2; dx <= 2; dx++ {
				if xx, yy := x+dx, y+dy; xx >= 0 && yy >= 0 && xx < p.w && yy < p.h && marked[yy*p.w+xx] {
					return true
				}
			}
		}
		return false
	}
	inP := make([]bool, n)
	s := make([]float64, n)
	for i := range n {
		if !mask[i] {
			continue
		}
		s[i] = DeltaE(p.lab[i], m.Color)
		inP[i] = dist[i] >= minD && !nearMark(i)
	}
	sm := make([]float64, n)
	var vals []float64
	var idx []int
	for i := range n {
		if !inP[i] {
			continue
		}
		x, y := i%p.w, i/p.w
		var sum, cnt float64
		for dy := -1; dy <= 1; dy++ {
			for dx := -1; dx <= 1; dx++ {
				if xx, yy := x+dx, y+dy; xx >= 0 && yy >= 0 && xx < p.w && yy < p.h && inP[yy*p.w+xx] {
					sum += s[yy*p.w+xx]
					cnt++
				}
			}
		}
		sm[i] = sum / cnt
		vals = append(vals, sm[i])
		idx = append(idx, i)
	}
	m.PatternPixels = len(idx)
	if len(idx) == 0 {
		return
	}
	c := percentile(vals, 0.9)
	m.PatternContrast = c
	var above, toneL float64
	for _, i := range idx {
		if sm[i] > c/2 {
			above++
			toneL += p.lab[i].L
		}
	}
	m.PatternFraction = above / float64(len(idx))
	if above > 0 {
		m.PatternTone = toneL/above - m.Color.L
	}
	var z2, z4 complex128
	var wsum, gsum float64
	for _, i := range idx {
		x, y := i%p.w, i/p.w
		if x == 0 || y == 0 || x == p.w-1 || y == p.h-1 {
			continue
		}
		if !inP[i-1] || !inP[i+1] || !inP[i-p.w] || !inP[i+p.w] {
			continue
		}
		gx := (s[i+1] - s[i-1]) / 2
		gy := (s[i-p.w] - s[i+p.w]) / 2 // y up
		w := gx*gx + gy*gy
		th := math.Atan2(gy, gx)
		z2 += complex(w, 0) * cmplx.Exp(complex(0, 2*th))
		z4 += complex(w, 0) * cmplx.Exp(complex(0, 4*th))
		wsum += w
		gsum += math.Sqrt(w)
	}
	if wsum > 0 {
		m.PatternC2, m.PatternC4 = cmplx.Abs(z2)/wsum, cmplx.Abs(z4)/wsum
		a := cmplx.Phase(z2) / 2 * 180 / math.Pi
		if a < 0 {
			a += 180
		}
		m.PatternAngle = a
	}
	if c > 0 {
		m.PatternDensity = gsum / (c * float64(len(idx)))
	}
	if c >= plainContrast {
		m.PatternPeriod = dominantPeriod(p.w, idx, sm)
	}
}

// dominantPeriod returns 1/|f| for the spatial frequency f (cycles per pixel, |f| from 1/12 to 1/3 in 3 %
// steps, every 6° of direction) where the Fourier power of the mean-subtracted values v[i] at pixels idx peaks:
// a stripe or dot pattern's period; a checker pattern of cell P peaks on the diagonal, at P·√2.
func dominantPeriod(w int, idx []int, v []float64) float64 {
	if len(idx) < 8 {
		return 0
	}
	var mean float64
	for _, i := range idx {
		mean += v[i]
	}
	mean /= float64(len(idx))
	best, bestF := 0.0, 0.0
	for f := 1.0 / 12; f <= 1.0/3; f *= 1.03 {
		for a := 0.0; a < 180; a += 6 {
			fx, fy := f*math.Cos(a*math.Pi/180), f*math.Sin(a*math.Pi/180)
			var re, im float64
			for _, i := range idx {
				ph := 2 * math.Pi * (fx*float64(i%w) + fy*float64(i/w))
				d := v[i] - mean
				re += d * math.Cos(ph)
				im += d * math.Sin(ph)
			}
			if pw := re*re + im*im; pw > best {
				best, bestF = pw, f
			}
		}
	}
	if bestF == 0 {
		return 0
	}
	return 1 / bestF
}
