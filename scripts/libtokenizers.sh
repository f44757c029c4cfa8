#!/usr/bin/env bash
# Builds libtokenizers.a (the Rust half of github.com/daulet/tokenizers) from the
# module's own sources with cargo, once, into a cache outside the clone, and
# prints the folder that holds it. Use it as:
#   export CGO_LDFLAGS="-L$(scripts/libtokenizers.sh)"
# The version is the one go.mod pins; the build is reused while it exists.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(go list -m -f '{{.Version}}' github.com/daulet/tokenizers)
cache="${NETI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/neti}/libtokenizers/$version"
if [ ! -f "$cache/libtokenizers.a" ]; then
  go mod download github.com/daulet/tokenizers >&2
  src=$(go list -m -f '{{.Dir}}' github.com/daulet/tokenizers)
  mkdir -p "$cache"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  cp -r "$src/." "$work/"
  chmod -R u+w "$work"
  echo "building libtokenizers $version with cargo (a few minutes, once)..." >&2
  (cd "$work" && cargo build --release --locked --lib >&2)
  cp "$work/target/release/libtokenizers.a" "$cache/libtokenizers.a.tmp"
  mv "$cache/libtokenizers.a.tmp" "$cache/libtokenizers.a"
fi
echo "$cache"
