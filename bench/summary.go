package bench

import (
	"fmt"
	"math"
	"slices"

	"github.com/org/neti/toyworld"
)

// mean is the mean of v, 0 for none.
func mean(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// meanParts is the component-wise mean of parts; nil for none.
func meanParts(parts []toyworld.FidelityParts) *toyworld.FidelityParts {
	if len(parts) == 0 {
		return nil
	}
	var m toyworld.FidelityParts
	n := float64(len(parts))
	for _, p := range parts {
		m.Color += p.Color / n
		m.Outline += p.Outline / n
		m.Pattern += p.Pattern / n
		m.Mark += p.Mark / n
		m.Shape += p.Shape / n
		m.Total += p.Total / n
	}
	return &m
}

// standardError is the standard error of v's mean: the sample standard deviation over √len(v); 0 for
// fewer than two values.
func standardError(v []float64) float64 {
	n := float64(len(v))
	if n < 2 {
		return 0
	}
	m, ss := mean(v), 0.0
	for _, x := range v {
		ss += (x - m) * (x - m)
	}
	return math.Sqrt(ss/(n-1)) / math.Sqrt(n)
}

// summarize averages each (method, truncation) over the concepts, in the order of methods then
// truncations.
func summarize(concepts []ConceptResult, methods []string, levels int) []Summary {
	var out []Summary
	for _, m := range methods {
		var truncs []int
		for _, bc := range concepts {
			for _, r := range bc.Runs {
				for _, e := range r.Evals {
					if r.Method == m && !slices.Contains(truncs, e.Truncation) {
						truncs = append(truncs, e.Truncation)
					}
				}
			}
		}
		for _, tr := range truncs {
			s := Summary{Label: m, Method: m, Truncation: tr, StepsTo: make([]*float64, levels), Reached: make([]int, levels)}
			if tr > 0 {
				s.Label = fmt.Sprintf("%s@%d", m, tr)
			}
			var fid, edit, ctxFid, secs, gap, gapWords, eqFid, eqStep []float64
			var parts []toyworld.FidelityParts                // each concept's mean parts
			var fidImages, editImages, ctxFidImages []float64 // every image's score, for the standard errors
			stepSums := make([]float64, levels)
			for _, bc := range concepts {
				for _, r := range bc.Runs {
					if r.Method != m {
						continue
					}
					for _, e := range r.Evals {
						if e.Truncation != tr {
							continue
						}
						fid, edit, ctxFid = append(fid, e.Fidelity), append(edit, e.Editability), append(ctxFid, e.ContextFidelity)
						if e.Parts != nil {
							parts = append(parts, *e.Parts)
						}
						if e.GapClosed != nil {
							gap = append(gap, *e.GapClosed)
						}
						if e.GapClosedFromWords != nil {
							gapWords = append(gapWords, *e.GapClosedFromWords)
						}
						for j, ps := range e.Prompts {
							if j < len(bc.Prompts) && bc.Prompts[j].Reconstruction {
								fidImages = append(fidImages, ps.Fidelity...)
								continue
							}
							editImages, ctxFidImages = append(editImages, ps.Editability...), append(ctxFidImages, ps.Fidelity...)
						}
					}
					secs = append(secs, r.TrainSeconds)
					if r.EqualTime != nil && tr == 0 {
						eqFid, eqStep = append(eqFid, r.EqualTime.Fidelity), append(eqStep, float64(r.EqualTime.Step))
					}
					for k, st := range r.StepsTo {
						if st != nil && tr == 0 {
							stepSums[k] += float64(*st)
							s.Reached[k]++
						}
					}
				}
			}
			s.Fidelity, s.Editability, s.ContextFidelity, s.TrainSeconds = mean(fid), mean(edit), mean(ctxFid), mean(secs)
			s.FidelitySE, s.EditabilitySE, s.ContextFidelitySE = standardError(fidImages), standardError(editImages), standardError(ctxFidImages)
			s.Images = len(fidImages)
			if len(parts) == len(fid) {
				s.Parts = meanParts(parts)
			}
			if len(gap) > 0 {
				g := mean(gap)
				s.GapClosed = &g
			}
			if len(gapWords) > 0 {
				g := mean(gapWords)
				s.GapClosedFromWords = &g
			}
			if len(eqFid) > 0 {
				f, st := mean(eqFid), mean(eqStep)
				s.EqualTimeFidelity, s.EqualTimeStep = &f, &st
			}
			for k := range levels {
				if s.Reached[k] > 0 {
					v := stepSums[k] / float64(s.Reached[k])
					s.StepsTo[k] = &v
				}
			}
			out = append(out, s)
		}
	}
	return out
}
