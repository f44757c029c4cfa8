#!/usr/bin/env bash
# The side-by-side speed run of docs/perf, one after the other on this machine: neti on SimpleGo and on XLA's
# CPU plugin, and PyTorch CPU (diffusers, tools/perf/torch_toy.py), on the built-in toy model with the same
# thread count; then the SD 1.5-size benchmarks on XLA CPU. Writes the raw outputs to $1 (default
# /tmp/neti-perf) and prints where. Needs the system python3 with torch/diffusers for the PyTorch part
# (skipped with a note without them). About 30 minutes on 2 cores; run it on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-/tmp/neti-perf}"
mkdir -p "$out"
export PATH="$PATH:$HOME/.cargo/bin:/usr/local/go/bin"
CGO_LDFLAGS="-L$(scripts/libtokenizers.sh) ${CGO_LDFLAGS:-}"
export CGO_LDFLAGS
plugin=$(scripts/pjrt-cpu.sh)
threads=$(nproc)
{
  echo "date: $(date -u +%FT%TZ)"; echo "commit: $(git rev-parse HEAD)"; echo "cpus: $threads"
  grep -m1 'model name' /proc/cpuinfo || true; echo "plugin: $plugin"; uptime
} > "$out/machine.txt"

go test -c -o "$out/toyworld.test" ./models/toymodel
go test -c -tags slow -o "$out/neti.test" .
go build -o "$out/neti" ./cmd/neti

for backend in go xla:cpu; do
  tag=${backend%%:*}
  echo "== toy model, $backend: NeTI optimizer steps (batch 2), 20-step guided generation" >&2
  (cd models/toymodel && GOMLX_BACKEND=$backend "$out/toyworld.test" -test.run '^$' \
    -test.bench 'TrainStep|ConceptGeneration' -test.benchtime 3x -test.count 1) > "$out/toy-$tag.txt" 2>&1
  echo "== quickstart, $backend" >&2
  rm -rf "$out/quickstart-$tag"
  /usr/bin/time -v "$out/neti" quickstart --backend "$backend" --output_dir "$out/quickstart-$tag" \
    > "$out/quickstart-$tag.txt" 2>&1
done

echo "== toy model, PyTorch CPU ($threads threads)" >&2
if python3 -c 'import torch, diffusers' 2>/dev/null; then
  python3 tools/perf/torch_toy.py --threads "$threads" --out "$out/torch-toy.json" > "$out/torch-toy.txt" 2>&1
else
  echo "no torch/diffusers in python3: PyTorch side skipped" | tee "$out/torch-toy.txt" >&2
fi

echo "== SD 1.5 size, XLA CPU: guided UNet step, text encoder (fp32, bf16)" >&2
GOMLX_BACKEND=xla:cpu "$out/neti.test" -test.run '^$' -test.bench 'SD15UNetStep|SD15TextEncoder' \
  -test.benchtime 3x -test.count 1 > "$out/sd15-xla.txt" 2>&1
echo "$out"
