package main

import (
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/neti/bench"
)

// TestBenchCLI runs neti bench on the tiny model: one concept, NeTI without bypass and P+ (package bench's
// test runs NeTI and TI), 2 training steps, 1 seed, 1 denoising step, 1 context prompt; checks bench.json,
// bench.png and the table. Truncations apply to NeTI only, so --truncations is recorded but unused here.
func TestBenchCLI(t *testing.T) {
	out := filepath.Join(t.TempDir(), "bench")
	stdout, stderr, err := runCLI(t, "bench", "--pretrained_model_name_or_path", "../../testdata/tiny-sd1",
		"--examples", "../../testdata/concepts", "--concepts", "dot", "--methods", "neti-nobypass,pplus", "--truncations", "4",
		"--max_train_steps", "2", "--seeds", "1", "--num_inference_steps", "1", "--context_prompts", "1",
		"--resolution", "32", "--train_batch_size", "1", "--output_dir", out)
	require.NoError(t, err, stderr)
	assert.Contains(t, stderr, "[run 2/2", "progress is shown as it goes")
	assert.Contains(t, stdout, "neti-nobypass")
	assert.Contains(t, stdout, "bench.png")

	data, err := os.ReadFile(filepath.Join(out, "bench.json"))
	require.NoError(t, err)
	var report bench.Report
	require.NoError(t, json.Unmarshal(data, &report))
	assert.Equal(t, 2, report.Options.Steps)
	assert.Equal(t, []int{4}, report.Options.Truncations)
	require.Len(t, report.Concepts, 1)
	require.Len(t, report.Concepts[0].Runs, 2)
	for _, r := range report.Concepts[0].Runs {
		assert.Greater(t, r.TrainSeconds, 0.0, r.Method)
		require.NotEmpty(t, r.Curve, r.Method)
		assert.Equal(t, 2, r.Curve[len(r.Curve)-1].Step, r.Method)
	}
	require.Len(t, report.Summary, 2)
	assert.Equal(t, []string{"neti-nobypass", "pplus"}, []string{report.Summary[0].Label, report.Summary[1].Label})
	for _, s := range report.Summary {
		assert.True(t, s.Fidelity >= 0 && s.Fidelity <= 1, "%s fidelity %g", s.Label, s.Fidelity)
		assert.True(t, s.Editability >= 0 && s.Editability <= 1, "%s editability %g", s.Label, s.Editability)
	}

	f, err := os.Open(filepath.Join(out, "bench.png"))
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	assert.Equal(t, [2]int{bench.PlotWidth, bench.PlotHeight}, [2]int{img.Bounds().Dx(), img.Bounds().Dy()})

	// --merge: the same run on a second (renamed) concept joins it; the same concept twice is refused.
	report.Concepts[0].Name, report.Options.Concepts = "dot2", []string{"dot2"}
	data, err = json.Marshal(report)
	require.NoError(t, err)
	other := filepath.Join(t.TempDir(), "bench.json")
	require.NoError(t, os.WriteFile(other, data, 0o644))
	merged := filepath.Join(t.TempDir(), "merged")
	stdout, _, err = runCLI(t, "bench", "--merge", filepath.Join(out, "bench.json")+","+other, "--output_dir", merged)
	require.NoError(t, err)
	assert.Contains(t, stdout, "pplus")
	data, err = os.ReadFile(filepath.Join(merged, "bench.json"))
	require.NoError(t, err)
	var joined bench.Report
	require.NoError(t, json.Unmarshal(data, &joined))
	assert.Equal(t, []string{"dot", "dot2"}, joined.Options.Concepts)
	require.Len(t, joined.Summary, 2)
	assert.InDelta(t, report.Summary[1].Fidelity, joined.Summary[1].Fidelity, 1e-12, "the same scores twice: the same mean")
	assert.FileExists(t, filepath.Join(merged, "bench.png"))
	_, _, err = runCLI(t, "bench", "--merge", other+","+other, "--output_dir", merged)
	assert.ErrorContains(t, err, "in two reports")
}

func TestBenchCLIBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--truncations", "4,x"}, `--truncations holds "x"`},
		{[]string{"--methods", "neti,dreambooth"}, `Methods holds "dreambooth"`},
		{[]string{"--concepts", "nosuch", "--examples", "../../examples/concepts"}, `concept "nosuch"`},
		{[]string{"extra"}, "flags only"},
		{[]string{"--normalize_output", "none"}, `--normalize_output is "none": expected "word" (default) or "concat"`},
		{[]string{"--learning_rate", "-1"}, "--learning_rate"},
	} {
		args := append([]string{"bench", "--pretrained_model_name_or_path", "../../testdata/tiny-sd1",
			"--output_dir", t.TempDir()}, tc.args...)
		_, _, err := runCLI(t, args...)
		require.Error(t, err, "%v", tc.args)
		assert.Contains(t, err.Error(), tc.want, "%v", tc.args)
	}
}
