#!/usr/bin/env bash
# Installs XLA's CPU PJRT plugin, the fast CPU backend of neti (the same XLA path a GPU takes), once, into a
# cache outside the clone, and prints the plugin's path. neti finds it there by itself (see
# internal/backend: FindCPUPlugin); use the path as `--backend xla:<path>` or PJRT_PLUGIN_LIBRARY_PATH=<its
# folder> elsewhere.
#
# The plugin comes from PyPI as the wheel lammps-jax-pjrt-cpu 0.11.2 (Apache-2.0): XLA's CPU plugin built from
# jaxlib 0.11.2's XLA, the same XLA generation as jax-cuda13-pjrt 0.11.2 on the GPU machine, PJRT C API 0.115.
# It is fetched with `pip download --no-deps` (its metadata requires jax, which the plugin itself does not
# use), checked against the SHA-256 below and unpacked; Python only runs pip, never the plugin.
#
# Exit status: 0 with the path on stdout; 3 when pip is not available (one line on stderr says what to do:
# neti then runs on its pure-Go backend, SimpleGo); 1 on any other failure (download, checksum).
set -euo pipefail
name=lammps-jax-pjrt-cpu
version=0.11.2
wheel=lammps_jax_pjrt_cpu-0.11.2-py3-none-manylinux_2_27_x86_64.whl
sha256=1319390d948b39f69f7dade496b7c385149d9ca6097a6b62114da113216d9ad1
member=lammps_jax_pjrt_cpu/pjrt_c_api_cpu_plugin.so
cache="${NETI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/neti}/pjrt-cpu/$version"
plugin="$cache/pjrt_c_api_cpu_plugin.so"

if [ -f "$plugin" ]; then echo "$plugin"; exit 0; fi

if [ "$(uname -s)-$(uname -m)" != Linux-x86_64 ]; then
  echo "pjrt-cpu.sh: the pinned XLA CPU plugin is for Linux x86-64, this is $(uname -s)-$(uname -m): neti runs" \
    "on its pure-Go backend (--backend go); put a PJRT CPU plugin in PJRT_PLUGIN_LIBRARY_PATH for the fast path" >&2
  exit 3
fi
pip=()
for py in python3 python; do
  if command -v "$py" >/dev/null && "$py" -m pip --version >/dev/null 2>&1; then pip=("$py" -m pip); break; fi
done
if [ ${#pip[@]} -eq 0 ]; then
  echo "pjrt-cpu.sh: no pip found (python3 -m pip): neti runs on its pure-Go backend, several times slower;" \
    "install pip (e.g. apt-get install python3-pip) and rerun scripts/pjrt-cpu.sh for the XLA CPU fast path" >&2
  exit 3
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "downloading the XLA CPU PJRT plugin ($name $version, 63 MB) with pip, once..." >&2
"${pip[@]}" download --quiet --no-deps --only-binary=:all: --platform manylinux_2_27_x86_64 \
  --python-version 3 --implementation py --abi none -d "$work" "$name==$version" >&2
got=$(sha256sum "$work/$wheel" | cut -d' ' -f1)
if [ "$got" != "$sha256" ]; then
  echo "pjrt-cpu.sh: $wheel has SHA-256 $got, expected $sha256: not installed" >&2
  exit 1
fi
# A wheel is a zip file; Python's zipfile unpacks the one member (unzip may not be installed).
"${pip[0]}" - "$work/$wheel" "$member" "$work/plugin.so" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
mkdir -p "$cache"
mv "$work/plugin.so" "$plugin.tmp.$$"
mv "$plugin.tmp.$$" "$plugin"
echo "$plugin"
