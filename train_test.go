package neti

import (
	"bytes"
	stdcontext "context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pipelineBytes copies the raw bytes of every pipeline variable (text encoder, UNet, VAE) by name.
func pipelineBytes(t *testing.T, p *Pipeline) map[string][]byte {
	t.Helper()
	out := make(map[string][]byte)
	for _, root := range []string{"text_encoder", "unet", "vae"} {
		for v := range p.ctx.In(root).IterVariablesInScope() {
			value, err := v.Value()
			require.NoError(t, err, v.ScopeAndName())
			require.NoError(t, value.ConstBytes(func(b []byte) { out[v.ScopeAndName()] = slices.Clone(b) }))
		}
	}
	return out
}

// TestTrainOnlyMapperChanges trains NeTI for two steps (two micro-batches each) and checks that every
// pipeline weight is bit-for-bit unchanged, W is unchanged, and every trained tensor of the mapper moved.
func TestTrainOnlyMapperChanges(t *testing.T) {
	p := loadTiny(t)
	dir := t.TempDir()
	images := writeTestImages(t, filepath.Join(dir, "images"), 2)
	before := pipelineBytes(t, p)
	require.Greater(t, len(before), 100, "pipeline variables found")

	opts := tinyTrainOptions("", 2)
	var steps []TrainProgress
	opts.OnStep = func(pr TrainProgress) { steps = append(steps, pr) }
	c, err := TrainConcept(stdcontext.Background(), p, []string{images}, opts)
	require.NoError(t, err)

	after := pipelineBytes(t, p)
	require.Equal(t, len(before), len(after))
	for name, b := range before {
		require.True(t, bytes.Equal(b, after[name]), "pipeline variable %s changed by training", name)
	}
	initial, err := p.InitConcept("<other>", "good", opts.Seed)
	require.NoError(t, err)
	w0, w1 := initial.Weights(), c.Weights()
	assert.Equal(t, tensors.MustCopyFlatData[float32](w0[EncoderWeightName]), tensors.MustCopyFlatData[float32](w1[EncoderWeightName]),
		"W is fixed")
	for _, name := range trainedTensors(MethodNeTI, c.Mapper) {
		assert.NotEqual(t, tensors.MustCopyFlatData[float32](w0[name]), tensors.MustCopyFlatData[float32](w1[name]),
			"trained tensor %s should change", name)
	}
	require.Len(t, steps, 2)
	assert.Equal(t, 2, steps[1].Step)
	assert.Equal(t, 2, steps[1].Total)
	assert.Positive(t, steps[1].StepsPerSecond)
	for _, s := range steps {
		assert.False(t, s.Loss != s.Loss || s.Loss <= 0, "loss %g is a positive number", s.Loss)
	}
	var record trainRecord
	require.NoError(t, json.Unmarshal(c.Training, &record))
	assert.Equal(t, 2, record.Steps)
	assert.Equal(t, MethodNeTI, record.Options.Method)
	assert.InDelta(t, 2e-3, record.EffectiveLR, 1e-12, "1e-3 × batch 1 × accumulation 2")
}

// conceptTensors reads a concept file's tensors as float32 slices.
func conceptTensors(t *testing.T, path string) map[string][]float32 {
	t.Helper()
	c, err := LoadConcept(path)
	require.NoError(t, err, path)
	out := make(map[string][]float32)
	for name, w := range c.Weights() {
		out[name] = tensors.MustCopyFlatData[float32](w)
	}
	return out
}

// checkpointFiles reads the files of a checkpoint that must match bit for bit between equivalent runs:
// the concept's tensors, the optimizer moments and the random states.
func checkpointFiles(t *testing.T, dir string) (concept map[string][]float32, moments []byte, state checkpointState) {
	t.Helper()
	concept = conceptTensors(t, filepath.Join(dir, checkpointConcept))
	moments, err := os.ReadFile(filepath.Join(dir, checkpointTensors))
	require.NoError(t, err)
	data, err := os.ReadFile(filepath.Join(dir, checkpointJSON))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &state))
	state.Options = TrainOptions{} // holds the output folder
	return concept, moments, state
}

// lossLines reads loss.jsonl.
func lossLines(t *testing.T, dir string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, lossLogName))
	require.NoError(t, err)
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

// killEnv names the folder a child test process trains in before it kills itself.
const killEnv = "NETI_TRAIN_KILL_DIR"

// TestTrainKilledChild is the child process of TestTrainResume/sigkill: with NETI_TRAIN_KILL_DIR set it
// trains in that folder and kills itself with SIGKILL after step 3 (checkpoint of step 2 written, step 3
// not saved). Without the variable it does nothing.
func TestTrainKilledChild(t *testing.T) {
	dir := os.Getenv(killEnv)
	if dir == "" {
		return
	}
	p := loadTiny(t)
	opts := resumeTrainOptions(filepath.Join(dir, "out"), 4)
	opts.OnStep = func(pr TrainProgress) {
		if pr.Step == 3 {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			time.Sleep(time.Minute) // the kill takes effect before this ends
			os.Exit(3)
		}
	}
	_, err := TrainConcept(stdcontext.Background(), p, []string{filepath.Join(dir, "images")}, opts)
	t.Fatalf("training was not killed: %v", err)
}

// TestTrainResume trains 4 steps straight (checkpoints every 2) and checks against it, bit for bit:
// determinism (a second run's step-2 checkpoint), 2 steps + resume of 2 more in-process, and a training
// process killed with SIGKILL after step 3 then resumed from its latest checkpoint.
func TestTrainResume(t *testing.T) {
	p := loadTiny(t)
	dir := t.TempDir()
	images := writeTestImages(t, filepath.Join(dir, "images"), 3)
	ctx := stdcontext.Background()
	options := resumeTrainOptions
	ref := filepath.Join(dir, "straight")
	_, err := TrainConcept(ctx, p, []string{images}, options(ref, 4))
	require.NoError(t, err)
	refFinal := conceptTensors(t, FinalConceptPath(ref, "<toy>"))
	refConcept, refMoments, refState := checkpointFiles(t, filepath.Join(ref, "checkpoint-4"))
	assert.Equal(t, refFinal, refConcept, "final file = last checkpoint's concept")
	assert.Len(t, lossLines(t, ref), 4)

	t.Run("in-process", func(t *testing.T) {
		out := filepath.Join(dir, "resumed")
		_, err := TrainConcept(ctx, p, []string{images}, options(out, 2))
		require.NoError(t, err)
		a, _, _ := checkpointFiles(t, filepath.Join(out, "checkpoint-2"))
		b, _, _ := checkpointFiles(t, filepath.Join(ref, "checkpoint-2"))
		assert.Equal(t, b, a, "same seed, same concept after 2 steps")

		o := options(out, 4)
		o.ResumeFrom = "latest"
		_, err = TrainConcept(ctx, p, []string{images}, o)
		require.NoError(t, err)
		concept, moments, state := checkpointFiles(t, filepath.Join(out, "checkpoint-4"))
		assert.Equal(t, refConcept, concept, "concept after 2 + 2 resumed steps vs 4 straight")
		assert.True(t, bytes.Equal(refMoments, moments), "AdamW moments after 2 + 2 resumed steps vs 4 straight")
		assert.Equal(t, refState, state, "step, random states and data order")
		assert.Equal(t, refFinal, conceptTensors(t, FinalConceptPath(out, "<toy>")))
		assert.Equal(t, lossLines(t, ref), lossLines(t, out), "loss log of the resumed run")
	})

	t.Run("sigkill", func(t *testing.T) {
		child := filepath.Join(dir, "killed")
		writeTestImages(t, filepath.Join(child, "images"), 3)
		cmd := exec.Command(os.Args[0], "-test.run=^TestTrainKilledChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), killEnv+"="+child)
		out, err := cmd.CombinedOutput()
		var exitErr *exec.ExitError
		require.ErrorAs(t, err, &exitErr, "child output: %s", out)
		status, ok := exitErr.Sys().(syscall.WaitStatus)
		require.True(t, ok)
		require.True(t, status.Signaled() && status.Signal() == syscall.SIGKILL, "child killed by SIGKILL: %v\n%s", err, out)
		steps, err := checkpoints(filepath.Join(child, "out"))
		require.NoError(t, err)
		require.Equal(t, []int{2}, steps, "only the step-2 checkpoint was written before the kill")
		require.Len(t, lossLines(t, filepath.Join(child, "out")), 3, "the killed run logged step 3")

		o := options(filepath.Join(child, "out"), 4)
		o.ResumeFrom = "latest"
		_, err = TrainConcept(ctx, p, []string{filepath.Join(child, "images")}, o)
		require.NoError(t, err)
		concept, moments, state := checkpointFiles(t, filepath.Join(child, "out", "checkpoint-4"))
		assert.Equal(t, refConcept, concept, "concept of the killed-and-resumed run vs uninterrupted")
		assert.True(t, bytes.Equal(refMoments, moments), "AdamW moments of the killed-and-resumed run")
		assert.Equal(t, refState, state)
		assert.Equal(t, lossLines(t, ref), lossLines(t, filepath.Join(child, "out")), "loss log after resume")
	})
}
