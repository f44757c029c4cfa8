// Package bench is the research benchmark behind "neti bench": it trains NeTI, NeTI without its textual
// bypass, P+ and TI (neti.TrainConcept) on the toy-world concepts with the same data, steps and seed, and
// scores the results with the toy world's fidelity and editability (toyworld.Fidelity,
// toyworld.Editability): a fidelity curve along training, then every evaluation prompt at the end, at
// several nested-dropout truncations for NeTI.
//
// Run runs it on a neti.Pipeline and returns a Report, JSON-serialisable (the bench.json of
// docs/bench); Merge joins the reports of one bench run on disjoint concepts; Report.Plot draws the
// summary as the paper's fidelity/editability scatter plot (bench.png). The package uses neti's public
// API only.
package bench
