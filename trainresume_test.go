package neti

import (
	stdcontext "context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTrainOptionsResumeTags: every TrainOptions field says whether a resumed run may change it, so a new
// option cannot be forgotten by resuming: a field without a resume tag (or with another value) fails here.
// A must-match field is recorded in checkpoints (a JSON name, not "-") under a name of its own, and is
// data, not a callback.
func TestTrainOptionsResumeTags(t *testing.T) {
	typ := reflect.TypeFor[TrainOptions]()
	keys := make(map[string]string)
	for i := range typ.NumField() {
		f := typ.Field(i)
		tag, ok := f.Tag.Lookup(resumeTag)
		if !assert.True(t, ok, "TrainOptions.%s has no resume tag: add resume:%q if a resumed run must use the "+
			"checkpoint's value, resume:%q if it may differ", f.Name, resumeMustMatch, resumeMayChange) {
			continue
		}
		if !assert.Contains(t, []string{resumeMustMatch, resumeMayChange}, tag, "TrainOptions.%s", f.Name) {
			continue
		}
		if tag != resumeMustMatch {
			continue
		}
		key, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		assert.NotContains(t, []string{"", "-"}, key, "TrainOptions.%s is must-match: checkpoints must record it in "+
			"JSON (give it a json name)", f.Name)
		assert.NotEqual(t, reflect.Func, f.Type.Kind(), "TrainOptions.%s: a callback cannot be compared", f.Name)
		if other, dup := keys[key]; dup {
			t.Errorf("TrainOptions.%s and .%s share the JSON name %q", other, f.Name, key)
		}
		keys[key] = f.Name
	}
	require.Len(t, resumeFields, typ.NumField())
	assert.Equal(t, "MaxTrainSteps, OutputDir, CheckpointEvery, KeepCheckpoints, ResumeFrom, ValidateEvery, "+
		"ValidationPrompts, ValidationSeeds, ValidationInferenceSteps and the callbacks", mayChangeNames())
}

// changeField sets field i of o to another value of its type.
func changeField(t *testing.T, o *TrainOptions, i int) {
	t.Helper()
	v := reflect.ValueOf(o).Elem().Field(i)
	switch v.Kind() {
	case reflect.String:
		v.SetString(v.String() + "x")
	case reflect.Bool:
		v.SetBool(!v.Bool())
	case reflect.Int:
		v.SetInt(v.Int() + 1)
	case reflect.Uint64:
		v.SetUint(v.Uint() + 1)
	case reflect.Float64:
		v.SetFloat(v.Float() + 0.125)
	case reflect.Slice:
		v.Set(reflect.Append(v, reflect.Zero(v.Type().Elem())))
	case reflect.Func:
		v.Set(reflect.MakeFunc(v.Type(), func(args []reflect.Value) []reflect.Value {
			out := make([]reflect.Value, v.Type().NumOut())
			for j := range out {
				out[j] = reflect.Zero(v.Type().Out(j))
			}
			return out
		}))
	default:
		t.Fatalf("TrainOptions.%s is a %s: teach changeField to change it", reflect.TypeFor[TrainOptions]().Field(i).Name,
			v.Kind())
	}
}

// TestResumeDiffs changes each TrainOptions field in turn: a must-match field is reported, naming the field
// and both values; a may-change field is not.
func TestResumeDiffs(t *testing.T) {
	base := tinyTrainOptions("out", 2).withDefaults(64)
	require.Empty(t, resumeDiffs(base, base))
	for _, f := range resumeFields {
		changed := base
		changed.ValidationPrompts = append([]string(nil), base.ValidationPrompts...) // not base's backing array
		changed.ValidationSeeds = append([]uint64(nil), base.ValidationSeeds...)
		changeField(t, &changed, f.index)
		diffs := resumeDiffs(base, changed)
		if !f.mustMatch {
			assert.Empty(t, diffs, "TrainOptions.%s may change on resume", f.name)
			continue
		}
		was, now := optionsFingerprint(base)[f.key], optionsFingerprint(changed)[f.key]
		assert.Equal(t, []string{fmt.Sprintf("TrainOptions.%s was %q, now %q", f.name, was, now)}, diffs,
			"TrainOptions.%s must match on resume", f.name)
	}
}

// TestResumeRecordedOptions: the options a checkpoint records (JSON) compare equal to the run's own once
// read back, and a checkpoint without a field (one written before that option existed) takes its default.
func TestResumeRecordedOptions(t *testing.T) {
	o := tinyTrainOptions("out", 2)
	o.Method, o.Templates, o.NoFlip, o.NoWeightDecay, o.LearningRate, o.Beta2 = MethodTI, TemplatesToy, true, true, 3e-3, 0.98
	o = o.withDefaults(64)
	data, err := json.Marshal(o)
	require.NoError(t, err)
	var recorded TrainOptions
	require.NoError(t, json.Unmarshal(data, &recorded))
	assert.Empty(t, resumeDiffs(recorded.withDefaults(recorded.Resolution), o), "%s", data)

	var raw map[string]any
	require.NoError(t, json.Unmarshal(data, &raw))
	delete(raw, "adam_epsilon") // as if Epsilon had been added after the checkpoint was written
	data, err = json.Marshal(raw)
	require.NoError(t, err)
	recorded = TrainOptions{}
	require.NoError(t, json.Unmarshal(data, &recorded))
	assert.Empty(t, resumeDiffs(recorded.withDefaults(recorded.Resolution), o), "a missing field reads as its default")
}

// TestResumeChangedOptions trains 2 steps, then resumes: with another seed (must-match) it is refused
// before any work, naming the option, both values and what may change; with other may-change options, from
// a checkpoint whose fingerprint has the keys of the hand-written list of earlier versions, it resumes.
func TestResumeChangedOptions(t *testing.T) {
	p := loadTiny(t)
	dir := t.TempDir()
	images := writeTestImages(t, filepath.Join(dir, "images"), 2)
	out := filepath.Join(dir, "out")
	_, err := TrainConcept(stdcontext.Background(), p, []string{images}, resumeTrainOptions(out, 2))
	require.NoError(t, err)

	o := resumeTrainOptions(out, 3)
	o.ResumeFrom, o.Seed = "latest", 4
	_, err = TrainConcept(stdcontext.Background(), p, []string{images}, o)
	require.Error(t, err)
	for _, want := range []string{filepath.Join(out, "checkpoint-2"), `TrainOptions.Seed was "3", now "4"`,
		"use the same options", "only MaxTrainSteps, OutputDir, CheckpointEvery"} {
		assert.Contains(t, err.Error(), want)
	}
	steps, err := checkpoints(out)
	require.NoError(t, err)
	assert.Equal(t, []int{2}, steps, "nothing trained")

	// The fingerprint as versions before the resume tags wrote it: resuming reads the recorded options.
	statePath := filepath.Join(out, "checkpoint-2", checkpointJSON)
	data, err := os.ReadFile(statePath)
	require.NoError(t, err)
	var raw map[string]any
	require.NoError(t, json.Unmarshal(data, &raw))
	raw["fingerprint"] = map[string]string{
		"method": "neti", "placeholder": "<toy>", "super_category": "good", "bypass": "true", "batch_size": "1",
		"gradient_accumulation": "1", "resolution": "32", "seed": "3", "templates": "object", "squash": "false",
		"flip_prob": "0.5", "nested_dropout_prob": "0.5", "learning_rate": "0.001", "adam": "0.9 0.999 1e-08 0.01",
		"files": "a.png,b.png",
	}
	old, err := json.Marshal(raw)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(statePath, old, 0o644))

	o = resumeTrainOptions(out, 3)
	o.ResumeFrom, o.CheckpointEvery, o.KeepCheckpoints, o.ValidationSeeds = "latest", 1, 5, []uint64{1}
	_, err = TrainConcept(stdcontext.Background(), p, []string{images}, o)
	require.NoError(t, err)
	steps, err = checkpoints(out)
	require.NoError(t, err)
	assert.Equal(t, []int{2, 3}, steps, "resumed and trained step 3")
}
