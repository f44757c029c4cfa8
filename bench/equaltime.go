package bench

// equalTimePoint returns run's fidelity at equal wall time with the other runs of its concept: the curve
// point at the last step trained within the concept's budget, the shortest TrainSeconds among runs,
// counting step s as s × SecondsPerStep seconds (setup and compilation spread over the steps). ok is
// false when no curve point of run falls within the budget.
func equalTimePoint(runs []MethodResult, run MethodResult) (p Point, ok bool) {
	budget := run.TrainSeconds
	for _, r := range runs {
		budget = min(budget, r.TrainSeconds)
	}
	for _, c := range run.Curve {
		if float64(c.Step)*run.SecondsPerStep <= budget*(1+1e-9) && (!ok || c.Step > p.Step) {
			p, ok = c, true
		}
	}
	return p, ok
}
