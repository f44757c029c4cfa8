"""Reads the raw outputs of scripts/perf.sh (docs/perf/raw) and writes docs/perf/perf.json: every number the
README table quotes, with its source. Run: python3 docs/perf/summarize.py"""
import json
import os
import re

RAW = os.path.join(os.path.dirname(__file__), "raw")


def bench(path):
    """Go benchmark lines → {name: {metric unit: value}}."""
    out = {}
    for line in open(os.path.join(RAW, path)):
        m = re.match(r"(Benchmark\S+?)(-\d+)?\s+(\d+)\s+(.*)", line)
        if not m:
            continue
        fields = m.group(4).split()
        metrics = {fields[i + 1]: float(fields[i]) for i in range(0, len(fields) - 1, 2)}
        metrics["iterations"] = int(m.group(3))
        out[m.group(1)] = metrics
    return out


def elapsed(path):
    """Wall seconds and peak RSS (GB) of a /usr/bin/time -v log."""
    text = open(os.path.join(RAW, path)).read()
    t = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", text).group(1).split(":")
    seconds = sum(float(x) * 60 ** i for i, x in enumerate(reversed(t)))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1)) * 1024 / 1e9
    return seconds, rss


toy = {b: bench(f"toy-{b}.txt") for b in ("go", "xla")}
torch = json.load(open(os.path.join(RAW, "torch-toy.json")))
sd15 = bench("sd15-xla.txt")
qs = {b: elapsed(f"quickstart-{b}.txt") for b in ("go", "xla")}
tr = torch["results"]

neti_step = {b: toy[b]["BenchmarkTrainStep"]["s/trainstep"] for b in toy}
image = {b: toy[b]["BenchmarkConceptGeneration"]["s/plain-image"] for b in toy}
report = {
    "machine": open(os.path.join(RAW, "machine.txt")).read().strip().splitlines(),
    "protocol": "scripts/perf.sh: one run, one job after the other on an idle 2-core machine; Go benchmarks "
                "with -benchtime 3x; PyTorch tools/perf/torch_toy.py --threads 2 (median of 50 steps / 10 runs)",
    "toy": {
        "neti_optimizer_step_s": {"go": neti_step["go"], "xla_cpu": neti_step["xla"],
                                  "pytorch_cpu_median": tr["neti_step"]["median_ms"] / 1e3,
                                  "pytorch_cpu_mean": tr["neti_step"]["mean_ms"] / 1e3},
        "neti_first_step_s_incl_compile": {b: toy[b]["BenchmarkTrainStep"]["s/firststep"] for b in ("go", "xla")},
        "generate_20_steps_1_image_s": {"go": image["go"], "xla_cpu": image["xla"],
                                        "pytorch_cpu_median": tr["gen_plain_1img"]["median_ms"] / 1e3},
        "concept_over_plain_cold": {b: toy[b]["BenchmarkConceptGeneration"]["concept/plain"] for b in ("go", "xla")}
        | {"pytorch_cpu": tr["gen_1img_ratio_neti_over_plain"]},
        "first_calls_s_incl_compile": {b: toy[b]["BenchmarkConceptGeneration"]["s/first-calls"] for b in ("go", "xla")},
        "quickstart_s_built": {"go": qs["go"][0], "xla_cpu": qs["xla"][0]},
        "quickstart_peak_rss_gb": {"go": qs["go"][1], "xla_cpu": qs["xla"][1]},
    },
    "sd15_xla_cpu": {
        "guided_unet_step_s": {k.split("/")[1]: v["ns/op"] / 1e9 for k, v in sd15.items() if "UNetStep" in k},
        "text_encoder_2_prompts_s": {k.split("/")[1]: v["ns/op"] / 1e9 for k, v in sd15.items() if "TextEncoder" in k},
    },
}
def sd15_step(path):
    """The SD 1.5 NeTI step benchmark: seconds per step, peak RSS (GB), the run's conditions (last line)."""
    text = open(os.path.join(RAW, path)).read()
    ns = float(re.search(r"\s(\d+) ns/op", text).group(1))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1)) * 1024 / 1e9
    return {"s_per_step": ns / 1e9, "peak_rss_gb": rss, "conditions": text.strip().splitlines()[-1]}


report["sd15_xla_cpu"]["neti_step_512px_batch2"] = {
    name: sd15_step(f"sd15-neti-step-{name}.txt")
    for name in ("fp32", "fp32-idle", "fp32-arena2", "bf16-arena2", "fp32-notrim", "fp32-trim", "bf16-notrim", "bf16-trim",
                 "fp32-recompute", "bf16-recompute", "bf16-noynn")
}
gen = bench("sd15-generate-fp32-1image.txt")
gen_s = {k.rsplit("/", 1)[1]: v["s/generation"] for k, v in gen.items()}
report["sd15_xla_cpu"]["generate_50_steps_512px_fp32_1_image"] = {
    "s": gen_s, "concept_first_over_plain": gen_s["concept-first"] / gen_s["plain"],
    "concept_next_over_plain": gen_s["concept-next"] / gen_s["plain"],
    "conditions": open(os.path.join(RAW, "sd15-generate-fp32-1image.txt")).read().strip().splitlines()[-1]}
report["ratios"] = {
    "neti_step_go_over_xla": neti_step["go"] / neti_step["xla"],
    "neti_step_xla_over_pytorch_median": neti_step["xla"] / report["toy"]["neti_optimizer_step_s"]["pytorch_cpu_median"],
    "generate_go_over_xla": image["go"] / image["xla"],
    "generate_xla_over_pytorch": image["xla"] / report["toy"]["generate_20_steps_1_image_s"]["pytorch_cpu_median"],
    "quickstart_go_over_xla": qs["go"][0] / qs["xla"][0],
}
with open(os.path.join(os.path.dirname(__file__), "perf.json"), "w") as f:
    json.dump(report, f, indent=1)
print(json.dumps(report["ratios"], indent=1))
