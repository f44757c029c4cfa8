package bench

import (
	"fmt"
	"image"
	"image/color"
	stddraw "image/draw"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Size of the bench plot in pixels.
const (
	PlotWidth  = 800
	PlotHeight = 600
)

// plotDPI is the plot's resolution: pixels per inch (gonum's lengths are points, 1/72 inch).
const plotDPI = 96

// pixels is n pixels of the plot as a gonum length.
func pixels(n float64) vg.Length { return vg.Length(n * 72 / plotDPI) }

// methodColors are the methods' colours in the plot; other methods are grey (otherColor).
var methodColors = map[string]color.RGBA{
	NeTI:         {31, 119, 180, 255},
	NeTINoBypass: {255, 127, 14, 255},
	PPlus:        {44, 160, 44, 255},
	TI:           {214, 39, 40, 255},
}

// otherColor is the plot colour of a method without one in methodColors.
var otherColor = color.RGBA{120, 120, 120, 255}

// sans is the plot's typeface (gonum's default is a serif).
var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

// Plot draws the report's summary as a PlotWidth × PlotHeight scatter plot like the paper's
// fidelity/editability figure (gonum.org/v1/plot): reconstruction fidelity on x, context editability on
// y, both averaged over the concepts; one colour per method (legend on the right), a disk for the full
// mapper and a square, labelled with k, for NeTI truncated to k hidden units, joined by a line in
// truncation order; thin capped bars span ± one standard error (Summary.FidelitySE, EditabilitySE) on
// each axis. The axes span the points and bars with a margin, within [0, 1].
func (r *Report) Plot() *image.RGBA {
	img, _ := r.render()
	return img
}

// render draws Plot's image and returns it with the function that maps a data point (fidelity,
// editability) to the pixel it falls in (x right, y down), for the tests.
func (r *Report) render() (*image.RGBA, func(fidelity, editability float64) image.Point) {
	p := plot.New()
	plural := "s"
	if len(r.Concepts) == 1 {
		plural = ""
	}
	p.Title.Text = fmt.Sprintf("fidelity vs editability, mean of %d concept%s", len(r.Concepts), plural)
	p.Title.TextStyle.Font = font.From(sans, 14)
	p.Title.Padding = pixels(12)
	p.X.Label.Text, p.Y.Label.Text = "fidelity (reconstruction)", "editability (new contexts)"
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sans, 12)
		a.Tick.Label.Font = font.From(sans, 10)
	}
	grid := plotter.NewGrid()
	grid.Vertical.Color, grid.Horizontal.Color = color.RGBA{225, 225, 225, 255}, color.RGBA{225, 225, 225, 255}
	grid.Vertical.Width, grid.Horizontal.Width = pixels(1), pixels(1)
	p.Add(grid)

	// The references: a dashed vertical line at each kind's mean fidelity, labelled at the top.
	refColor := color.RGBA{90, 90, 90, 255}
	var refXs []float64
	for _, kind := range ReferenceKinds {
		ref, ok := r.References[kind]
		if !ok {
			continue
		}
		refXs = append(refXs, ref.Fidelity)
	}
	legend := plot.NewLegend()
	legend.TextStyle.Font = font.From(sans, 12)
	legend.Top, legend.Left, legend.Padding = true, true, pixels(10)
	var methods []string
	for _, s := range r.Summary {
		if !slices.Contains(methods, s.Method) {
			methods = append(methods, s.Method)
		}
	}
	for _, m := range methods {
		c, ok := methodColors[m]
		if !ok {
			c = otherColor
		}
		var pts []Summary
		for _, s := range r.Summary {
			if s.Method == m {
				pts = append(pts, s)
			}
		}
		// Truncations ascending, then the full mapper (truncation 0 keeps every unit).
		slices.SortFunc(pts, func(a, b Summary) int { return truncOrder(a.Truncation) - truncOrder(b.Truncation) })
		xys := make(plotter.XYs, len(pts))
		var full, truncated plotter.XYs
		var labels []string
		bars := draw.LineStyle{Color: c, Width: pixels(2)}
		xErr := &plotter.XErrorBars{LineStyle: bars, CapWidth: pixels(6)}
		yErr := &plotter.YErrorBars{LineStyle: bars, CapWidth: pixels(6)}
		for i, s := range pts {
			xys[i] = plotter.XY{X: s.Fidelity, Y: s.Editability}
			xErr.XYs, yErr.XYs = append(xErr.XYs, xys[i]), append(yErr.XYs, xys[i])
			xErr.XErrors = append(xErr.XErrors, struct{ Low, High float64 }{s.FidelitySE, s.FidelitySE})
			yErr.YErrors = append(yErr.YErrors, struct{ Low, High float64 }{s.EditabilitySE, s.EditabilitySE})
			if s.Truncation == 0 {
				full = append(full, xys[i])
			} else {
				truncated, labels = append(truncated, xys[i]), append(labels, fmt.Sprint(s.Truncation))
			}
		}
		if len(xys) > 1 {
			p.Add(&plotter.Line{XYs: xys, LineStyle: draw.LineStyle{Color: c, Width: pixels(3)}})
		}
		p.Add(xErr, yErr) // under the markers
		p.Add(markers(full, draw.CircleGlyph{}, 8, color.Black), markers(full, draw.CircleGlyph{}, 6, c))
		p.Add(markers(truncated, draw.BoxGlyph{}, 7.6, color.Black), markers(truncated, draw.BoxGlyph{}, 5.3, c))
		if len(labels) > 0 {
			style := text.Style{Color: c, Font: font.From(sans, 12), YAlign: draw.YCenter, Handler: plot.DefaultTextHandler}
			p.Add(&plotter.Labels{XYs: truncated, Labels: labels, TextStyle: slices.Repeat([]text.Style{style}, len(labels)),
				Offset: vg.Point{X: pixels(10)}})
		}
		legend.Add(m, markers(nil, draw.CircleGlyph{}, 7, c))
	}
	if slices.ContainsFunc(r.Summary, func(s Summary) bool { return s.Truncation > 0 }) {
		legend.Add("k: truncated to k units", markers(nil, draw.BoxGlyph{}, 7.6, color.Black),
			markers(nil, draw.BoxGlyph{}, 5.3, methodColors[NeTI]))
	}

	var xs, ys []float64
	for _, s := range r.Summary {
		xs = append(xs, s.Fidelity-s.FidelitySE, s.Fidelity+s.FidelitySE)
		ys = append(ys, s.Editability-s.EditabilitySE, s.Editability+s.EditabilitySE)
	}
	xs = append(xs, refXs...)
	if len(refXs) > 0 {
		_, yHi, _ := axisRange(ys)
		yLo, _, _ := axisRange(ys)
		for _, kind := range ReferenceKinds {
			ref, ok := r.References[kind]
			if !ok {
				continue
			}
			line := plotter.XYs{{X: ref.Fidelity, Y: yLo}, {X: ref.Fidelity, Y: yHi}}
			p.Add(&plotter.Line{XYs: line, LineStyle: draw.LineStyle{Color: refColor, Width: pixels(1.5),
				Dashes: []vg.Length{pixels(6), pixels(4)}}})
			style := text.Style{Color: refColor, Font: font.From(sans, 10), Rotation: math.Pi / 2, XAlign: draw.XRight,
				YAlign: draw.YBottom, Handler: plot.DefaultTextHandler}
			p.Add(&plotter.Labels{XYs: plotter.XYs{{X: ref.Fidelity, Y: yHi}}, Labels: []string{referenceLabel(kind)},
				TextStyle: []text.Style{style}, Offset: vg.Point{X: -pixels(3), Y: -pixels(4)}})
		}
		legend.Add("references (dashed)", &plotter.Line{LineStyle: draw.LineStyle{Color: refColor, Width: pixels(1.5),
			Dashes: []vg.Length{pixels(6), pixels(4)}}})
	}
	for _, a := range []struct {
		axis *plot.Axis
		vs   []float64
	}{{&p.X, xs}, {&p.Y, ys}} {
		lo, hi, step := axisRange(a.vs)
		a.axis.Min, a.axis.Max = lo, hi // after Add, which widens the axes to the plotters' data
		var ticks []plot.Tick
		for i := 0; lo+float64(i)*step <= hi+1e-9; i++ {
			v := lo + float64(i)*step
			ticks = append(ticks, plot.Tick{Value: v, Label: fmt.Sprintf("%.2f", v)})
		}
		a.axis.Tick.Marker = plot.ConstantTicks(ticks)
	}

	canvas := vgimg.NewWith(vgimg.UseWH(pixels(PlotWidth), pixels(PlotHeight)), vgimg.UseDPI(plotDPI))
	dc := draw.New(canvas)
	area := draw.Crop(dc, pixels(16), -pixels(230), pixels(12), -pixels(16)) // the legend on the right
	p.Draw(area)
	legend.Draw(draw.Crop(dc, pixels(PlotWidth-215), -pixels(10), pixels(12), -pixels(70)))

	data := p.DataCanvas(area)
	trX, trY := p.Transforms(&data)
	at := func(fidelity, editability float64) image.Point {
		x, y := float64(trX(fidelity))*plotDPI/72, float64(trY(editability))*plotDPI/72
		return image.Pt(int(math.Floor(x)), int(math.Floor(PlotHeight-y)))
	}
	img, ok := canvas.Image().(*image.RGBA)
	if !ok {
		img = image.NewRGBA(canvas.Image().Bounds())
		stddraw.Draw(img, img.Bounds(), canvas.Image(), image.Point{}, stddraw.Src)
	}
	return img, at
}

// referenceLabel is a reference kind's label in the plot.
func referenceLabel(kind string) string {
	switch kind {
	case RefSuperCategory:
		return "the word"
	case RefWords:
		return "coarse words"
	case RefDescription:
		return "description"
	case RefCeiling:
		return "VAE ceiling"
	}
	return kind
}

// markers is a scatter of glyphs of the given shape, radius (in pixels) and colour at xys (none for a
// legend thumbnail).
func markers(xys plotter.XYs, shape draw.GlyphDrawer, radius float64, c color.Color) *plotter.Scatter {
	return &plotter.Scatter{XYs: xys, GlyphStyle: draw.GlyphStyle{Color: c, Radius: pixels(radius), Shape: shape}}
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
