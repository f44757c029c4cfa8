package bench

import (
	"encoding/json"
	"fmt"
	"slices"
)

// Merge joins reports of the same bench run on disjoint concepts (for example one process per concept,
// side by side on a multi-core machine: the CPU backend runs most ops on one core) into one report,
// recomputing each run's EqualTime, the summary and the references' means. Every report must have the same options except Concepts, the same model and
// backend. The merged Seconds is the sum of the parts' wall times and Started the earliest start.
func Merge(reports ...*Report) (*Report, error) {
	if len(reports) == 0 {
		return nil, fmt.Errorf("bench: merging reports: got none, expected at least one")
	}
	first := reports[0]
	key := func(r *Report) (string, error) {
		o := r.Options
		o.Concepts = nil
		b, err := json.Marshal(struct {
			Options        Options
			Model, Backend string
		}{o, r.Model, r.Backend})
		return string(b), err
	}
	want, err := key(first)
	if err != nil {
		return nil, fmt.Errorf("bench: merging reports: %w", err)
	}
	out := &Report{Options: first.Options, Model: first.Model, Backend: first.Backend, Machine: first.Machine,
		Started: first.Started, Levels: first.Levels}
	out.Options.Concepts = nil
	for i, r := range reports {
		got, err := key(r)
		if err != nil {
			return nil, fmt.Errorf("bench: merging reports: %w", err)
		}
		if got != want {
			return nil, fmt.Errorf("bench: merging reports: report %d has options, model or backend %s; "+
				"report 0 has %s: expected runs that differ only in their concepts", i, got, want)
		}
		for _, c := range r.Concepts {
			if slices.Contains(out.Options.Concepts, c.Name) {
				return nil, fmt.Errorf("bench: merging reports: concept %q is in two reports: "+
					"expected each concept once", c.Name)
			}
			out.Options.Concepts = append(out.Options.Concepts, c.Name)
			c.Runs = slices.Clone(c.Runs)
			setEqualTime(c.Runs) // reports written before bench.json had EqualTime get it here
			out.Concepts = append(out.Concepts, c)
		}
		if r.Started.Before(out.Started) {
			out.Started = r.Started
		}
		out.Seconds += r.Seconds
	}
	out.Summary = summarize(out.Concepts, out.Options.Methods, len(out.Levels))
	if refs := summarizeReferences(out.Concepts); len(refs) > 0 {
		out.References = refs
	}
	return out, nil
}
