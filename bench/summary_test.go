package bench

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStandardError: the sample standard deviation over √n, 0 below two values.
func TestStandardError(t *testing.T) {
	assert.Equal(t, 0.0, standardError(nil))
	assert.Equal(t, 0.0, standardError([]float64{0.4}))
	assert.Equal(t, 0.0, standardError([]float64{0.3, 0.3, 0.3}))
	// {0, 1}: mean 0.5, sample variance 0.5, standard error √0.5/√2 = 0.5.
	assert.InDelta(t, 0.5, standardError([]float64{0, 1}), 1e-12)
	// {1, 2, 3, 4}: sample variance 5/3, standard error √(5/3)/2.
	assert.InDelta(t, math.Sqrt(5.0/3)/2, standardError([]float64{1, 2, 3, 4}), 1e-12)
}

// TestSummarizeStandardErrors: the summary's standard errors pool every concept's images, reconstruction
// images for fidelity and context images for editability and fidelity in context, per truncation.
func TestSummarizeStandardErrors(t *testing.T) {
	prompts := []Prompt{{Text: "a <c>", Reconstruction: true}, {Text: "<c> on red"}}
	concept := func(recon, ctxFid, edit []float64, truncRecon []float64) ConceptResult {
		return ConceptResult{Prompts: prompts, Runs: []MethodResult{{Method: NeTI, Evals: []Eval{
			{Fidelity: mean(recon), Editability: mean(edit), ContextFidelity: mean(ctxFid), Prompts: []PromptScore{
				{Fidelity: recon}, {Fidelity: ctxFid, Editability: edit}}},
			{Truncation: 8, Fidelity: mean(truncRecon), Prompts: []PromptScore{
				{Fidelity: truncRecon}, {Fidelity: []float64{0.5, 0.5}, Editability: []float64{1, 1}}}},
		}}}}
	}
	concepts := []ConceptResult{
		concept([]float64{0.1, 0.2}, []float64{0.5, 0.7}, []float64{1, 0}, []float64{0.4, 0.4}),
		concept([]float64{0.3, 0.4}, []float64{0.6, 0.6}, []float64{1, 1}, []float64{0.4, 0.4}),
	}
	s := summarize(concepts, []string{NeTI}, 0)
	require.Len(t, s, 2)
	full, trunc := s[0], s[1]
	require.Equal(t, 0, full.Truncation)
	assert.Equal(t, 4, full.Images)
	assert.InDelta(t, 0.25, full.Fidelity, 1e-12)
	assert.InDelta(t, standardError([]float64{0.1, 0.2, 0.3, 0.4}), full.FidelitySE, 1e-12)
	assert.InDelta(t, standardError([]float64{1, 0, 1, 1}), full.EditabilitySE, 1e-12)
	assert.InDelta(t, standardError([]float64{0.5, 0.7, 0.6, 0.6}), full.ContextFidelitySE, 1e-12)
	require.Equal(t, 8, trunc.Truncation)
	assert.Equal(t, 0.0, trunc.FidelitySE, "identical images: no spread")
	assert.Equal(t, 0.0, trunc.EditabilitySE)
}

// TestEqualTime: at equal wall time each run is read at the last curve step within the fastest run's
// training time; the summary averages those points over the concepts, for the full mapper only.
func TestEqualTime(t *testing.T) {
	curve := func(f ...float64) []Point {
		var c []Point
		for i, v := range f {
			c = append(c, Point{Step: 50 * (i + 1), Fidelity: v})
		}
		return c
	}
	fast := MethodResult{Method: TI, TrainSeconds: 100, SecondsPerStep: 0.5, Curve: curve(0.1, 0.2, 0.3, 0.4),
		Evals: []Eval{{Fidelity: 0.4}}}
	slow := MethodResult{Method: NeTI, TrainSeconds: 200, SecondsPerStep: 1, Curve: curve(0.5, 0.6, 0.7, 0.8),
		Evals: []Eval{{Fidelity: 0.8}, {Truncation: 8, Fidelity: 0.7}}}
	p, ok := equalTimePoint([]MethodResult{fast, slow}, slow)
	require.True(t, ok)
	assert.Equal(t, Point{Step: 100, Fidelity: 0.6}, p, "100 s buy the slow run 100 steps")
	p, ok = equalTimePoint([]MethodResult{fast, slow}, fast)
	require.True(t, ok)
	assert.Equal(t, Point{Step: 200, Fidelity: 0.4}, p, "the fastest run is read at its end")
	tooSlow := slow
	tooSlow.SecondsPerStep = 3
	_, ok = equalTimePoint([]MethodResult{fast, tooSlow}, tooSlow)
	assert.False(t, ok, "no point within 100 s at 3 s a step")
	nearly := slow
	nearly.SecondsPerStep = 0.52 // 104 s for 200 steps: within timeSlack of 100 s
	p, ok = equalTimePoint([]MethodResult{fast, nearly}, nearly)
	require.True(t, ok)
	assert.Equal(t, 200, p.Step, "4 %% over the budget counts as equal time")

	concepts := []ConceptResult{{Runs: []MethodResult{fast, slow}}, {Runs: []MethodResult{fast, tooSlow}}}
	for _, c := range concepts {
		setEqualTime(c.Runs)
	}
	require.Equal(t, &Point{Step: 100, Fidelity: 0.6}, concepts[0].Runs[1].EqualTime)
	assert.Nil(t, concepts[1].Runs[1].EqualTime, "no point within the budget: no EqualTime")
	s := summarize(concepts, []string{NeTI, TI}, 0)
	require.Len(t, s, 3)
	require.Equal(t, "neti", s[0].Label)
	require.NotNil(t, s[0].EqualTimeFidelity)
	assert.InDelta(t, 0.6, *s[0].EqualTimeFidelity, 1e-12, "only the concept with a point counts")
	assert.InDelta(t, 100, *s[0].EqualTimeStep, 1e-12)
	assert.Nil(t, s[1].EqualTimeFidelity, "a truncation has no curve of its own")
	require.NotNil(t, s[2].EqualTimeFidelity)
	assert.InDelta(t, 0.4, *s[2].EqualTimeFidelity, 1e-12)
}
