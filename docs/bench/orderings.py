"""orderings.py BENCH_JSON: the paper's orderings from one `neti bench` report, paired over its concepts.

Each line is a mean difference over the concepts ± its standard error between concepts (which counts the
spread between training runs, unlike bench.json's image standard errors), how many concepts are above 0,
and whether |mean| > 2 s.e. Fidelity is the reconstruction prompt's ("a <c>"), editability the context
prompts' (bench.json's Eval fields); "equal time" is each run's `equal_time` point (the last curve point within
the fastest run's training time of its concept); "steps to" is the first curve
step reaching each of the report's levels of the best final fidelity on the concept.

Standard library only: python3 docs/bench/orderings.py docs/bench/bench.json [--untimed C1,C2]
(--untimed: concepts whose training times were disturbed, e.g. by another job beside them, left out of the
equal-time lines. A report written before bench.json had `equal_time` gets it from
`neti bench --merge REPORT --output_dir DIR`.)
"""

import json
import math
import sys


def mean_se(values):
    n = len(values)
    m = sum(values) / n
    if n < 2:
        return m, float("nan")
    return m, math.sqrt(sum((v - m) ** 2 for v in values) / (n - 1) / n)


def line(name, diffs):
    m, se = mean_se(diffs)
    above = sum(d > 0 for d in diffs)
    verdict = "resolved at 2 s.e." if abs(m) > 2 * se else "not resolved at 2 s.e."
    if len(diffs) < 5:
        verdict += f"; an s.e. from {len(diffs)} concepts is rough"
    return f"- {name}: {m:+.3f} ± {se:.3f} ({above} of {len(diffs)} concepts above 0; {verdict})"


def per_concept(report, untimed=()):
    """{concept: {label: {fidelity, editability, equal_time, steps_to, curve}}} and {concept: {reference: fidelity}};
    equal_time is None where the run has no point within the budget or the concept is untimed, curve is
    {step: fidelity}."""
    runs, refs = {}, {}
    for c in report["concepts"]:
        by = {}
        for r in c["runs"]:
            for e in r["evals"]:
                label = r["method"] + (f"@{e['truncation']}" if e["truncation"] else "")
                by[label] = dict(fidelity=e["fidelity"], editability=e["editability"])
            point = r.get("equal_time") if c["name"] not in untimed else None
            by[r["method"]]["equal_time"] = point["fidelity"] if point else None
            by[r["method"]]["steps_to"] = r["steps_to"]
            by[r["method"]]["curve"] = {p["step"]: p["fidelity"] for p in r["curve"]}
        runs[c["name"]] = by
        refs[c["name"]] = {k: v["fidelity"] for k, v in c.get("references", {}).items()}
    return runs, refs


def main():
    untimed = sys.argv[sys.argv.index("--untimed") + 1].split(",") if "--untimed" in sys.argv else []
    report = json.load(open(sys.argv[1]))
    runs, refs = per_concept(report, untimed)
    concepts = list(runs)

    def diff(a, b, field="fidelity"):
        """a − b of field per concept, over the concepts where both have it (equal_time may be None)."""
        return [runs[c][a][field] - runs[c][b][field] for c in concepts if a in runs[c] and b in runs[c]
                and runs[c][a].get(field) is not None and runs[c][b].get(field) is not None]

    def show(name, a, b, field="fidelity"):
        """Prints the line of a − b of field, if any concept has both."""
        if d := diff(a, b, field):
            print(line(name, d))

    print(f"{len(concepts)} concepts: {', '.join(concepts)}")
    print("Fidelity (NeTI > P+ > TI):")
    for a, b in (("neti", "pplus"), ("pplus", "ti"), ("neti", "ti")):
        show(f"{a} − {b}", a, b)
    print("The bypass (convergence):")
    if diff("neti", "neti-nobypass"):
        print(line("neti − neti-nobypass at the last step", diff("neti", "neti-nobypass")))
        show("neti − neti-nobypass at equal wall time", "neti", "neti-nobypass", "equal_time")
        full, nob = [[runs[c][m]["curve"] for c in concepts if "neti-nobypass" in runs[c]] for m in ("neti", "neti-nobypass")]
        for st in sorted(set.intersection(*(set(a) & set(b) for a, b in zip(full, nob)))):
            print(line(f"neti − neti-nobypass at step {st} (curve)", [a[st] - b[st] for a, b in zip(full, nob)]))
        for k, level in enumerate(report["levels"]):
            pairs = [(runs[c]["neti"]["steps_to"][k], runs[c]["neti-nobypass"]["steps_to"][k]) for c in concepts]
            pairs = [(a, b) for a, b in pairs if a is not None and b is not None]
            if pairs:
                print(line(f"steps to {level:.0%} of the best: neti-nobypass − neti (steps)", [b - a for a, b in pairs]))
    print("Equal wall time:")
    for a, b in (("neti", "pplus"), ("neti", "ti"), ("pplus", "ti")):
        show(f"{a} − {b}", a, b, "equal_time")
    print("Truncation (fidelity / editability against the full mapper):")
    truncs = sorted({int(l.split("@")[1]) for c in concepts for l in runs[c] if l.startswith("neti@")})
    for t in truncs:
        print(line(f"neti@{t} − neti fidelity", diff(f"neti@{t}", "neti")))
        print(line(f"neti@{t} − neti editability", diff(f"neti@{t}", "neti", "editability")))
    print("Editability:")
    for a, b in (("neti", "pplus"), ("ti", "pplus"), ("neti", "ti")):
        show(f"{a} − {b}", a, b, "editability")
    print("Against the references:")
    for m in ("neti", "ti", "pplus"):
        for ref in ("words", "description"):
            d = [runs[c][m]["fidelity"] - refs[c][ref] for c in concepts if m in runs[c] and ref in refs[c]]
            if d:
                print(line(f"{m} − {ref}", d))
        gap = [(runs[c][m]["fidelity"] - refs[c]["words"]) / (refs[c]["ceiling"] - refs[c]["words"])
               for c in concepts if m in runs[c] and "words" in refs[c] and "ceiling" in refs[c]]
        if gap:
            g, s = mean_se(gap)
            print(f"- {m}: closes {g:.2f} ± {s:.2f} of the words→ceiling gap (issue 14's goal: 0.5)")


if __name__ == "__main__":
    main()
