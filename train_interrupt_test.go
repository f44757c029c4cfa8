package neti

import (
	stdcontext "context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cancelAfterChecks is a context whose Err reports cancellation from its n+1-th call on: training checks
// its context before each micro-batch, so this cancels it in the middle of a chosen step.
type cancelAfterChecks struct {
	stdcontext.Context
	left atomic.Int32
}

// Err is nil for the first n calls, then context.Canceled.
func (c *cancelAfterChecks) Err() error {
	if c.left.Add(-1) < 0 {
		return stdcontext.Canceled
	}
	return nil
}

// TestTrainInterruptedResumes cancels training in the middle of step 2 (after its first of 2
// micro-batches): the error is a *TrainInterrupted at step 1 naming a checkpoint written then (no
// periodic checkpoint is due), the unfinished step's random draws are undone, and resuming from that
// checkpoint gives, bit for bit, the concept and loss log of an uninterrupted run.
func TestTrainInterruptedResumes(t *testing.T) {
	p := loadTiny(t)
	dir := t.TempDir()
	images := writeTestImages(t, filepath.Join(dir, "images"), 3)
	options := func(out string) TrainOptions {
		o := tinyTrainOptions(out, 3) // 2 micro-batches per step
		o.CheckpointEvery = 100
		return o
	}
	ref := filepath.Join(dir, "straight")
	_, err := TrainConcept(stdcontext.Background(), p, []string{images}, options(ref))
	require.NoError(t, err)

	out := filepath.Join(dir, "interrupted")
	ctx := &cancelAfterChecks{Context: stdcontext.Background()}
	ctx.left.Store(3) // step 1: checks 1 and 2; step 2: check 3 passes, check 4 (second micro-batch) cancels
	_, err = TrainConcept(ctx, p, []string{images}, options(out))
	require.Error(t, err)
	var stopped *TrainInterrupted
	require.ErrorAs(t, err, &stopped)
	assert.ErrorIs(t, err, stdcontext.Canceled)
	assert.Equal(t, 1, stopped.Step)
	assert.Equal(t, 3, stopped.Total)
	assert.Equal(t, filepath.Join(out, "checkpoint-1"), stopped.Checkpoint)
	for _, want := range []string{"stopped after step 1 of 3", "context canceled", stopped.Checkpoint,
		"--resume_from_checkpoint " + stopped.Checkpoint, `ResumeFrom "` + stopped.Checkpoint + `"`} {
		assert.Contains(t, err.Error(), want)
	}
	steps, err := checkpoints(out)
	require.NoError(t, err)
	assert.Equal(t, []int{1}, steps, "the interruption's checkpoint only")
	assert.Len(t, lossLines(t, out), 1, "the unfinished step is not logged")
	assert.NoFileExists(t, FinalConceptPath(out, "<toy>"))

	o := options(out)
	o.ResumeFrom = stopped.Checkpoint
	_, err = TrainConcept(stdcontext.Background(), p, []string{images}, o)
	require.NoError(t, err)
	assert.Equal(t, conceptTensors(t, FinalConceptPath(ref, "<toy>")), conceptTensors(t, FinalConceptPath(out, "<toy>")),
		"interrupted mid-step, resumed: the uninterrupted run's concept")
	assert.Equal(t, lossLines(t, ref), lossLines(t, out), "and its loss log")
}

// TestTrainInterruptedMessages checks the errors when nothing can be saved: no step done, no OutputDir.
func TestTrainInterruptedMessages(t *testing.T) {
	cause := errors.New("SIGTERM received")
	e := &TrainInterrupted{Step: 0, Total: 5, Cause: cause}
	assert.Contains(t, e.Error(), "before the first of 5 steps finished (SIGTERM received): nothing to resume")
	e = &TrainInterrupted{Step: 2, Total: 5, Cause: cause}
	assert.Contains(t, e.Error(), "TrainOptions.OutputDir is empty")
	assert.ErrorIs(t, e, cause)
}
