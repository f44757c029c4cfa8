package neti

import (
	"bytes"
	stdcontext "context"
	"encoding/json"
	"image"
	"image/png"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/neti/toyworld"
)

func TestStepsToFidelity(t *testing.T) {
	curve := []BenchPoint{{50, 0.2}, {100, 0.45}, {150, 0.4}, {200, 0.61}}
	for _, tc := range []struct {
		level float64
		step  int
		ok    bool
	}{{0.1, 50, true}, {0.2, 50, true}, {0.41, 100, true}, {0.5, 200, true}, {0.61, 200, true}, {0.7, 0, false}} {
		step, ok := StepsToFidelity(curve, tc.level)
		assert.Equal(t, tc.ok, ok, "level %g", tc.level)
		assert.Equal(t, tc.step, step, "level %g: the first point at or above it", tc.level)
	}
	_, ok := StepsToFidelity(nil, 0)
	assert.False(t, ok, "an empty curve reaches nothing")
}

func TestBenchOptionsValidation(t *testing.T) {
	for _, tc := range []struct {
		opts BenchOptions
		want string
	}{
		{BenchOptions{Concepts: []string{}}, "Concepts is empty"},
		{BenchOptions{Concepts: []string{"a", "a"}}, `Concepts holds "a"`},
		{BenchOptions{Concepts: []string{"../x"}}, `Concepts holds "../x"`},
		{BenchOptions{Methods: []string{}}, "Methods is empty"},
		{BenchOptions{Methods: []string{"dreambooth"}}, `Methods holds "dreambooth"`},
		{BenchOptions{Methods: []string{"ti", "ti"}}, `Methods holds "ti"`},
		{BenchOptions{Truncations: []int{-1}}, "Truncations holds -1"},
		{BenchOptions{Truncations: []int{8, 8}}, "Truncations holds 8"},
		{BenchOptions{Steps: -5}, "Steps is -5"},
		{BenchOptions{Seeds: -1}, "Seeds is -1"},
		{BenchOptions{SampleSteps: -1}, "SampleSteps is -1"},
		{BenchOptions{FidelityLevels: []float64{1.5}}, "FidelityLevels holds 1.5"},
	} {
		_, err := RunBench(stdcontext.Background(), nil, "examples/concepts", tc.opts, nil)
		require.Error(t, err, "%+v", tc.opts)
		assert.Contains(t, err.Error(), tc.want, "%+v", tc.opts)
	}
	_, err := RunBench(stdcontext.Background(), nil, "examples/concepts", BenchOptions{Concepts: []string{"nosuch"}}, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `concept "nosuch"`)

	o := BenchOptions{}.withDefaults()
	assert.Len(t, o.Concepts, 8, "every shipped concept by default")
	assert.Equal(t, BenchMethods, o.Methods)
	assert.Equal(t, ToyPreset().MaxTrainSteps, o.Steps)
	assert.NoError(t, o.validate())
}

func TestBenchTrainOptions(t *testing.T) {
	opts := BenchOptions{Steps: 30, EvalEvery: 10, Seed: 7, Train: func(o *TrainOptions) {
		o.Resolution, o.MaxTrainSteps, o.OutputDir = 32, 999, "elsewhere"
	}}
	c, _ := toyworld.ConceptByName("goldstar")
	for _, tc := range []struct {
		method, want string
		noBypass     bool
	}{{BenchNeTI, MethodNeTI, false}, {BenchNeTINoBypass, MethodNeTI, true}, {BenchPPlus, MethodPPlus, false}, {BenchTI, MethodTI, false}} {
		o := benchTrainOptions(opts, c, tc.method)
		assert.Equal(t, tc.want, o.Method, tc.method)
		assert.Equal(t, tc.noBypass, o.NoBypass, tc.method)
		assert.Equal(t, 30, o.MaxTrainSteps, "%s: Steps wins over the Train hook", tc.method)
		assert.Equal(t, 32, o.Resolution, "%s: the Train hook applies", tc.method)
		assert.Equal(t, uint64(7), o.Seed, tc.method)
		assert.Equal(t, "<goldstar>", o.Placeholder, tc.method)
		assert.Equal(t, "star", o.SuperCategory, tc.method)
		assert.Empty(t, o.OutputDir, "%s: nothing written", tc.method)
		assert.Equal(t, 10, o.ValidateEvery, tc.method)
		assert.NotNil(t, o.ValidationPrompts, "%s: empty, not the default prompts", tc.method)
		assert.Empty(t, o.ValidationPrompts, tc.method)
		assert.Equal(t, ToyPreset().LearningRate, o.LearningRate, "%s: ToyPreset otherwise", tc.method)
	}
}

func TestBenchPrompts(t *testing.T) {
	for _, c := range toyworld.Concepts() {
		ph := "<" + c.Name + ">"
		prompts := BenchPrompts(c, ph, 6)
		require.Len(t, prompts, 7, c.Name)
		assert.Equal(t, BenchPrompt{Text: "a " + ph, Reconstruction: true}, prompts[0])
		for _, p := range prompts[1:] {
			assert.Equal(t, 1, strings.Count(p.Text, ph), "%s: %q names the placeholder once", c.Name, p.Text)
			assert.True(t, p.Requested.Valid(), "%s: %+v", c.Name, p.Requested)
			assert.NotEqual(t, c.Scene.Color, p.Requested.Background, "%s: the background differs from the object", c.Name)
			for _, a := range c.Contexts {
				assert.NotEqual(t, a.Background, p.Requested.Background, "%s: %q: a background absent from training", c.Name, p.Text)
			}
			assert.Contains(t, p.Text, p.Requested.Background+" background", "%s", c.Name)
		}
		assert.NotEmpty(t, prompts[2].Requested.Size, "%s: the second context prompt asks for a size", c.Name)
		assert.NotEmpty(t, prompts[3].Requested.Position, "%s: the third asks for a position", c.Name)
	}
	c, _ := toyworld.ConceptByName("tealstar")
	assert.Equal(t, "small", BenchPrompts(c, "<t>", 2)[2].Requested.Size, "tealstar never trained small: asked first")
}

// TestRunBenchTiny runs the whole bench at a tiny scale: one concept, NeTI (full and truncated to 4 units)
// and TI, 2 training steps with a curve point at step 1, 1 seed, 1 denoising step, 2 context prompts.
func TestRunBenchTiny(t *testing.T) {
	p := loadTiny(t)
	opts := BenchOptions{Concepts: []string{"dot"}, Methods: []string{BenchNeTI, BenchTI}, Truncations: []int{4},
		Steps: 2, EvalEvery: 1, ContextPrompts: 2, Seeds: 1, SampleSteps: 1,
		Train: func(o *TrainOptions) { o.Resolution, o.BatchSize = 32, 1 }}
	var phases []string
	report, err := RunBench(stdcontext.Background(), p, filepath.Join("testdata", "concepts"), opts, func(pr BenchProgress) {
		if len(phases) == 0 || phases[len(phases)-1] != pr.Phase+pr.Method {
			phases = append(phases, pr.Phase+pr.Method)
		}
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"evalneti", "trainneti", "evalneti", "evalti", "trainti", "evalti"}, phases,
		"progress per method: the curve point at step 1 (before step 1's train report), steps 1-2, final evaluations")

	require.Len(t, report.Concepts, 1)
	bc := report.Concepts[0]
	assert.Equal(t, "<dot>", bc.Placeholder)
	require.Len(t, bc.Prompts, 3)
	require.Len(t, bc.Runs, 2)
	in01 := func(name string, v float64) { assert.True(t, v >= 0 && v <= 1, "%s = %g: expected [0, 1]", name, v) }
	for _, r := range bc.Runs {
		assert.Greater(t, r.TrainSeconds, 0.0, r.Method)
		assert.InDelta(t, r.TrainSeconds/2, r.SecondsPerStep, 1e-12, r.Method)
		require.Len(t, r.Curve, 2, r.Method)
		assert.Equal(t, []int{1, 2}, []int{r.Curve[0].Step, r.Curve[1].Step}, r.Method)
		assert.Equal(t, r.Evals[0].Fidelity, r.Curve[1].Fidelity, "%s: the last point is the final evaluation", r.Method)
		assert.LessOrEqual(t, r.Curve[1].Fidelity, bc.Reference, r.Method)
		require.Len(t, r.StepsTo, 3, r.Method)
		wantEvals := []int{0}
		if r.Method == BenchNeTI {
			wantEvals = []int{0, 4}
		}
		require.Len(t, r.Evals, len(wantEvals), r.Method)
		for i, e := range r.Evals {
			assert.Equal(t, wantEvals[i], e.Truncation, r.Method)
			assert.Greater(t, e.Seconds, 0.0, r.Method)
			in01("fidelity", e.Fidelity)
			in01("editability", e.Editability)
			in01("context fidelity", e.ContextFidelity)
			require.Len(t, e.Prompts, 3)
			assert.Empty(t, e.Prompts[0].Editability, "the reconstruction prompt has no editability")
			assert.Len(t, e.Prompts[1].Editability, 1)
			assert.Equal(t, e.Prompts[0].MeanFidelity, e.Fidelity)
			assert.InDelta(t, (e.Prompts[1].MeanEditability+e.Prompts[2].MeanEditability)/2, e.Editability, 1e-12)
		}
	}
	var labels []string
	for _, s := range report.Summary {
		labels = append(labels, s.Label)
	}
	assert.Equal(t, []string{"neti", "neti@4", "ti"}, labels)
	assert.Equal(t, bc.Runs[0].Evals[1].Editability, report.Summary[1].Editability, "one concept: the mean is its value")
	assert.Equal(t, "tiny-sd1", filepath.Base(report.Model))
	assert.NotEmpty(t, report.Backend)
	assert.Greater(t, bc.Seconds, bc.Runs[0].TrainSeconds+bc.Runs[1].TrainSeconds, "training and evaluations")
	assert.GreaterOrEqual(t, report.Seconds, bc.Seconds)

	data, err := json.Marshal(report)
	require.NoError(t, err)
	var back BenchReport
	require.NoError(t, json.Unmarshal(data, &back), "the report round-trips through JSON")
	assert.Equal(t, report.Summary, back.Summary)

	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, report.Plot()))
	img, err := png.Decode(&buf)
	require.NoError(t, err)
	assert.Equal(t, image.Pt(BenchPlotWidth, BenchPlotHeight), img.Bounds().Size())
}

// TestBenchPlotMarkers checks that each summary point is drawn in its method's colour where the axes put it.
func TestBenchPlotMarkers(t *testing.T) {
	r := &BenchReport{Concepts: make([]BenchConcept, 2), Summary: []BenchSummary{
		{Method: BenchNeTI, Fidelity: 0.8, Editability: 0.4}, {Method: BenchNeTI, Truncation: 8, Fidelity: 0.5, Editability: 0.7},
		{Method: BenchTI, Fidelity: 0.3, Editability: 0.6},
	}}
	img := r.Plot()
	left, right, top, bottom := 90, BenchPlotWidth-230, 60, BenchPlotHeight-70
	x0, x1, _ := axisRange([]float64{0.8, 0.5, 0.3})
	y0, y1, _ := axisRange([]float64{0.4, 0.7, 0.6})
	for _, s := range r.Summary {
		x := left + int((s.Fidelity-x0)/(x1-x0)*float64(right-left)+0.5)
		y := bottom - int((s.Editability-y0)/(y1-y0)*float64(bottom-top)+0.5)
		assert.Equal(t, benchColors[s.Method], img.RGBAAt(x, y), "%+v at (%d, %d)", s, x, y)
	}
	lo, hi, step := axisRange([]float64{0.8, 0.5, 0.3})
	assert.InDelta(t, 0.2, lo, 1e-9)
	assert.InDelta(t, 0.9, hi, 1e-9)
	assert.InDelta(t, 0.1, step, 1e-9)
}

// TestBenchPlotErrorBars checks that a point's ± standard-error bars are drawn in its colour out to their
// ends, and that the axes make room for them.
func TestBenchPlotErrorBars(t *testing.T) {
	r := &BenchReport{Concepts: make([]BenchConcept, 1), Summary: []BenchSummary{
		{Method: BenchPPlus, Fidelity: 0.5, Editability: 0.5, FidelitySE: 0.1, EditabilitySE: 0.05},
		{Method: BenchTI, Fidelity: 0.52, Editability: 0.52},
	}}
	img := r.Plot()
	left, right, top, bottom := 90, BenchPlotWidth-230, 60, BenchPlotHeight-70
	x0, x1, _ := axisRange([]float64{0.4, 0.6, 0.52, 0.52})
	y0, y1, _ := axisRange([]float64{0.45, 0.55, 0.52, 0.52})
	px := func(v float64) int { return left + int((v-x0)/(x1-x0)*float64(right-left)+0.5) }
	py := func(v float64) int { return bottom - int((v-y0)/(y1-y0)*float64(bottom-top)+0.5) }
	c := benchColors[BenchPPlus]
	assert.Equal(t, c, img.RGBAAt(px(0.4), py(0.5)), "left end of the fidelity bar")
	assert.Equal(t, c, img.RGBAAt(px(0.6), py(0.5)), "right end of the fidelity bar")
	assert.Equal(t, c, img.RGBAAt(px(0.5), py(0.55)), "top of the editability bar")
	assert.Equal(t, c, img.RGBAAt(px(0.5), py(0.45)), "bottom of the editability bar")
	assert.NotEqual(t, c, img.RGBAAt(px(0.6)+3, py(0.5)), "nothing past the bar's end")
}
