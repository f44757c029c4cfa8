#!/usr/bin/env bash
# Trains the toy-world model from scratch on the CPU and writes models/toyworld (see README.md and the
# model card). The stages mirror the run that produced the committed model; loops are time-budgeted
# (--minutes), so step counts depend on the machine (the card lists the ones of the committed run).
# Usage: tools/toyworld/train.sh [WORK_DIR]   (PYTHON defaults to /root/.cache/neti/venv/bin/python)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="${1:-$root/.toyworld-work}"
py="${PYTHON:-/root/.cache/neti/venv/bin/python}"
export OMP_NUM_THREADS=1   # two threads on shared cores were 2-10x slower than one
mkdir -p "$work"
cd "$root"
go run ./tools/toyworld/gendata --out "$work/data" --n 20000 --seed 0 --caption_variants 4
cd "$here"
"$py" tokenizer.py "$work/tokenizer" "$work/data/vocabulary.txt"
# 1. VAE, 40 minutes (8 522 steps in the committed run) on random 32-px crops, the object's pixels weighted
#    5:1; it encodes the dataset at the end (latents.npz, vae_stats.json).
"$py" train_vae.py --data "$work/data" --work "$work" --channels 32,64,64 --fg_weight 4 --minutes 40 --batch 16 --lr 1e-3 --crop 32
# 2. UNet + text encoder from scratch, 75 minutes (5 026 steps): offset noise, Min-SNR-5, object pixels 5:1,
#    caption variants and the attribute heads (--attr_aux: see the model card).
mkdir -p "$work/unet_run"; ln -sf "$work/latents.npz" "$work/vae_stats.json" "$work/vae" "$work/unet_run/"
"$py" train_unet.py --data "$work/data" --work "$work/unet_run" --tokenizer "$work/tokenizer" --minutes 75 --lr 2e-3 --warmup 100 --offset_noise 0.4 --min_snr 5 --fg_weight 4 --caption_variants "$work/data/captions.jsonl" --attr_aux 0.1 --seed 31
"$py" export.py --work "$work/unet_run" --tokenizer "$work/tokenizer" --vocabulary "$work/data/vocabulary.txt" --out "$root/models/toyworld"
(cd "$root" && CGO_LDFLAGS="-L$(scripts/libtokenizers.sh)" go run ./tools/toyworld/evalgo --model models/toyworld --grid models/toyworld/grid.png --report models/toyworld/heldout_report.json)
(cd "$root" && CGO_LDFLAGS="-L$(scripts/libtokenizers.sh)" go run ./tools/toyworld/evalgo --model models/toyworld --recon 200 --report models/toyworld/vae_report.json)
"$py" parity.py --model "$root/models/toyworld" --out "$root/models/toyworld/parity/pipeline.safetensors"
"$py" plot_loss.py --work "$work" --unet_logs "$work/unet_run/unet_log.jsonl" --out "$root/models/toyworld/loss.png"
