package neti

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"slices"
)

// Size of the bench plot in pixels.
const (
	BenchPlotWidth  = 800
	BenchPlotHeight = 600
)

// benchColors are the methods' colours in the plot; other methods are grey.
var benchColors = map[string]color.RGBA{
	BenchNeTI:         {31, 119, 180, 255},
	BenchNeTINoBypass: {255, 127, 14, 255},
	BenchPPlus:        {44, 160, 44, 255},
	BenchTI:           {214, 39, 40, 255},
}

// Plot draws the report's summary as a BenchPlotWidth × BenchPlotHeight scatter plot like the paper's
// fidelity/editability figure: reconstruction fidelity on x, context editability on y, both averaged
// over the concepts; one colour per method (legend on the right), a disk for the full mapper and a
// square, labelled with k, for NeTI truncated to k hidden units, joined by a line in truncation order;
// thin bars span ± one standard error (BenchSummary.FidelitySE, EditabilitySE) on each axis. The axes span
// the points and bars with a margin, within [0, 1].
func (r *BenchReport) Plot() *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, BenchPlotWidth, BenchPlotHeight))
	white, black, grid := color.RGBA{255, 255, 255, 255}, color.RGBA{0, 0, 0, 255}, color.RGBA{225, 225, 225, 255}
	fillRect(img, 0, 0, BenchPlotWidth, BenchPlotHeight, white)
	left, right, top, bottom := 90, BenchPlotWidth-230, 60, BenchPlotHeight-70 // the plot area

	var xs, ys []float64
	for _, s := range r.Summary {
		xs = append(xs, s.Fidelity-s.FidelitySE, s.Fidelity+s.FidelitySE)
		ys = append(ys, s.Editability-s.EditabilitySE, s.Editability+s.EditabilitySE)
	}
	x0, x1, xStep := axisRange(xs)
	y0, y1, yStep := axisRange(ys)
	px := func(v float64) int { return left + int(math.Round((v-x0)/(x1-x0)*float64(right-left))) }
	py := func(v float64) int { return bottom - int(math.Round((v-y0)/(y1-y0)*float64(bottom-top))) }

	for v := x0; v <= x1+1e-9; v += xStep {
		fillRect(img, px(v), top, 1, bottom-top, grid)
		label := fmt.Sprintf("%.2f", v)
		drawText(img, px(v)-textWidth(label, 2)/2, bottom+14, label, black, 2)
	}
	for v := y0; v <= y1+1e-9; v += yStep {
		fillRect(img, left, py(v), right-left, 1, grid)
		label := fmt.Sprintf("%.2f", v)
		drawText(img, left-10-textWidth(label, 2), py(v)-glyphH, label, black, 2)
	}
	fillRect(img, left, top, 2, bottom-top+1, black)
	fillRect(img, left, bottom, right-left+1, 2, black)
	plural := "s"
	if len(r.Concepts) == 1 {
		plural = ""
	}
	title := fmt.Sprintf("fidelity vs editability, mean of %d concept%s", len(r.Concepts), plural)
	drawText(img, (BenchPlotWidth-textWidth(title, 2))/2, 12, title, black, 2)
	xLabel := "fidelity (reconstruction)"
	drawText(img, (left+right-textWidth(xLabel, 2))/2, bottom+40, xLabel, black, 2)
	drawText(img, left-60, top-28, "editability (new contexts)", black, 2)

	var methods []string
	for _, s := range r.Summary {
		if !slices.Contains(methods, s.Method) {
			methods = append(methods, s.Method)
		}
	}
	for i, m := range methods {
		c, ok := benchColors[m]
		if !ok {
			c = color.RGBA{120, 120, 120, 255}
		}
		var pts []BenchSummary
		for _, s := range r.Summary {
			if s.Method == m {
				pts = append(pts, s)
			}
		}
		// Truncations ascending, then the full mapper (truncation 0 keeps every unit).
		slices.SortFunc(pts, func(a, b BenchSummary) int { return truncOrder(a.Truncation) - truncOrder(b.Truncation) })
		for k := 1; k < len(pts); k++ {
			drawLine(img, px(pts[k-1].Fidelity), py(pts[k-1].Editability), px(pts[k].Fidelity), py(pts[k].Editability), c)
		}
		for _, s := range pts { // ± one standard error, under the markers
			xLo, xHi := px(s.Fidelity-s.FidelitySE), px(s.Fidelity+s.FidelitySE)
			yTop, yBottom := py(s.Editability+s.EditabilitySE), py(s.Editability-s.EditabilitySE)
			fillRect(img, xLo, py(s.Editability), xHi-xLo+1, 1, c)
			fillRect(img, px(s.Fidelity), yTop, 1, yBottom-yTop+1, c)
		}
		for _, s := range pts {
			x, y := px(s.Fidelity), py(s.Editability)
			if s.Truncation == 0 {
				fillDisk(img, x, y, 8, black)
				fillDisk(img, x, y, 6, c)
				continue
			}
			fillRect(img, x-6, y-6, 13, 13, black)
			fillRect(img, x-4, y-4, 9, 9, c)
			drawText(img, x+9, y-glyphH, fmt.Sprint(s.Truncation), c, 2)
		}
		ly := top + 10 + 30*i
		fillDisk(img, right+30, ly+glyphH, 7, c)
		drawText(img, right+46, ly, m, black, 2)
	}
	if !slices.ContainsFunc(r.Summary, func(s BenchSummary) bool { return s.Truncation > 0 }) {
		return img
	}
	note := top + 10 + 30*len(methods) + 10
	fillRect(img, right+24, note+1, 13, 13, black)
	fillRect(img, right+26, note+3, 9, 9, benchColors[BenchNeTI])
	drawText(img, right+46, note, "k: truncated", black, 2)
	drawText(img, right+46, note+20, "to k units", black, 2)
	return img
}

// truncOrder sorts truncations ascending with 0 (the full mapper) last.
func truncOrder(t int) int {
	if t == 0 {
		return math.MaxInt32
	}
	return t
}

// axisRange returns an axis span covering vs with a margin, on multiples of a round tick step, within
// [0, 1].
func axisRange(vs []float64) (lo, hi, step float64) {
	if len(vs) == 0 {
		return 0, 1, 0.2
	}
	lo, hi = slices.Min(vs), slices.Max(vs)
	pad := max(0.05, 0.1*(hi-lo))
	lo, hi = max(0, lo-pad), min(1, hi+pad)
	for _, s := range []float64{0.01, 0.02, 0.05, 0.1, 0.2} {
		step = s
		if (hi-lo)/s <= 8 {
			break
		}
	}
	lo = math.Floor(lo/step+1e-9) * step
	hi = math.Min(1, math.Ceil(hi/step-1e-9)*step)
	if hi <= lo {
		hi = lo + step
	}
	return lo, hi, step
}

// drawLine draws a 3-pixel-wide line from (x0, y0) to (x1, y1).
func drawLine(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA) {
	n := max(abs(x1-x0), abs(y1-y0), 1)
	for i := 0; i <= n; i++ {
		x := x0 + (x1-x0)*i/n
		y := y0 + (y1-y0)*i/n
		fillRect(img, x-1, y-1, 3, 3, c)
	}
}

// fillDisk fills the disk of radius r centred at (x, y).
func fillDisk(img *image.RGBA, x, y, r int, c color.RGBA) {
	for dy := -r; dy <= r; dy++ {
		for dx := -r; dx <= r; dx++ {
			if dx*dx+dy*dy <= r*r {
				fillRect(img, x+dx, y+dy, 1, 1, c)
			}
		}
	}
}

// abs is |v|.
func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
