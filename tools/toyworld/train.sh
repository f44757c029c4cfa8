#!/usr/bin/env bash
# Trains the toy-world model from scratch on the CPU and writes models/toyworld (see README.md).
# Usage: tools/toyworld/train.sh [WORK_DIR]   (PYTHON defaults to /root/.cache/neti/venv/bin/python)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="${1:-$root/.toyworld-work}"
py="${PYTHON:-/root/.cache/neti/venv/bin/python}"
export OMP_NUM_THREADS=1   # two threads on shared cores were 5-10x slower than one
mkdir -p "$work"
cd "$root"
go run ./tools/toyworld/gendata --out "$work/data" --n 20000 --seed 0
cd "$here"
"$py" tokenizer.py "$work/tokenizer" "$work/data/vocabulary.txt"
"$py" train_vae.py --data "$work/data" --work "$work" --minutes 16 --batch 16 --lr 1e-3
"$py" train_unet.py --data "$work/data" --work "$work" --tokenizer "$work/tokenizer" --minutes 55
"$py" export.py --work "$work" --tokenizer "$work/tokenizer" --out "$root/models/toyworld"
"$py" parity.py --model "$root/models/toyworld" --out "$root/models/toyworld/parity/pipeline.safetensors"
"$py" plot_loss.py --work "$work" --out "$root/models/toyworld/loss.png"
