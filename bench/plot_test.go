package bench

import (
	"encoding/json"
	"image/color"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/neti/toyworld"
)

// TestPlotMarkers checks that each summary point is drawn in its method's colour where the axes put it,
// and the axis span of those points.
func TestPlotMarkers(t *testing.T) {
	r := &Report{Concepts: make([]ConceptResult, 2), Summary: []Summary{
		{Method: NeTI, Fidelity: 0.8, Editability: 0.4}, {Method: NeTI, Truncation: 8, Fidelity: 0.5, Editability: 0.7},
		{Method: TI, Fidelity: 0.3, Editability: 0.6},
	}}
	img, at := r.render()
	for _, s := range r.Summary {
		pt := at(s.Fidelity, s.Editability)
		assert.Equal(t, methodColors[s.Method], img.RGBAAt(pt.X, pt.Y), "%+v at %v", s, pt)
	}
	lo, hi, step := axisRange([]float64{0.8, 0.5, 0.3})
	assert.InDelta(t, 0.2, lo, 1e-9)
	assert.InDelta(t, 0.9, hi, 1e-9)
	assert.InDelta(t, 0.1, step, 1e-9)
	left, right := at(lo, 0.5), at(hi, 0.5)
	assert.True(t, left.X > 0 && right.X < PlotWidth-200, "the x axis spans the plot area left of the legend: %v to %v", left, right)
}

// TestPlotErrorBars checks that a point's ± standard-error bars are drawn in its colour out to their
// ends, and that the axes make room for them.
func TestPlotErrorBars(t *testing.T) {
	r := &Report{Concepts: make([]ConceptResult, 1), Summary: []Summary{
		{Method: PPlus, Fidelity: 0.5, Editability: 0.5, FidelitySE: 0.1, EditabilitySE: 0.05},
		{Method: TI, Fidelity: 0.52, Editability: 0.52},
	}}
	img, at := r.render()
	c := methodColors[PPlus]
	for _, tc := range []struct {
		x, y float64
		what string
	}{{0.4, 0.5, "left end of the fidelity bar"}, {0.6, 0.5, "right end of the fidelity bar"},
		{0.5, 0.55, "top of the editability bar"}, {0.5, 0.45, "bottom of the editability bar"}} {
		pt := at(tc.x, tc.y)
		assert.True(t, pt.In(img.Bounds()), "%s at %v: on the plot (the axes make room)", tc.what, pt)
		assert.Equal(t, c, img.RGBAAt(pt.X, pt.Y), "%s at %v", tc.what, pt)
	}
	end := at(0.6, 0.5)
	assert.NotEqual(t, c, img.RGBAAt(end.X+3, end.Y), "nothing past the bar's end")
}

// TestPlotLegend checks that the legend, right of the plot area, shows every method's colour, and the
// truncation note only when a truncation is plotted.
func TestPlotLegend(t *testing.T) {
	legendPixels := func(r *Report, c color.RGBA) int {
		img, _ := r.render()
		n := 0
		for y := range PlotHeight {
			for x := PlotWidth - 220; x < PlotWidth; x++ {
				if img.RGBAAt(x, y) == c {
					n++
				}
			}
		}
		return n
	}
	r := &Report{Concepts: make([]ConceptResult, 1)}
	for _, m := range Methods {
		r.Summary = append(r.Summary, Summary{Method: m, Fidelity: 0.5, Editability: 0.5})
	}
	for _, m := range Methods {
		assert.Positive(t, legendPixels(r, methodColors[m]), "%s in the legend", m)
	}
	before := legendPixels(r, methodColors[NeTI])
	r.Summary = append(r.Summary, Summary{Method: NeTI, Truncation: 8, Fidelity: 0.6, Editability: 0.4})
	assert.Greater(t, legendPixels(r, methodColors[NeTI]), before, "the truncation note's square is NeTI's colour")
}

// TestPlotCommittedReports draws the committed bench.json files of docs/bench: they still load, and
// plot at the plot's size.
func TestPlotCommittedReports(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "docs", "bench", "*.json"))
	require.NoError(t, err)
	for _, depth := range []string{"*", filepath.Join("*", "*")} { // v1/, v1/steps400/, heldout/
		more, err := filepath.Glob(filepath.Join("..", "docs", "bench", depth, "*.json"))
		require.NoError(t, err)
		files = append(files, more...)
	}
	require.NotEmpty(t, files)
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		var r Report
		require.NoError(t, json.Unmarshal(data, &r), f)
		require.NotEmpty(t, r.Summary, f)
		require.NotEmpty(t, r.Concepts, f)
		assert.NotEmpty(t, r.Concepts[0].Runs[0].Curve, f)
		assert.Equal(t, PlotWidth, r.Plot().Bounds().Dx(), f)
		if dir := os.Getenv("NETI_BENCH_PLOT_DIR"); dir != "" { // a preview of the plots, to look at
			name := filepath.Join(dir, filepath.Base(filepath.Dir(f))+"-"+filepath.Base(f)+".png")
			require.NoError(t, toyworld.WritePNG(name, r.Plot()))
		}
	}
}
