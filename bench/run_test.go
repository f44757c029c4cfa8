package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/neti"
	"github.com/org/neti/toyworld"
)

func TestStepsToFidelity(t *testing.T) {
	curve := []Point{{50, 0.2}, {100, 0.45}, {150, 0.4}, {200, 0.61}}
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

func TestGapClosed(t *testing.T) {
	refs := map[string]Reference{RefSuperCategory: {Fidelity: 0.3, Images: 8}, RefWords: {Fidelity: 0.4, Images: 8},
		RefDescription: {Skipped: "unknown words"}, RefCeiling: {Fidelity: 0.8, Images: 5}}
	g := gapClosed(0.55, refs, RefSuperCategory)
	require.NotNil(t, g)
	assert.InDelta(t, 0.5, *g, 1e-12, "(0.55 − 0.3) / (0.8 − 0.3)")
	g = gapClosed(0.3, refs, RefWords)
	require.NotNil(t, g)
	assert.InDelta(t, -0.25, *g, 1e-12, "below the words: negative")
	assert.Nil(t, gapClosed(0.5, refs, RefDescription), "a skipped floor")
	refs[RefCeiling] = Reference{Fidelity: 0.3, Images: 5}
	assert.Nil(t, gapClosed(0.5, refs, RefSuperCategory), "no gap: a ceiling at the floor")

	sum := summarizeReferences([]ConceptResult{
		{References: map[string]Reference{RefWords: {Fidelity: 0.4, FidelitySE: 0.03, Images: 8}}},
		{References: map[string]Reference{RefWords: {Fidelity: 0.6, FidelitySE: 0.04, Images: 8}, RefDescription: {Skipped: "x"}}},
	})
	assert.InDelta(t, 0.5, sum[RefWords].Fidelity, 1e-12)
	assert.InDelta(t, 0.025, sum[RefWords].FidelitySE, 1e-12, "√(0.03² + 0.04²) / 2")
	assert.Equal(t, 16, sum[RefWords].Images)
	_, ok := sum[RefDescription]
	assert.False(t, ok, "no concept measured it")
}

func TestTrainOptions(t *testing.T) {
	opts := Options{Steps: 30, EvalEvery: 10, Seed: 7, Train: func(o *neti.TrainOptions) {
		o.Resolution, o.MaxTrainSteps, o.OutputDir = 32, 999, "elsewhere"
	}}
	c, _ := toyworld.ConceptByName("goldstar")
	for _, tc := range []struct {
		method   string
		want     neti.Method
		noBypass bool
	}{{NeTI, neti.MethodNeTI, false}, {NeTINoBypass, neti.MethodNeTI, true}, {PPlus, neti.MethodPPlus, false}, {TI, neti.MethodTI, false}} {
		o := trainOptions(opts, c, tc.method)
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
		assert.Equal(t, neti.ToyPreset().LearningRate, o.LearningRate, "%s: ToyPreset otherwise", tc.method)
	}
}

// TestRunPipelineErrors: a nil Pipeline, or a closed one, gives an error saying so and what to do, not a
// panic.
func TestRunPipelineErrors(t *testing.T) {
	_, err := Run(context.Background(), nil, "../examples/concepts", Options{}, nil)
	assert.ErrorContains(t, err, "the Pipeline is nil: expected one from neti.LoadPipeline")

	p, err := neti.LoadPipeline(tinyModel, neti.LoadOptions{})
	require.NoError(t, err)
	p.Close()
	_, err = Run(context.Background(), p, "../examples/concepts", Options{}, nil)
	if assert.Error(t, err) {
		assert.Contains(t, err.Error(), "is closed, or was not made by LoadPipeline")
		assert.Contains(t, err.Error(), tinyModel)
		assert.Contains(t, err.Error(), "load the model again with LoadPipeline")
		assert.NotContains(t, err.Error(), "invalid memory address")
	}
}

// TestRunTiny runs the whole bench at a tiny scale: one concept, NeTI (full and truncated to 4 units)
// and TI, 2 training steps with a curve point at step 1, 1 seed, 1 denoising step, 2 context prompts.
func TestRunTiny(t *testing.T) {
	p := loadTiny(t)
	opts := Options{Concepts: []string{"dot"}, Methods: []string{NeTI, TI}, Truncations: []int{4},
		Steps: 2, EvalEvery: 1, ContextPrompts: 2, Seeds: 1, SampleSteps: 1,
		Train: func(o *neti.TrainOptions) { o.Resolution, o.BatchSize = 32, 1 }}
	var phases []string
	report, err := Run(context.Background(), p, tinyConcepts, opts, func(pr Progress) {
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
		assert.Equal(t, [2]int{1, 32}, [2]int{r.Train.BatchSize, r.Train.Resolution}, "%s: the options it trained with", r.Method)
		assert.Equal(t, string(r.Method), string(r.Train.Method), r.Method)
		assert.InDelta(t, r.TrainSeconds/2, r.SecondsPerStep, 1e-12, r.Method)
		require.Len(t, r.Curve, 2, r.Method)
		assert.Equal(t, []int{1, 2}, []int{r.Curve[0].Step, r.Curve[1].Step}, r.Method)
		assert.Equal(t, r.Evals[0].Fidelity, r.Curve[1].Fidelity, "%s: the last point is the final evaluation", r.Method)
		assert.LessOrEqual(t, r.Curve[1].Fidelity, bc.Reference, r.Method)
		require.Len(t, r.StepsTo, 3, r.Method)
		wantEvals := []int{0}
		if r.Method == NeTI {
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
			if assert.NotNil(t, e.Parts, r.Method) {
				assert.InDelta(t, e.Fidelity, e.Parts.Total, 1e-12, "%s: the parts' total is the fidelity", r.Method)
			}
			assert.InDelta(t, (e.Prompts[1].MeanEditability+e.Prompts[2].MeanEditability)/2, e.Editability, 1e-12)
		}
	}
	// The references: three prompts at one seed each, the ceiling over the concept's training images.
	require.Len(t, bc.References, len(ReferenceKinds))
	for _, kind := range ReferenceKinds {
		ref := bc.References[kind]
		assert.Empty(t, ref.Skipped, kind)
		in01(kind, ref.Fidelity)
		assert.Equal(t, ref.Fidelity, report.References[kind].Fidelity, "%s: one concept, the mean is its value", kind)
		assert.Equal(t, ref.Images, report.References[kind].Images, kind)
		if assert.NotNil(t, ref.Parts, kind) && assert.NotNil(t, report.References[kind].Parts, kind) {
			assert.InDelta(t, ref.Fidelity, ref.Parts.Total, 1e-12, kind)
			assert.Equal(t, *ref.Parts, *report.References[kind].Parts, "%s: one concept, the mean is its value", kind)
		}
	}
	assert.Equal(t, 1, bc.References[RefWords].Images)
	assert.NotEmpty(t, bc.References[RefDescription].Prompt)
	assert.Empty(t, bc.References[RefCeiling].Prompt)
	assert.Greater(t, bc.References[RefCeiling].Images, 1, "every training image")
	for _, r := range bc.Runs {
		e := r.Evals[0]
		assert.Equal(t, gapClosed(e.Fidelity, bc.References, RefSuperCategory), e.GapClosed, r.Method)
		assert.Equal(t, gapClosed(e.Fidelity, bc.References, RefWords), e.GapClosedFromWords, r.Method)
	}

	var labels []string
	for _, s := range report.Summary {
		labels = append(labels, s.Label)
	}
	assert.Equal(t, []string{"neti", "neti@4", "ti"}, labels)
	assert.Equal(t, bc.Runs[0].Evals[1].Editability, report.Summary[1].Editability, "one concept: the mean is its value")
	if assert.NotNil(t, report.Summary[0].Parts) {
		assert.InDelta(t, bc.Runs[0].Evals[0].Parts.Shape, report.Summary[0].Parts.Shape, 1e-12, "one concept: the mean is its value")
	}
	assert.Equal(t, "tiny-sd1", filepath.Base(report.Model))
	assert.NotEmpty(t, report.Backend)
	assert.Greater(t, bc.Seconds, bc.Runs[0].TrainSeconds+bc.Runs[1].TrainSeconds, "training and evaluations")
	assert.GreaterOrEqual(t, report.Seconds, bc.Seconds)

	data, err := json.Marshal(report)
	require.NoError(t, err)
	var back Report
	require.NoError(t, json.Unmarshal(data, &back), "the report round-trips through JSON")
	assert.Equal(t, report.Summary, back.Summary)

	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, report.Plot()))
	img, err := png.Decode(&buf)
	require.NoError(t, err)
	assert.Equal(t, image.Pt(PlotWidth, PlotHeight), img.Bounds().Size())
}
