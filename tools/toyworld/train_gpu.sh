#!/usr/bin/env bash
# Trains the toy-world UNet and text encoder on a lent GPU (one H200, 15 minutes of device time in all, no
# Go and no internet there), keeping the committed model's VAE; the rest of train.sh's recipe (data,
# captions, tokenizer, loss) is the same, at a larger scale: more images, a wider UNet, a larger batch, bf16.
#
#   tools/toyworld/train_gpu.sh prepare        # here: builds gendata, fetches the diffusers wheel, packs
#                                               # .dev/toytrain.tar.xz (≈ 10 MB) with the model's VAE
#   device run(command="bash tools/toyworld/train_gpu.sh run", carry=[".dev/toytrain.tar.xz"], timeout_s=590)
#   tools/toyworld/train_gpu.sh finish DIR     # here: DIR holds the files that came back (results.tar.part-*);
#                                               # writes models/toymodel and evaluates it (train.sh's last stages)
#
# Settings of `run` (environment): GPU_IMAGES (100000), GPU_MINUTES (6: the UNet's training budget),
# GPU_CHANNELS (48,96,96,96: 7.4 M parameters, ≈ 15 MB in fp16, within the 30 MB model limit), GPU_BATCH
# (256), GPU_LR (1e-3), GPU_CAPTION_VARIANTS (8) and GPU_FINE_MENTION (0.9), gendata's --caption_variants
# and --fine_mention as train.sh (v3) sets them: each fine group named in ≈ 84 % of the captions drawn. Rehearse on the CPU with GPU_DEVICE=cpu and small settings, e.g.
#   OUT=/tmp/tt-out GPU_DEVICE=cpu GPU_IMAGES=300 GPU_MINUTES=0.3 GPU_BATCH=8 bash tools/toyworld/train_gpu.sh run
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
pack="$root/.dev/toytrain"

prepare() {
  export PATH="$PATH:/usr/local/go/bin"
  rm -rf "$pack" && mkdir -p "$pack/wheels"
  (cd "$root" && CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$pack/gendata" ./tools/toyworld/gendata)
  cp -r "$root/models/toymodel/vae" "$pack/vae"
  # diffusers is not installed there (torch, transformers, safetensors, huggingface_hub and Pillow are).
  python3 -m pip download -q --no-deps --only-binary=:all: -d "$pack/wheels" diffusers==0.42.1
  tar -C "$pack" -cJf "$pack.tar.xz" .
  rm -rf "$pack"
  ls -la "$root/.dev/toytrain.tar.xz"
}

run() {
  out="${OUT:-/tmp/toytrain-out}"
  mkdir -p "$out"
  exec > >(tee "$out/train.log") 2>&1
  dev="${GPU_DEVICE:-cuda}"
  work=/tmp/toytrain
  rm -rf "$work" && mkdir -p "$work/unet_run" "$work/pack"
  tar -C "$work/pack" -xJf "$root/.dev/toytrain.tar.xz"
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/toysite "$work"/pack/wheels/*.whl
  export PYTHONPATH=/tmp/toysite PYTHONUNBUFFERED=1
  nvidia-smi --query-gpu=name,memory.total --format=csv 2>/dev/null || echo "no nvidia-smi"
  t0=$(date +%s)
  stage() { echo "[$(( $(date +%s) - t0 )) s] $*"; }
  stage gendata
  "$work/pack/gendata" --out "$work/data" --n "${GPU_IMAGES:-100000}" --seed 0 \
    --caption_variants "${GPU_CAPTION_VARIANTS:-8}" --fine_mention "${GPU_FINE_MENTION:-0.9}"
  stage tokenizer
  (cd "$here" && python3 tokenizer.py "$work/tokenizer" "$work/data/vocabulary.txt")
  stage latents
  cp -r "$work/pack/vae" "$work/vae"
  (cd "$here" && python3 train_vae.py --data "$work/data" --work "$work" --encode_only --device "$dev")
  ln -sf "$work/latents.npz" "$work/vae_stats.json" "$work/unet_run/"
  stage unet
  (cd "$here" && python3 train_unet.py --data "$work/data" --work "$work/unet_run" --tokenizer "$work/tokenizer" \
    --minutes "${GPU_MINUTES:-6}" --batch "${GPU_BATCH:-256}" --lr "${GPU_LR:-1e-3}" --warmup 200 --offset_noise 0.4 \
    --min_snr 5 --fg_weight 4 --caption_variants "$work/data/captions.jsonl" --attr_aux 0.1 --aux_attributes all \
    --unet_channels "${GPU_CHANNELS:-48,96,96,96}" --norm_groups 8 --seed 31 --procs 1 --threads 8 --device "$dev" \
    --ckpt_minutes 100)
  stage pack
  # The EMA weights in float16 (files back are at most 16 MiB each: the tar is split), the tokenizer, the
  # vocabulary, the latent statistics and the logs.
  res="$work/results"
  mkdir -p "$res"
  python3 - "$work/unet_run" "$res" <<'PY'
import os, shutil, sys
from safetensors.torch import load_file, save_file
src, dst = sys.argv[1:]
for comp in ("unet", "text_encoder"):
    os.makedirs(os.path.join(dst, comp))
    for f in os.listdir(os.path.join(src, comp)):
        p = os.path.join(src, comp, f)
        if f.endswith(".safetensors"):
            save_file({k: v.half() for k, v in load_file(p).items()}, os.path.join(dst, comp, f), metadata={"format": "pt"})
        else:
            shutil.copy(p, os.path.join(dst, comp, f))
PY
  cp -r "$work/tokenizer" "$res/tokenizer"
  cp "$work/data/vocabulary.txt" "$work/vae_stats.json" "$work/unet_run/unet_log.jsonl" "$work/vae_log.jsonl" "$res/"
  tar -C "$res" -cf "$work/results.tar" .
  split -b 15m "$work/results.tar" "$out/results.tar.part-"
  stage done
  ls -la "$out"
}

finish() {
  got="${1:?usage: $0 finish DIR (the files that came back)}"
  work="${WORK_DIR:-$root/.toyworld-gpu-work}"
  rm -rf "$work" && mkdir -p "$work/res" "$work/data" "$work/unet_run"
  cat "$got"/results.tar.part-* | tar -C "$work/res" -x
  mv "$work/res/tokenizer" "$work/tokenizer"
  mv "$work/res/vocabulary.txt" "$work/data/vocabulary.txt"
  mv "$work/res/unet" "$work/res/text_encoder" "$work/res/vae_stats.json" "$work/res/unet_log.jsonl" "$work/unet_run/"
  mv "$work/res/vae_log.jsonl" "$work/vae_log.jsonl"
  cp -r "$root/models/toymodel/vae" "$work/unet_run/vae" # the VAE the latents were encoded with
  [ -f "$got/train.log" ] && cp "$got/train.log" "$work/gpu-train.log"
  for s in gendata tokenizer vae unet; do touch "$work/.done-$s"; done
  # train.sh skips the finished stages: export, evaluation, parity fixture and loss plot.
  bash "$here/train.sh" "$work"
}

case "${1:-}" in
  prepare) prepare ;;
  run) run ;;
  finish) shift; finish "$@" ;;
  *) echo "usage: $0 prepare | run | finish DIR"; exit 2 ;;
esac
