package neti

import (
	stdcontext "context"
	"fmt"
	"slices"
)

// TrainInterrupted is TrainConcept's error when its context is cancelled (Ctrl-C or SIGTERM in neti train,
// a deadline): training stops between micro-batches, the interrupted step is undone (its random draws
// included), and the steps done are saved in a checkpoint that ResumeFrom continues exactly, as if the
// run had not stopped. errors.Is(err, context.Canceled) (or DeadlineExceeded) holds for it.
type TrainInterrupted struct {
	// Step is the number of optimizer steps done and kept; Total is MaxTrainSteps.
	Step, Total int
	// Checkpoint is the checkpoint folder holding step Step (written on interruption unless it was just
	// written), or "" when nothing could be saved: no step done, or no OutputDir.
	Checkpoint string
	// Cause is why the context ended: context.Cause(ctx), e.g. neti train's "interrupted by Ctrl-C (SIGINT)".
	Cause error

	err error // the context's Err
}

// Error says where training stopped, what was saved and how to continue.
func (e *TrainInterrupted) Error() string {
	switch {
	case e.Step == 0:
		return fmt.Sprintf("neti: train: stopped before the first of %d steps finished (%v): nothing to resume; "+
			"start the run again", e.Total, e.Cause)
	case e.Checkpoint == "":
		return fmt.Sprintf("neti: train: stopped after step %d of %d (%v); no checkpoint was written because "+
			"TrainOptions.OutputDir is empty: set it to keep interrupted runs", e.Step, e.Total, e.Cause)
	}
	return fmt.Sprintf("neti: train: stopped after step %d of %d (%v); the steps done are in %s: continue exactly "+
		"with ResumeFrom %q (neti train --resume_from_checkpoint %s) and the same options", e.Step, e.Total, e.Cause,
		e.Checkpoint, e.Checkpoint, e.Checkpoint)
}

// Unwrap returns Cause and the context's error, so that errors.Is(err, context.Canceled) holds.
func (e *TrainInterrupted) Unwrap() []error { return []error{e.Cause, e.err} }

// drawState is the trainer's random and data-order state at the start of an optimizer step.
type drawState struct {
	rng, dropout []byte
	order        []int
	cursor       int
}

// markDraws records the state that drawing micro-batches advances.
func (t *trainer) markDraws() (drawState, error) {
	rng, err := t.pcg.MarshalBinary()
	if err != nil {
		return drawState{}, err
	}
	dropout, err := t.dropout.MarshalBinary()
	if err != nil {
		return drawState{}, err
	}
	return drawState{rng: rng, dropout: dropout, order: slices.Clone(t.order), cursor: t.cursor}, nil
}

// rewind restores the state recorded by markDraws, undoing the draws of an unfinished step.
func (t *trainer) rewind(s drawState) error {
	if err := t.pcg.UnmarshalBinary(s.rng); err != nil {
		return err
	}
	if err := t.dropout.UnmarshalBinary(s.dropout); err != nil {
		return err
	}
	t.order, t.cursor = s.order, s.cursor
	return nil
}

// interrupted saves a checkpoint of the steps done (unless saved, the folder of t.step's checkpoint, is
// already set) and returns the TrainInterrupted error of ctx's cancellation.
func (t *trainer) interrupted(ctx stdcontext.Context, saved string) error {
	e := &TrainInterrupted{Step: t.step, Total: t.opts.MaxTrainSteps, Cause: stdcontext.Cause(ctx), Checkpoint: saved,
		err: ctx.Err()}
	if e.Cause == nil {
		e.Cause = e.err
	}
	if saved == "" && t.step > 0 && t.opts.OutputDir != "" {
		dir, err := t.saveCheckpoint()
		if err != nil {
			return fmt.Errorf("neti: train: stopped after step %d of %d (%w), and saving its checkpoint failed: %w",
				t.step, t.opts.MaxTrainSteps, e.err, err)
		}
		e.Checkpoint = dir
	}
	return e
}
