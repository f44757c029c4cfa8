package neti

import (
	"fmt"
	"reflect"
	"strings"
)

// What a resumed run may change is declared on TrainOptions itself: every field carries a struct tag
// resume:"must-match" or resume:"may-change" (see TrainOptions). The functions here read the tags, so an
// option added to TrainOptions needs no edit here, in the checkpoints or in the CLI;
// TestTrainOptionsResumeTags fails when a field has no tag.

// The values of the resume tag.
const (
	resumeTag       = "resume"
	resumeMustMatch = "must-match"
	resumeMayChange = "may-change"
)

// resumeField is one field of TrainOptions as resuming sees it.
type resumeField struct {
	index     int    // in TrainOptions
	name      string // the Go name, "Seed"
	key       string // the JSON name, "seed": the fingerprint's key
	mustMatch bool   // tagged must-match, or not tagged (the safe reading)
}

// resumeFields lists the fields of TrainOptions in declaration order.
var resumeFields = func() []resumeField {
	typ := reflect.TypeFor[TrainOptions]()
	out := make([]resumeField, typ.NumField())
	for i := range out {
		f := typ.Field(i)
		key, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if key == "" {
			key = f.Name
		}
		out[i] = resumeField{index: i, name: f.Name, key: key, mustMatch: f.Tag.Get(resumeTag) != resumeMayChange}
	}
	return out
}()

// optionsFingerprint returns the must-match fields of o (defaults applied) by JSON name, each value as fmt
// prints it ("neti", "2", "0.001", "true").
func optionsFingerprint(o TrainOptions) map[string]string {
	v := reflect.ValueOf(o)
	out := make(map[string]string)
	for _, f := range resumeFields {
		if f.mustMatch {
			out[f.key] = fmt.Sprint(v.Field(f.index).Interface())
		}
	}
	return out
}

// resumeDiffs compares the must-match fields of the options a checkpoint recorded with this run's (both with
// defaults applied): one "TrainOptions.Field was "x", now "y"" per difference, in declaration order.
func resumeDiffs(recorded, now TrainOptions) []string {
	was, is := optionsFingerprint(recorded), optionsFingerprint(now)
	var diffs []string
	for _, f := range resumeFields {
		if f.mustMatch && was[f.key] != is[f.key] {
			diffs = append(diffs, fmt.Sprintf("TrainOptions.%s was %q, now %q", f.name, was[f.key], is[f.key]))
		}
	}
	return diffs
}

// mayChangeNames lists the may-change fields for the resume error: "MaxTrainSteps, OutputDir, ... and the
// callbacks" (function fields are summed up as the callbacks).
func mayChangeNames() string {
	typ := reflect.TypeFor[TrainOptions]()
	var names []string
	callbacks := false
	for _, f := range resumeFields {
		switch {
		case f.mustMatch:
		case typ.Field(f.index).Type.Kind() == reflect.Func:
			callbacks = true
		default:
			names = append(names, f.name)
		}
	}
	if callbacks {
		names = append(names, "the callbacks")
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
