package toyworld

import (
	"math"
	"math/cmplx"
	"sort"
)

// signatureRays is the number of rays of the radial signature.
const signatureRays = 64

// shapeStats measures area, centroid (pixel centres at +0.5), solidity, the radial signature and its
// harmonics, and the deepest interior point: the mean centre of the pixels whose chamfer distance is
// within 0.35 of the maximum D, with radius D − 0.5 (a rim pixel's centre lies ≈0.5 inside the boundary).
func shapeStats(m *Measurement, mask []bool, dist []float64, w, h int) {
	var n, sx, sy, dmax float64
	for i, on := range mask {
		if on {
			n++
			sx += float64(i%w) + 0.5
			sy += float64(i/w) + 0.5
			dmax = math.Max(dmax, dist[i])
		}
	}
	m.Area, m.CX, m.CY = n, sx/n, sy/n
	m.Radius = math.Sqrt(n / math.Pi)
	var ix, iy, in float64
	for i, on := range mask {
		if on && dist[i] >= dmax-0.35 {
			ix += float64(i%w) + 0.5
			iy += float64(i/w) + 0.5
			in++
		}
	}
	m.InnerX, m.InnerY, m.InnerR = ix/in, iy/in, math.Max(0.5, dmax-0.5)
	m.Solidity = n / hullArea(mask, dist, w)
	m.Signature = radialSignature(mask, w, h, m.CX, m.CY, m.Radius)
	m.Harmonics = harmonics(m.Signature)
}

// hullArea is the area of the convex hull (Andrew's monotone chain) of the corners of the rim pixels.
func hullArea(mask []bool, dist []float64, w int) float64 {
	type pt struct{ x, y float64 }
	var pts []pt
	for i, on := range mask {
		if on && dist[i] < 1.5 {
			x, y := float64(i%w), float64(i/w)
			pts = append(pts, pt{x, y}, pt{x + 1, y}, pt{x, y + 1}, pt{x + 1, y + 1})
		}
	}
	sort.Slice(pts, func(a, b int) bool {
		if pts[a].x != pts[b].x {
			return pts[a].x < pts[b].x
		}
		return pts[a].y < pts[b].y
	})
	cross := func(o, a, b pt) float64 { return (a.x-o.x)*(b.y-o.y) - (a.y-o.y)*(b.x-o.x) }
	var hull []pt
	for pass := 0; pass < 2; pass++ {
		start := len(hull)
		for _, p := range pts {
			for len(hull) >= start+2 && cross(hull[len(hull)-2], hull[len(hull)-1], p) <= 0 {
				hull = hull[:len(hull)-1]
			}
			hull = append(hull, p)
		}
		hull = hull[:len(hull)-1]
		for i, j := 0, len(pts)-1; i < j; i, j = i+1, j-1 {
			pts[i], pts[j] = pts[j], pts[i]
		}
	}
	var a float64
	for i := range hull {
		j := (i + 1) % len(hull)
		a += hull[i].x*hull[j].y - hull[j].x*hull[i].y
	}
	return math.Max(math.Abs(a)/2, 1)
}

// radialSignature marches each of the 64 rays from the centroid in steps of 0.25 pixel up to 64 pixels,
// sampling the mask bilinearly, and records the farthest point where it is ≥ 0.5, divided by radius.
// Ray i points at angle 2πi/64 counter-clockwise from +x with y up.
func radialSignature(mask []bool, w, h int, cx, cy, radius float64) []float64 {
	val := func(x, y int) float64 {
		if x < 0 || y < 0 || x >= w || y >= h || !mask[y*w+x] {
			return 0
		}
		return 1
	}
	bil := func(x, y float64) float64 {
		x, y = x-0.5, y-0.5
		x0, y0 := math.Floor(x), math.Floor(y)
		fx, fy := x-x0, y-y0
		xi, yi := int(x0), int(y0)
		return (1-fy)*((1-fx)*val(xi, yi)+fx*val(xi+1, yi)) + fy*((1-fx)*val(xi, yi+1)+fx*val(xi+1, yi+1))
	}
	sig := make([]float64, signatureRays)
	for k := range sig {
		a := 2 * math.Pi * float64(k) / signatureRays
		dx, dy := math.Cos(a), -math.Sin(a)
		for t := 0.0; t <= 64; t += 0.25 {
			if bil(cx+t*dx, cy+t*dy) >= 0.5 {
				sig[k] = t
			}
		}
		sig[k] /= radius
	}
	return sig
}

// harmonics returns |F_k|/|F_0| for k = 1..8 of the discrete Fourier transform of the signature.
func harmonics(sig []float64) []float64 {
	n := len(sig)
	f := func(k int) float64 {
		var s complex128
		for i, v := range sig {
			s += complex(v, 0) * cmplx.Exp(complex(0, -2*math.Pi*float64(k*i)/float64(n)))
		}
		return cmplx.Abs(s)
	}
	f0 := math.Max(f(0), 1e-9)
	out := make([]float64, 8)
	for k := range out {
		out[k] = f(k+1) / f0
	}
	return out
}
