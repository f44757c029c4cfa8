package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/neti"
)

// cancelOnWrite is a stderr that cancels a context once the output holds a given text (a progress line).
type cancelOnWrite struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	when   string
	cancel context.CancelCauseFunc
}

// Write records p and cancels when the text has appeared.
func (w *cancelOnWrite) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.when) {
		w.cancel(signalCause{syscall.SIGTERM})
	}
	return n, err
}

// shellWords splits a command line printed by resumeCommand (words separated by spaces, some in single
// quotes, a quote written as quote, backslash, quote, quote).
func shellWords(line string) []string {
	var words []string
	var cur strings.Builder
	inQuote, started, escaped := false, false, false
	for _, r := range line {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case r == '\\' && !inQuote:
			escaped, started = true, true
		case r == '\'':
			inQuote, started = !inQuote, true
		case r == ' ' && !inQuote:
			if started {
				words, started = append(words, cur.String()), false
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
			started = true
		}
	}
	if started {
		words = append(words, cur.String())
	}
	return words
}

// TestTrainStopsOnSignal: neti train whose context is cancelled as by SIGTERM after step 1 (of 3) stops
// at the next step, writes checkpoint-1 (no periodic checkpoint is due), prints the exact resume command
// and returns an error naming the signal, the step and the checkpoint, not a bare "context canceled".
// Running the printed command finishes the run with the concept of an uninterrupted one.
func TestTrainStopsOnSignal(t *testing.T) {
	images := writeImages(t)
	dir := t.TempDir()
	args := func(out string) []string {
		return []string{"--pretrained_model_name_or_path", "../../testdata/tiny-sd1", "--train_data_dir", images,
			"--placeholder_token", "<toy>", "--initializer_token", "good", "--resolution", "32", "--max_train_steps", "3",
			"--train_batch_size", "1", "--gradient_accumulation_steps", "1", "--checkpointing_steps", "100", "--seed", "4",
			"--output_dir", out}
	}
	straight := filepath.Join(dir, "straight")
	_, stderr, err := runCLI(t, append([]string{"train"}, args(straight)...)...)
	require.NoError(t, err, stderr)

	out := filepath.Join(dir, "stopped")
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	errOut := &cancelOnWrite{when: "step 1/3", cancel: cancel}
	var stdout bytes.Buffer
	err = run(ctx, append([]string{"train"}, args(out)...), &stdout, errOut)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
	checkpoint := filepath.Join(out, "checkpoint-1")
	assert.Equal(t, "train: stopped by SIGTERM (terminated) after step 1 of 3: checkpoint "+checkpoint+
		" written; resume with the command above", err.Error())
	assert.DirExists(t, checkpoint)
	assert.NoFileExists(t, neti.FinalConceptPath(out, "<toy>"))
	printed := errOut.buf.String()
	assert.Contains(t, printed, "stopped after step 1 of 3; the steps done are in "+checkpoint)
	_, line, ok := strings.Cut(printed, "resume with:\n  ")
	require.True(t, ok, printed)
	line, _, _ = strings.Cut(line, "\n")
	assert.Equal(t, "neti train "+strings.Join(quoted(args(out)), " ")+
		" --resume_from_checkpoint "+checkpoint, line)

	words := shellWords(line)
	require.Equal(t, []string{"neti", "train"}, words[:2])
	stdoutResumed, stderr, err := runCLI(t, words[1:]...)
	require.NoError(t, err, stderr)
	assert.Contains(t, stdoutResumed, "wrote "+neti.FinalConceptPath(out, "<toy>"))
	want, err := neti.LoadConcept(neti.FinalConceptPath(straight, "<toy>"))
	require.NoError(t, err)
	got, err := neti.LoadConcept(neti.FinalConceptPath(out, "<toy>"))
	require.NoError(t, err)
	for name, w := range want.Weights() {
		assert.Equal(t, w.Value(), got.Weights()[name].Value(), "%s: stopped and resumed vs uninterrupted", name)
	}
}

// quoted is shellQuote of each word.
func quoted(words []string) []string {
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = shellQuote(w)
	}
	return out
}

// TestResumeCommand replaces a given --resume_from_checkpoint (both spellings) and quotes for the shell.
func TestResumeCommand(t *testing.T) {
	assert.Equal(t, `neti train --placeholder_token '<my cat>' --seed 1 --resume_from_checkpoint 'out dir/checkpoint-7'`,
		resumeCommand([]string{"--placeholder_token", "<my cat>", "--resume_from_checkpoint", "latest", "--seed", "1"},
			"out dir/checkpoint-7"))
	assert.Equal(t, `neti train -seed=1 --resume_from_checkpoint o/checkpoint-2`,
		resumeCommand([]string{"-resume_from_checkpoint=o/checkpoint-1", "-seed=1"}, "o/checkpoint-2"))
	assert.Equal(t, `'it'\''s'`, shellQuote("it's"))
	assert.Equal(t, []string{"a", "<my cat>", "it's"}, shellWords(`a '<my cat>' 'it'\''s'`))
}

// TestSignalContext sends this process SIGTERM: the context of neti's main is cancelled with a cause that
// names the signal and is a context.Canceled, and the signal is reported for the exit status (143).
func TestSignalContext(t *testing.T) {
	ctx, received := signalContext()
	_, ok := received()
	require.False(t, ok)
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGTERM))
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("SIGTERM did not cancel the context")
	}
	cause := context.Cause(ctx)
	assert.EqualError(t, cause, "stopped by SIGTERM (terminated)")
	assert.True(t, errors.Is(cause, context.Canceled))
	s, ok := received()
	assert.True(t, ok)
	assert.Equal(t, 143, 128+int(s))
}
