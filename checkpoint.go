package neti

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/org/neti/internal/safetensors"
)

// A training checkpoint is a folder OutputDir/checkpoint-<step>/ holding
//
//	concept.safetensors  the concept at that step (SaveConcept)
//	state.safetensors    AdamW's moments: adam.m.<name> and adam.v.<name> for each trained tensor (for P+,
//	                     for its vectors, whose values are there too: pplus.vectors)
//	state.json           step, AdamW step, the PCG states of the training draws and of nested dropout,
//	                     the data order and cursor, the options (TrainOptions as JSON, defaults applied)
//	                     and the run's fingerprint (the must-match options and the training files)
//
// It is written into a temporary folder renamed into place, so a crash leaves either the whole
// checkpoint or none; the KeepCheckpoints newest are kept.

// Checkpoint file names.
const (
	checkpointPrefix  = "checkpoint-"
	checkpointConcept = "concept.safetensors"
	checkpointTensors = "state.safetensors"
	checkpointJSON    = "state.json"
	lossLogName       = "loss.jsonl"
	validationDir     = "validation"
)

// checkpointState is state.json.
type checkpointState struct {
	Step        int               `json:"step"`
	AdamStep    int               `json:"adam_step"`
	RNG         []byte            `json:"rng"`
	Dropout     []byte            `json:"nested_dropout_rng"`
	Order       []int             `json:"order"`
	Cursor      int               `json:"cursor"`
	Fingerprint map[string]string `json:"fingerprint"`
	Options     TrainOptions      `json:"options"`
	// Images are the training files (base names, in order, as the fingerprint's "files") with the
	// SHA-256 of their contents; absent in checkpoints of older versions.
	Images []imageHash `json:"images_sha256,omitempty"`
}

// imageHash is one training file of a checkpoint and the SHA-256 of its contents.
type imageHash struct {
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
}

// imageHashes lists the run's training files with their SHA-256.
func (t *trainer) imageHashes() []imageHash {
	out := make([]imageHash, len(t.data.Files))
	for i, f := range t.data.Files {
		out[i] = imageHash{File: filepath.Base(f), SHA256: t.data.SHA256[i]}
	}
	return out
}

// checkImages compares the training images' contents with those recorded in a checkpoint (whose file
// names already match): an image edited in place is an error naming it.
func (t *trainer) checkImages(dir string, recorded []imageHash) error {
	if recorded == nil {
		if t.opts.OnNote != nil {
			t.opts.OnNote(fmt.Sprintf("note: checkpoint %s records no image hashes (written by an older neti): the "+
				"training images' names are checked, not their contents", dir))
		}
		return nil
	}
	if len(recorded) != len(t.data.Files) {
		return fmt.Errorf("neti: train: resume from %s: the checkpoint records %d training images, this run has %d: "+
			"use the same images", dir, len(recorded), len(t.data.Files))
	}
	for i, f := range t.data.Files {
		if recorded[i].SHA256 != t.data.SHA256[i] {
			return fmt.Errorf("neti: train: resume from %s: training image %s changed since the checkpoint (SHA-256 "+
				"%.12s…, now %.12s…): resuming would not continue the same run; restore the image as it was, or "+
				"start a new run in another output folder (TrainOptions.OutputDir, --output_dir) without ResumeFrom "+
				"(--resume_from_checkpoint)", dir, f, recorded[i].SHA256, t.data.SHA256[i])
		}
	}
	return nil
}

// fingerprintFiles is the fingerprint's key of the training files.
const fingerprintFiles = "files"

// fingerprint is what a resumed run must share with the checkpoint's for the run to continue exactly: the
// TrainOptions fields tagged resume:"must-match" by JSON name (optionsFingerprint) and "files", the
// training files' base names in order. A checkpoint records it for its readers; resuming compares the
// recorded options themselves (resumeDiffs) and the files.
func (t *trainer) fingerprint() map[string]string {
	fp := optionsFingerprint(t.opts)
	fp[fingerprintFiles] = t.fileNames()
	return fp
}

// fileNames lists the training files' base names, comma-separated.
func (t *trainer) fileNames() string {
	files := make([]string, len(t.data.Files))
	for i, f := range t.data.Files {
		files[i] = filepath.Base(f)
	}
	return strings.Join(files, ",")
}

// saveCheckpoint writes the checkpoint of the current step and removes the oldest beyond KeepCheckpoints.
func (t *trainer) saveCheckpoint() (string, error) {
	o := t.opts
	dir := filepath.Join(o.OutputDir, fmt.Sprintf("%s%d", checkpointPrefix, t.step))
	fail := func(err error) (string, error) {
		return "", fmt.Errorf("neti: train: writing checkpoint %s: %w", dir, err)
	}
	tmp, err := os.MkdirTemp(o.OutputDir, ".checkpoint-*.tmp")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(tmp) // nothing left once renamed
	c, err := t.snapshot()
	if err != nil {
		return fail(err)
	}
	if err := SaveConcept(filepath.Join(tmp, checkpointConcept), c); err != nil {
		return fail(err)
	}
	moments := make(map[string]*tensors.Tensor)
	names, dims := t.optimizerTensors()
	for i, name := range names {
		moments["adam.m."+name] = tensors.FromFlatDataAndDimensions(slices.Clone(t.adam.m[i]), dims[i]...)
		moments["adam.v."+name] = tensors.FromFlatDataAndDimensions(slices.Clone(t.adam.v[i]), dims[i]...)
	}
	if t.pplus != nil {
		moments[pplusVectorsName] = tensors.FromFlatDataAndDimensions(slices.Clone(t.params[0]), dims[0]...)
	}
	if err := safetensors.Write(filepath.Join(tmp, checkpointTensors), moments,
		map[string]string{"format": "neti-train-state", "step": strconv.Itoa(t.step)}); err != nil {
		return fail(err)
	}
	rng, err := t.pcg.MarshalBinary()
	if err != nil {
		return fail(err)
	}
	dropout, err := t.dropout.MarshalBinary()
	if err != nil {
		return fail(err)
	}
	state, err := json.MarshalIndent(checkpointState{
		Step: t.step, AdamStep: t.adam.step, RNG: rng, Dropout: dropout, Order: t.order, Cursor: t.cursor,
		Fingerprint: t.fingerprint(), Options: o, Images: t.imageHashes(),
	}, "", "  ")
	if err != nil {
		return fail(err)
	}
	if err := writeSynced(filepath.Join(tmp, checkpointJSON), state); err != nil {
		return fail(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fail(err)
	}
	syncDir(o.OutputDir)
	return dir, t.pruneCheckpoints()
}

// writeSynced writes data to a new file and flushes it to disk.
func writeSynced(path string, data []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// syncDir flushes a folder's entries (renames) to disk where the platform allows it.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

// checkpoints lists the checkpoint folders of dir by step, oldest first.
func checkpoints(dir string) ([]int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var steps []int
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), checkpointPrefix) {
			continue
		}
		if n, err := strconv.Atoi(strings.TrimPrefix(e.Name(), checkpointPrefix)); err == nil && n >= 0 {
			steps = append(steps, n)
		}
	}
	sort.Ints(steps)
	return steps, nil
}

// pruneCheckpoints removes the oldest checkpoints beyond KeepCheckpoints and leftover temporary folders.
func (t *trainer) pruneCheckpoints() error {
	dir := t.opts.OutputDir
	if leftovers, err := filepath.Glob(filepath.Join(dir, ".checkpoint-*.tmp")); err == nil {
		for _, l := range leftovers {
			_ = os.RemoveAll(l)
		}
	}
	if t.opts.KeepCheckpoints < 0 {
		return nil
	}
	steps, err := checkpoints(dir)
	if err != nil {
		return err
	}
	for len(steps) > t.opts.KeepCheckpoints {
		if err := os.RemoveAll(filepath.Join(dir, fmt.Sprintf("%s%d", checkpointPrefix, steps[0]))); err != nil {
			return fmt.Errorf("neti: train: removing an old checkpoint: %w", err)
		}
		steps = steps[1:]
	}
	return nil
}

// checkFreshOutput prepares OutputDir for a new run: it is created if needed, and must not hold
// checkpoints of another run.
func checkFreshOutput(dir string) error {
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("neti: train: output folder: %w", err)
	}
	steps, err := checkpoints(dir)
	if err != nil {
		return fmt.Errorf("neti: train: output folder: %w", err)
	}
	if len(steps) > 0 {
		return fmt.Errorf("neti: train: %s already holds checkpoints (up to step %d) of a run: resume it with "+
			"ResumeFrom \"latest\" (--resume_from_checkpoint latest) or choose another output folder",
			dir, steps[len(steps)-1])
	}
	return nil
}

// resolveCheckpoint turns o.ResumeFrom into a checkpoint folder; a missing one is an error.
func resolveCheckpoint(o TrainOptions) (string, error) {
	dir := o.ResumeFrom
	if dir == "latest" {
		steps, err := checkpoints(o.OutputDir)
		if err != nil || len(steps) == 0 {
			return "", fmt.Errorf("neti: train: TrainOptions.ResumeFrom: resume \"latest\": no %s<step> folder in "+
				"%s: nothing to resume (leave ResumeFrom empty to start a new run)", checkpointPrefix, o.OutputDir)
		}
		dir = filepath.Join(o.OutputDir, fmt.Sprintf("%s%d", checkpointPrefix, steps[len(steps)-1]))
	}
	for _, name := range []string{checkpointJSON, checkpointTensors, checkpointConcept} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return "", fmt.Errorf("neti: train: TrainOptions.ResumeFrom: resume from %s: %w: expected a %s<step> "+
				"folder written by training, or \"latest\"", dir, err, checkpointPrefix)
		}
	}
	return dir, nil
}

// resume restores the concept, optimizer, step and random states of a checkpoint.
func (t *trainer) resume() error {
	dir, err := resolveCheckpoint(t.opts)
	if err != nil {
		return err
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("neti: train: resume from %s: "+format, append([]any{dir}, args...)...)
	}
	data, err := os.ReadFile(filepath.Join(dir, checkpointJSON))
	if err != nil {
		return fail("%v", err)
	}
	var st checkpointState
	if err := json.Unmarshal(data, &st); err != nil {
		return fail("%s is not valid: %v", checkpointJSON, err)
	}
	// The checkpoint's options were recorded with defaults applied; applying them again fills the fields
	// of options added since it was written (absent from its JSON) with their defaults.
	recorded := st.Options.withDefaults(st.Options.Resolution)
	diffs := resumeDiffs(recorded, t.opts)
	if files := t.fileNames(); st.Fingerprint[fingerprintFiles] != files {
		diffs = append(diffs, fmt.Sprintf("the training files were %q, now %q", st.Fingerprint[fingerprintFiles], files))
	}
	if len(diffs) > 0 {
		return fail("the options differ from the checkpoint's (%s): use the same options; only %s may change",
			strings.Join(diffs, "; "), mayChangeNames())
	}
	if err := t.checkImages(dir, st.Images); err != nil {
		return err
	}
	if st.Step > t.opts.MaxTrainSteps {
		return fail("the checkpoint is at step %d, past MaxTrainSteps %d: raise MaxTrainSteps", st.Step, t.opts.MaxTrainSteps)
	}
	saved, err := LoadConcept(filepath.Join(dir, checkpointConcept))
	if err != nil {
		return err
	}
	if saved.BaseIdentity != nil && t.concept.BaseIdentity != nil {
		if why := saved.BaseIdentity.differs(t.concept.BaseIdentity); why != "" {
			return fail("it was trained on %s, and %s is another base model: %s; resume with the model the run "+
				"started with", saved.BaseModel, t.p.Dir, why)
		}
	}
	if saved.Mapper != t.concept.Mapper || saved.Placeholder != t.concept.Placeholder {
		return fail("its concept (%q, mapper %+v) is not this run's (%q, mapper %+v)", saved.Placeholder, saved.Mapper,
			t.concept.Placeholder, t.concept.Mapper)
	}
	if err := t.concept.SetWeights(saved.Weights()); err != nil {
		return fail("%v", err)
	}
	f, err := safetensors.Open(filepath.Join(dir, checkpointTensors))
	if err != nil {
		return fail("%v", err)
	}
	defer f.Close()
	if f.Metadata()["step"] != strconv.Itoa(st.Step) {
		return fail("%s is for step %q but %s for step %d: the checkpoint is inconsistent", checkpointTensors,
			f.Metadata()["step"], checkpointJSON, st.Step)
	}
	names, shapes := t.optimizerTensors()
	if t.pplus != nil {
		values, dims, err := f.Float32(pplusVectorsName)
		if err != nil {
			return fail("it holds no %s: a P+ checkpoint of an earlier version, which trained the output head "+
				"directly (its vectors moved far more per step than TI's); P+ now trains its per-layer vectors, so "+
				"start a new run without ResumeFrom (--resume_from_checkpoint) (%v)", pplusVectorsName, err)
		}
		if !slices.Equal(dims, shapes[0]) {
			return fail("%s has shape %v, expected %v", pplusVectorsName, dims, shapes[0])
		}
		t.pplusResumed = values
	}
	t.adam = adamW{step: st.AdamStep}
	for i, name := range names {
		for _, kind := range []string{"m", "v"} {
			values, dims, err := f.Float32("adam." + kind + "." + name)
			if err != nil {
				return fail("%v", err)
			}
			if !slices.Equal(dims, shapes[i]) {
				return fail("adam.%s.%s has shape %v, expected %v", kind, name, dims, shapes[i])
			}
			if kind == "m" {
				t.adam.m = append(t.adam.m, values)
			} else {
				t.adam.v = append(t.adam.v, values)
			}
		}
	}
	if err := t.pcg.UnmarshalBinary(st.RNG); err != nil {
		return fail("random state: %v", err)
	}
	if err := t.dropout.UnmarshalBinary(st.Dropout); err != nil {
		return fail("%v", err)
	}
	for _, i := range st.Order {
		if i < 0 || i >= len(t.data.images) {
			return fail("data order holds image %d of %d", i, len(t.data.images))
		}
	}
	t.step, t.order, t.cursor, t.checkpoint = st.Step, st.Order, st.Cursor, dir
	return nil
}

// FinalConceptPath is where training writes the final concept: dir/<placeholder>.safetensors, the
// placeholder reduced to letters, digits, '-', '_' and '.' ("<cat-toy>" → "cat-toy.safetensors").
func FinalConceptPath(dir, placeholder string) string {
	safe := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		case r == '<' || r == '>':
			return -1
		}
		return '_'
	}, placeholder)
	safe = strings.Trim(safe, ".")
	if safe == "" {
		safe = "concept"
	}
	return filepath.Join(dir, safe+".safetensors")
}

// lossLog appends one JSON line per optimizer step to OutputDir/loss.jsonl: {"step", "loss", "lr"}.
type lossLog struct {
	f *os.File
	w *bufio.Writer
}

// lossLine is one line of the loss log.
type lossLine struct {
	Step int     `json:"step"`
	Loss float64 `json:"loss"`
	LR   float64 `json:"lr"`
}

// openLossLog opens dir/loss.jsonl for a run at step: a new run starts an empty log; a resumed one keeps
// the lines up to its step (a crashed run may have logged steps past its last checkpoint).
func openLossLog(dir string, step int) (*lossLog, error) {
	path := filepath.Join(dir, lossLogName)
	var kept []byte
	if step > 0 {
		data, err := os.ReadFile(path)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("neti: train: loss log: %w", err)
		}
		for _, line := range strings.SplitAfter(string(data), "\n") {
			var l lossLine
			if json.Unmarshal([]byte(line), &l) == nil && l.Step <= step && strings.HasSuffix(line, "\n") {
				kept = append(kept, line...)
			}
		}
	}
	if err := os.WriteFile(path, kept, 0o644); err != nil {
		return nil, fmt.Errorf("neti: train: loss log: %w", err)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("neti: train: loss log: %w", err)
	}
	return &lossLog{f: f, w: bufio.NewWriter(f)}, nil
}

// append writes one step's line and flushes it.
func (l *lossLog) append(step int, loss, lr float64) error {
	data, err := json.Marshal(lossLine{Step: step, Loss: loss, LR: lr})
	if err != nil {
		return err
	}
	if _, err := l.w.Write(append(data, '\n')); err != nil {
		return fmt.Errorf("neti: train: loss log: %w", err)
	}
	return l.w.Flush()
}

// close closes the log file.
func (l *lossLog) close() { _ = l.f.Close() }
