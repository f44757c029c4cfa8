package bench

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMerge: reports of one bench on different concepts merge into one whose summary averages over all
// of them; reports with other options, or the same concept twice, are refused.
func TestMerge(t *testing.T) {
	part := func(name string, fid, edit float64, step int, start time.Time) *Report {
		opts := Options{Concepts: []string{name}, Methods: []string{TI}, Steps: 40}.withDefaults()
		return &Report{Options: opts, Model: "m", Backend: "go", Started: start, Seconds: 10,
			Levels: opts.FidelityLevels, Concepts: []ConceptResult{{Name: name, Runs: []MethodResult{{
				Method: TI, TrainSeconds: 5, SecondsPerStep: 5.0 / 40, Curve: []Point{{Step: 40, Fidelity: fid}},
				StepsTo: []*int{&step, nil, nil},
				Evals:   []Eval{{Fidelity: fid, Editability: edit}}}}}}}
	}
	t0 := time.Date(2026, 11, 28, 1, 0, 0, 0, time.UTC)
	a, b := part("tealstar", 0.8, 0.2, 20, t0.Add(time.Minute)), part("rubyheart", 0.6, 0.4, 40, t0)

	m, err := Merge(a, b)
	require.NoError(t, err)
	assert.Equal(t, []string{"tealstar", "rubyheart"}, m.Options.Concepts)
	require.Len(t, m.Concepts, 2)
	require.Len(t, m.Summary, 1)
	assert.InDelta(t, 0.7, m.Summary[0].Fidelity, 1e-12)
	assert.InDelta(t, 0.3, m.Summary[0].Editability, 1e-12)
	require.NotNil(t, m.Summary[0].StepsTo[0])
	assert.InDelta(t, 30, *m.Summary[0].StepsTo[0], 1e-12)
	assert.Equal(t, []int{2, 0, 0}, m.Summary[0].Reached)
	assert.Equal(t, t0, m.Started)
	assert.Equal(t, 20.0, m.Seconds)
	assert.Empty(t, m.References, "no concept measured them")
	require.NotNil(t, m.Concepts[0].Runs[0].EqualTime, "a part written without equal_time gets it")
	assert.Equal(t, Point{Step: 40, Fidelity: 0.8}, *m.Concepts[0].Runs[0].EqualTime)
	assert.Nil(t, a.Concepts[0].Runs[0].EqualTime, "the parts are left as they were")
	require.NotNil(t, m.Summary[0].EqualTimeFidelity)
	assert.InDelta(t, 0.7, *m.Summary[0].EqualTimeFidelity, 1e-12)

	a.Concepts[0].References = map[string]Reference{RefWords: {Fidelity: 0.3, FidelitySE: 0.03, Images: 8}}
	b.Concepts[0].References = map[string]Reference{RefWords: {Fidelity: 0.5, FidelitySE: 0.04, Images: 8}}
	m, err = Merge(a, b)
	require.NoError(t, err)
	require.Contains(t, m.References, RefWords)
	assert.InDelta(t, 0.4, m.References[RefWords].Fidelity, 1e-12, "the mean of the concepts' means")
	assert.InDelta(t, 0.025, m.References[RefWords].FidelitySE, 1e-12, "√(0.03² + 0.04²) / 2")
	assert.Equal(t, 16, m.References[RefWords].Images)

	c := part("goldstar", 0.5, 0.5, 10, t0)
	c.Options.Steps = 80
	_, err = Merge(a, c)
	assert.ErrorContains(t, err, "differ only in their concepts")
	_, err = Merge(a, part("tealstar", 0.1, 0.1, 10, t0))
	assert.ErrorContains(t, err, `concept "tealstar" is in two reports`)
	_, err = Merge()
	assert.Error(t, err)
}
