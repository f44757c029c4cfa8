package bench

// timeSlack is how much longer than the budget a run may take and still count as equal time: the wall
// time of identical runs varies by a few percent on a shared machine.
const timeSlack = 0.05

// equalTimePoint returns run's fidelity at equal wall time with the other runs of its concept: the curve
// point at the last step trained within the concept's budget, the shortest TrainSeconds among runs,
// counting step s as s × SecondsPerStep seconds (setup and compilation spread over the steps) and
// allowing timeSlack over the budget, as runs of equal speed differ by a few percent between runs. ok is
// false when no curve point of run falls within the budget.
func equalTimePoint(runs []MethodResult, run MethodResult) (p Point, ok bool) {
	budget := run.TrainSeconds
	for _, r := range runs {
		budget = min(budget, r.TrainSeconds)
	}
	for _, c := range run.Curve {
		if float64(c.Step)*run.SecondsPerStep <= budget*(1+timeSlack) && (!ok || c.Step > p.Step) {
			p, ok = c, true
		}
	}
	return p, ok
}

// setEqualTime sets each run's EqualTime from the runs of its concept.
func setEqualTime(runs []MethodResult) {
	for i := range runs {
		runs[i].EqualTime = nil
		if p, ok := equalTimePoint(runs, runs[i]); ok {
			runs[i].EqualTime = &p
		}
	}
}
