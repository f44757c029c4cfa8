package toyworld

import "math"

// interiorColor measures the object's colour: the colour of the densest cluster (modeColor) of the
// deep pixels (chamfer distance ≥ 3 if at least 15 such pixels, else ≥ 2, else all). The near-pure
// pixels (ΔE < 15 to the renderer's pure white or pure black: marks and most outlines) are left out when
// the others make at least 20% of the deep pixels and are chromatic (chroma of their median ≥ 12) or the
// commoner pure group makes less than 20%; otherwise the object is white or black (a grey remainder is
// its pattern) and the cluster is sought in the commoner pure group.
func interiorColor(m *Measurement, p *picture, mask []bool, dist []float64) {
	var deep []int
	for _, minD := range []float64{3, 2} {
		deep = deep[:0]
		for i, on := range mask {
			if on && dist[i] >= minD {
				deep = append(deep, i)
			}
		}
		if len(deep) >= 15 {
			break
		}
	}
	if len(deep) == 0 {
		for i, on := range mask {
			if on {
				deep = append(deep, i)
			}
		}
	}
	wl, bl := pureWhite.lab(), pureBlack.lab()
	var rest, white, black []int
	for _, i := range deep {
		switch {
		case DeltaE(p.lab[i], wl) < 15:
			white = append(white, i)
		case DeltaE(p.lab[i], bl) < 15:
			black = append(black, i)
		default:
			rest = append(rest, i)
		}
	}
	pure := white
	if len(black) > len(white) {
		pure = black
	}
	nd := float64(len(deep))
	restColor, _ := medianColor(p, rest)
	chroma := math.Hypot(restColor.A, restColor.B)
	var sel []int
	switch {
	case float64(len(rest)) >= 0.1*nd && (chroma >= 12 || float64(len(pure)) < 0.2*nd):
		sel = rest
	case len(pure) > 0:
		sel = pure
	default:
		sel = deep
	}
	m.Color = modeColor(p, sel)
}

// modeColor returns the per-channel median of the densest colour cluster of the given pixels: the pixel
// with the most others within ΔE 8 (compared against at most 400 evenly spaced pixels) picks the
// cluster, the pixels within ΔE 10 of it.
func modeColor(p *picture, idx []int) Lab {
	if len(idx) == 0 {
		return Lab{}
	}
	step := max(1, len(idx)/400)
	best, bestN := idx[0], -1
	for _, i := range idx {
		n := 0
		for k := 0; k < len(idx); k += step {
			if DeltaE(p.lab[i], p.lab[idx[k]]) < 8 {
				n++
			}
		}
		if n > bestN {
			best, bestN = i, n
		}
	}
	var near []int
	for _, i := range idx {
		if DeltaE(p.lab[i], p.lab[best]) < 10 {
			near = append(near, i)
		}
	}
	c, _ := medianColor(p, near)
	return c
}

// measureOutline measures the outline. Ring k holds the mask pixels whose chamfer distance rounds to k;
// c_k is its per-channel median. Anti-aliased rim pixels mix Color and the background, so a ring is
// outline when c_k lies more than 15 (Lab) from the segment [Color, background]. The outline starts at
// the first such ring among 1 and 2; its colour is the ring (1..3) farthest from that segment; its width
// is the number of consecutive outline rings plus f, the projection in [0, 1] of the next ring's mean
// onto the line from Color to the outline colour. No outline: width 0, colour = Color.
func measureOutline(m *Measurement, p *picture, mask []bool, dist []float64) {
	base := m.Color
	rings := make([][]int, 6)
	for i, on := range mask {
		if k := int(math.Round(dist[i])); on && k < len(rings) {
			rings[k] = append(rings[k], i)
		}
	}
	var c [6]Lab
	var off [6]float64
	for k := 1; k < len(rings); k++ {
		if len(rings[k]) >= 3 {
			c[k], _ = medianColor(p, rings[k])
			off[k] = segmentDistance(c[k], base, m.Background)
		}
	}
	m.OutlineColor = base
	first := 0
	for _, k := range []int{1, 2} {
		if off[k] > 15 {
			first = k
			break
		}
	}
	if first == 0 {
		return
	}
	far := first
	for k := first; k <= 3; k++ {
		if off[k] > off[far] {
			far = k
		}
	}
	m.OutlineColor = c[far]
	k := first
	for k < len(rings)-1 && off[k] > 15 {
		m.OutlineWidth++
		k++
	}
	if len(rings[k]) > 0 {
		var mean Lab
		for _, i := range rings[k] {
			mean.L, mean.A, mean.B = mean.L+p.lab[i].L, mean.A+p.lab[i].A, mean.B+p.lab[i].B
		}
		n := float64(len(rings[k]))
		mean = Lab{mean.L / n, mean.A / n, mean.B / n}
		m.OutlineWidth += clamp01(projection(mean, base, m.OutlineColor))
	}
}

// projection returns t such that a + t·(b − a) is the point of the line through a and b nearest to p.
func projection(p, a, b Lab) float64 {
	dl, da, db := b.L-a.L, b.A-a.A, b.B-a.B
	nn := dl*dl + da*da + db*db
	if nn == 0 {
		return 0
	}
	return ((p.L-a.L)*dl + (p.A-a.A)*da + (p.B-a.B)*db) / nn
}

// segmentDistance is the Lab distance from p to the segment [a, b].
func segmentDistance(p, a, b Lab) float64 {
	t := clamp01(projection(p, a, b))
	return DeltaE(p, Lab{a.L + t*(b.L-a.L), a.A + t*(b.A-a.A), a.B + t*(b.B-a.B)})
}

// markLikeness of an sRGB pixel px is the largest, over M ∈ {white, black} with |M − c| ≥ 0.25, of the
// projection (px − c)·(M − c)/|M − c|² in sRGB, c the interior colour: 1 on a mark of colour M, exactly
// the tone (≤ 0.5) on a pattern mark, 0 on the plain interior. The second result is +1 when white won,
// −1 when black won, 0 when neither qualifies.
func markLikeness(px, c rgbF) (float64, float64) {
	best, tone := math.Inf(-1), 0.0
	for _, mk := range []struct {
		m    rgbF
		tone float64
	}{{pureWhite, 1}, {pureBlack, -1}} {
		dr, dg, db := mk.m.r-c.r, mk.m.g-c.g, mk.m.b-c.b
		nn := dr*dr + dg*dg + db*db
		if nn < 0.25*0.25 {
			continue
		}
		if v := ((px.r-c.r)*dr + (px.g-c.g)*dg + (px.b-c.b)*db) / nn; v > best {
			best, tone = v, mk.tone
		}
	}
	if math.IsInf(best, -1) {
		return 0, 0
	}
	return best, tone
}

// measureMark finds the inner mark: among the mask pixels beyond the outline (chamfer distance ≥
// max(2, OutlineWidth + 1.5)), those with mark-likeness ≥ 0.55 (pattern marks stay ≤ 0.5) in
// 8-connected groups of at least 2 pixels form the mark (a ring may break into arcs), if there are at
// least 3 of them. Its centroid is (MarkX, MarkY), MarkSpread the
// mean distance of its pixels to the centroid, MarkTone the sign of the summed likeness-weighted tones.
// It is a ring when the likeness at the pixel under the centroid is < 0.35 and MarkSpread ≥ 1.4 (a
// hollow blob), otherwise a dot. Otherwise "none". It returns the mark's pixels (nil without a mark).
func measureMark(m *Measurement, p *picture, dist []float64) []bool {
	m.Mark = "none"
	minD := math.Max(2, m.OutlineWidth+1.5)
	c := labToRGB(m.Color)
	n := p.w * p.h
	like, tones := make([]float64, n), make([]float64, n)
	on := make([]bool, n)
	for i := range n {
		if dist[i] >= minD {
			like[i], tones[i] = markLikeness(p.rgb[i], c)
			on[i] = like[i] >= 0.55
		}
	}
	// Keep the 8-connected groups of at least 2 pixels (isolated pixels are noise).
	label := make([]int, n)
	keep := map[int]bool{}
	size, next := 0, 1
	for i := range n {
		if on[i] && label[i] == 0 {
			if k := flood8(on, label, i, next, p.w, p.h); k >= 2 {
				keep[next] = true
				size += k
			}
			next++
		}
	}
	if size < 3 {
		return nil
	}
	var sx, sy, st float64
	for i := range n {
		if keep[label[i]] {
			sx += float64(i%p.w) + 0.5
			sy += float64(i/p.w) + 0.5
			st += tones[i] * like[i]
		}
	}
	k := float64(size)
	m.MarkX, m.MarkY, m.MarkPixels = sx/k, sy/k, size
	var spread float64
	for i := range n {
		if keep[label[i]] {
			spread += math.Hypot(float64(i%p.w)+0.5-m.MarkX, float64(i/p.w)+0.5-m.MarkY)
		}
	}
	m.MarkSpread = spread / k
	m.MarkTone = math.Copysign(1, st)
	cx, cy := min(p.w-1, max(0, int(m.MarkX))), min(p.h-1, max(0, int(m.MarkY)))
	centre, _ := markLikeness(p.rgb[cy*p.w+cx], c)
	m.Mark = "dot"
	if centre < 0.35 && m.MarkSpread >= 1.4 {
		m.Mark = "ring"
	}
	marked := make([]bool, n)
	for i := range n {
		marked[i] = keep[label[i]]
	}
	return marked
}

// labToRGB inverts rgbF.lab (clamped to the sRGB gamut).
func labToRGB(c Lab) rgbF {
	const d = 6.0 / 29
	finv := func(t float64) float64 {
		if t > d {
			return t * t * t
		}
		return 3 * d * d * (t - 4.0/29)
	}
	fy := (c.L + 16) / 116
	x, y, z := 0.95047*finv(fy+c.A/500), finv(fy), 1.08883*finv(fy-c.B/200)
	gamma := func(v float64) float64 {
		if v <= 0.0031308 {
			return clamp01(12.92 * v)
		}
		return clamp01(1.055*math.Pow(v, 1/2.4) - 0.055)
	}
	return rgbF{
		gamma(3.2406*x - 1.5372*y - 0.4986*z),
		gamma(-0.9689*x + 1.8758*y + 0.0415*z),
		gamma(0.0557*x - 0.2040*y + 1.0570*z),
	}
}

// flood8 labels the 8-connected region of on-pixels containing start and returns its size.
func flood8(on []bool, label []int, start, l, w, h int) int {
	stack := []int{start}
	label[start] = l
	size := 0
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		size++
		x, y := i%w, i/w
		for dy := -1; dy <= 1; dy++ {
			for dx := -1; dx <= 1; dx++ {
				xx, yy := x+dx, y+dy
				if xx < 0 || yy < 0 || xx >= w || yy >= h {
					continue
				}
				if j := yy*w + xx; on[j] && label[j] == 0 {
					label[j] = l
					stack = append(stack, j)
				}
			}
		}
	}
	return size
}
