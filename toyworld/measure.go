package toyworld

import (
	"image"
	"math"
	"slices"
)

// Measurement is what Measure reads from an image. Lengths are in pixels of a 64×64 image, positions
// have the origin at the top-left corner with y down, colours are Lab.
type Measurement struct {
	Background Lab  `json:"background"` // the border's dominant colour
	Found      bool `json:"found"`      // an object was segmented

	Area     float64 `json:"area"`     // object pixels (holes filled)
	Radius   float64 `json:"radius"`   // equivalent-circle radius sqrt(Area/π)
	CX       float64 `json:"cx"`       // area centroid
	CY       float64 `json:"cy"`       //
	Solidity float64 `json:"solidity"` // Area / area of the convex hull of the object's pixel squares
	// Harmonics are |F_k|/F_0, k = 1..8, of the radial signature (the distance from the centroid to the
	// object's farthest boundary crossing along 64 rays, divided by Radius): rotation-invariant.
	Harmonics []float64 `json:"harmonics"`
	Signature []float64 `json:"signature"` // the radial signature itself (ray i at angle 2πi/64 from +x, counter-clockwise)

	Color        Lab     `json:"color"`         // per-channel median of the interior (outline and mark excluded)
	OutlineWidth float64 `json:"outline_width"` // rim width whose colour differs from the interior; 0 for none
	OutlineColor Lab     `json:"outline_color"` // median colour of the rim (Color when there is no outline)

	InnerX     float64 `json:"inner_x"`     // deepest interior point (centre of the largest inscribed disc)
	InnerY     float64 `json:"inner_y"`     //
	InnerR     float64 `json:"inner_r"`     // its radius
	Mark       string  `json:"mark"`        // "none", "dot" or "ring"
	MarkTone   float64 `json:"mark_tone"`   // +1 white mark, −1 black mark, 0 none
	MarkX      float64 `json:"mark_x"`      // the mark's centroid
	MarkY      float64 `json:"mark_y"`      //
	MarkPixels int     `json:"mark_pixels"` // the mark's pixel count
	MarkSpread float64 `json:"mark_spread"` // mean distance of the mark's pixels to its centroid

	PatternPixels   int     `json:"pattern_pixels"`   // pixels the pattern statistics use
	PatternContrast float64 `json:"pattern_contrast"` // 90th percentile of ΔE(pixel, Color) (3×3-smoothed)
	PatternFraction float64 `json:"pattern_fraction"` // fraction of those pixels with ΔE > contrast/2
	PatternC2       float64 `json:"pattern_c2"`       // |Σ w e^{2iθ}| / Σ w over gradients (w = |∇|²): stripes ≈ 1
	PatternC4       float64 `json:"pattern_c4"`       // |Σ w e^{4iθ}| / Σ w: stripes and checkers high, dots low
	PatternAngle    float64 `json:"pattern_angle"`    // stripe direction, degrees in [0, 180), image frame, y up
	PatternDensity  float64 `json:"pattern_density"`  // Σ|∇| / (contrast · pixels): ≈ 2/period for stripes
	PatternPeriod   float64 `json:"pattern_period"`   // 1/|f| of the strongest spatial frequency (dominantPeriod); 0 when plain
	PatternTone     float64 `json:"pattern_tone"`     // L*(pattern pixels) − L*(Color): lighter > 0, darker < 0
}

// picture holds an image as per-pixel sRGB and Lab.
type picture struct {
	w, h int
	rgb  []rgbF
	lab  []Lab
}

func newPicture(img image.Image) *picture {
	b := img.Bounds()
	p := &picture{w: b.Dx(), h: b.Dy()}
	p.rgb, p.lab = make([]rgbF, p.w*p.h), make([]Lab, p.w*p.h)
	for y := range p.h {
		for x := range p.w {
			r, g, bb, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			c := rgbF{float64(r) / 65535, float64(g) / 65535, float64(bb) / 65535}
			p.rgb[y*p.w+x], p.lab[y*p.w+x] = c, c.lab()
		}
	}
	return p
}

// Measure segments the object of a 64×64 image (other sizes are first resampled to 64×64, see
// resample) and measures it. The steps, each documented at its function:
// background (borderColor), segmentation (segment), shape (shapeStats), interior colour and outline
// (interiorColor), outline (measureOutline), inner mark (measureMark), pattern (measurePattern).
func Measure(img image.Image) Measurement {
	if b := img.Bounds(); b.Dx() != ImageSize || b.Dy() != ImageSize {
		img = resample(img)
	}
	p := newPicture(img)
	var m Measurement
	bg, thresh := borderColor(p)
	m.Background = bg
	mask := segment(p, bg, thresh)
	if mask == nil {
		return m
	}
	m.Found = true
	shapeStats(&m, mask, chamfer(mask, p.w, p.h), p.w, p.h)
	// Appearance is measured on the core: the mask without its faint anti-aliased rim, so that chamfer
	// rings follow the true edge.
	core := coreMask(p, mask, bg)
	dist := chamfer(core, p.w, p.h)
	interiorColor(&m, p, core, dist)
	measureOutline(&m, p, core, dist)
	marked := measureMark(&m, p, dist)
	measurePattern(&m, p, core, dist, marked)
	return m
}

// borderColor finds the background: the Lab values of the two outermost pixel rings are binned in
// cubes of side 8; the fullest bin's pixels, and every border pixel within ΔE 12 of their mean, give the
// per-channel median. The segmentation threshold is max(12, 1.5 × the 90th percentile of
// the border pixels' ΔE to that median), which adapts to noise.
func borderColor(p *picture) (Lab, float64) {
	var idx []int
	for y := range p.h {
		for x := range p.w {
			if x < 2 || y < 2 || x >= p.w-2 || y >= p.h-2 {
				idx = append(idx, y*p.w+x)
			}
		}
	}
	type key [3]int
	bins := map[key][]int{}
	var best key
	for _, i := range idx {
		c := p.lab[i]
		k := key{int(math.Floor(c.L / 8)), int(math.Floor(c.A / 8)), int(math.Floor(c.B / 8))}
		bins[k] = append(bins[k], i)
		if len(bins[k]) > len(bins[best]) || (len(bins[k]) == len(bins[best]) && lessKey(k, best)) {
			best = k
		}
	}
	var mean Lab
	for _, i := range bins[best] {
		mean.L, mean.A, mean.B = mean.L+p.lab[i].L, mean.A+p.lab[i].A, mean.B+p.lab[i].B
	}
	n := float64(len(bins[best]))
	mean = Lab{mean.L / n, mean.A / n, mean.B / n}
	var sel []int
	for _, i := range idx {
		if DeltaE(p.lab[i], mean) < 12 {
			sel = append(sel, i)
		}
	}
	bg, _ := medianColor(p, sel)
	var ds []float64
	for _, i := range idx {
		ds = append(ds, DeltaE(p.lab[i], bg))
	}
	return bg, math.Max(12, 1.5*percentile(ds, 0.9))
}

func lessKey(a, b [3]int) bool { return slices.Compare(a[:], b[:]) < 0 }

// medianColor returns the per-channel medians, in Lab and in sRGB, of the given pixels.
func medianColor(p *picture, idx []int) (Lab, rgbF) {
	if len(idx) == 0 {
		return Lab{}, rgbF{}
	}
	ch := func(f func(i int) float64) float64 {
		v := make([]float64, len(idx))
		for k, i := range idx {
			v[k] = f(i)
		}
		return percentile(v, 0.5)
	}
	return Lab{ch(func(i int) float64 { return p.lab[i].L }), ch(func(i int) float64 { return p.lab[i].A }), ch(func(i int) float64 { return p.lab[i].B })},
		rgbF{ch(func(i int) float64 { return p.rgb[i].r }), ch(func(i int) float64 { return p.rgb[i].g }), ch(func(i int) float64 { return p.rgb[i].b })}
}

// percentile returns the q-quantile (nearest rank on the sorted values); it sorts a copy.
func percentile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// segment marks the pixels whose ΔE to the background exceeds the threshold, keeps the largest
// 4-connected component and fills its holes (regions not 4-connected to the image border). It returns
// nil when no component of at least 4 pixels exists.
func segment(p *picture, bg Lab, thresh float64) []bool {
	n := p.w * p.h
	on := make([]bool, n)
	for i := range n {
		on[i] = DeltaE(p.lab[i], bg) > thresh
	}
	label := make([]int, n)
	bestLabel, bestSize, next := 0, 0, 1
	for i := range n {
		if !on[i] || label[i] != 0 {
			continue
		}
		size := flood(on, label, i, next, p.w, p.h)
		if size > bestSize {
			bestLabel, bestSize = next, size
		}
		next++
	}
	if bestSize < 4 {
		return nil
	}
	// Outside = not in the component and 4-connected to the border.
	comp := make([]bool, n)
	for i := range n {
		comp[i] = label[i] == bestLabel
	}
	free := make([]bool, n)
	for i := range n {
		free[i] = !comp[i]
	}
	outside := make([]int, n)
	for y := range p.h {
		for x := range p.w {
			i := y*p.w + x
			if (x == 0 || y == 0 || x == p.w-1 || y == p.h-1) && free[i] && outside[i] == 0 {
				flood(free, outside, i, 1, p.w, p.h)
			}
		}
	}
	mask := make([]bool, n)
	for i := range n {
		mask[i] = comp[i] || (free[i] && outside[i] == 0)
	}
	return mask
}

// flood labels the 4-connected region of on-pixels containing start and returns its size.
func flood(on []bool, label []int, start, l, w, h int) int {
	stack := []int{start}
	label[start] = l
	size := 0
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		size++
		x, y := i%w, i/w
		for _, nb := range [4][2]int{{x - 1, y}, {x + 1, y}, {x, y - 1}, {x, y + 1}} {
			if nb[0] < 0 || nb[1] < 0 || nb[0] >= w || nb[1] >= h {
				continue
			}
			j := nb[1]*w + nb[0]
			if on[j] && label[j] == 0 {
				label[j] = l
				stack = append(stack, j)
			}
		}
	}
	return size
}

// coreMask drops from the mask the rim pixels (4-adjacent to a non-mask pixel) whose ΔE to the
// background is less than half the largest ΔE among their mask neighbours (3×3): anti-aliased pixels
// less than half covered by the object.
func coreMask(p *picture, mask []bool, bg Lab) []bool {
	core := make([]bool, len(mask))
	copy(core, mask)
	at := func(x, y int) bool { return x >= 0 && y >= 0 && x < p.w && y < p.h && mask[y*p.w+x] }
	for i, on := range mask {
		x, y := i%p.w, i/p.w
		if !on || (at(x-1, y) && at(x+1, y) && at(x, y-1) && at(x, y+1)) {
			continue
		}
		d, most := DeltaE(p.lab[i], bg), 0.0
		for dy := -1; dy <= 1; dy++ {
			for dx := -1; dx <= 1; dx++ {
				if at(x+dx, y+dy) {
					most = math.Max(most, DeltaE(p.lab[(y+dy)*p.w+x+dx], bg))
				}
			}
		}
		core[i] = d >= 0.5*most
	}
	return core
}

// chamfer returns, for each mask pixel, the distance from its centre to the nearest centre of a
// non-mask pixel (outside the image counts as non-mask), with the 3-4 chamfer (steps 1 and 4/3); 0
// outside the mask. A pixel on the object's rim has 1.
func chamfer(mask []bool, w, h int) []float64 {
	d := make([]float64, w*h)
	inf := math.Inf(1)
	at := func(x, y int) float64 {
		if x < 0 || y < 0 || x >= w || y >= h {
			return 0
		}
		return d[y*w+x]
	}
	for i := range d {
		if mask[i] {
			d[i] = inf
		}
	}
	const diag = 4.0 / 3
	for y := range h {
		for x := range w {
			i := y*w + x
			if mask[i] {
				d[i] = math.Min(d[i], math.Min(math.Min(at(x-1, y)+1, at(x, y-1)+1), math.Min(at(x-1, y-1)+diag, at(x+1, y-1)+diag)))
			}
		}
	}
	for y := h - 1; y >= 0; y-- {
		for x := w - 1; x >= 0; x-- {
			i := y*w + x
			if mask[i] {
				d[i] = math.Min(d[i], math.Min(math.Min(at(x+1, y)+1, at(x, y+1)+1), math.Min(at(x+1, y+1)+diag, at(x-1, y+1)+diag)))
			}
		}
	}
	return d
}

// resample returns img scaled to 64×64: each output pixel is the mean of 4×4 samples taken at the
// nearest source pixel (a box filter when shrinking, nearest-neighbour when enlarging).
func resample(img image.Image) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, ImageSize, ImageSize))
	if b.Dx() == 0 || b.Dy() == 0 {
		return out
	}
	sx, sy := float64(b.Dx())/ImageSize, float64(b.Dy())/ImageSize
	for y := range ImageSize {
		for x := range ImageSize {
			var r, g, bl float64
			for j := range 4 {
				for i := range 4 {
					px := b.Min.X + min(b.Dx()-1, int((float64(x)+(float64(i)+0.5)/4)*sx))
					py := b.Min.Y + min(b.Dy()-1, int((float64(y)+(float64(j)+0.5)/4)*sy))
					cr, cg, cb, _ := img.At(px, py).RGBA()
					r, g, bl = r+float64(cr), g+float64(cg), bl+float64(cb)
				}
			}
			q := func(v float64) uint8 { return uint8(math.Round(v / 16 / 257)) }
			out.Pix[out.PixOffset(x, y)+0], out.Pix[out.PixOffset(x, y)+1], out.Pix[out.PixOffset(x, y)+2] = q(r), q(g), q(bl)
			out.Pix[out.PixOffset(x, y)+3] = 255
		}
	}
	return out
}
