#!/usr/bin/env bash
# Checks that a Go module outside the repository can import neti, following examples/downstream/README.md:
# it runs the README's shell block between the "downstream-check: begin" and "end" markers as written, in a
# fresh temporary folder outside the repository, with only the two lines that name folders rewritten:
# NETI_SRC=/path/to/neti becomes this clone (so the block's `go mod edit -replace` points the copied go.mod
# at it, absolute) and APP=~/neti-downstream a folder in the temporary one. The block copies
# examples/downstream there, builds it with -trimpath and runs it; this script then checks that star.png is
# a 64×64 PNG, that the model came from the embedded files (not from this clone) and that the committed
# go.mod/go.sum are what the README's `go mod tidy` leaves. The README is the script: edit the commands
# there, and this check runs what a user would type.
#
# Environment: what the README's commands use (PATH with go and cargo; GOMLX_BACKEND to pick a backend, CI
# sets go). Exit status 0 when the check passes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd -P)
readme="$root/examples/downstream/README.md"

block=$(awk '/<!-- downstream-check: begin/ {inside=1; next} /<!-- downstream-check: end/ {inside=0} inside' "$readme" |
  sed '/^```/d')
for line in 'NETI_SRC=/path/to/neti' 'APP=~/neti-downstream'; do
  if [ "$(grep -cxF -- "$line" <<<"$block")" != 1 ]; then
    echo "downstream-check: the marked block of $readme must hold the line '$line' once" >&2; exit 1
  fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/neti-downstream-check.XXXXXX")
work=$(cd "$work" && pwd -P)
trap 'rm -rf "$work"' EXIT
case "$work/" in
  "$root"/*) echo "downstream-check: the temporary folder $work is inside the repository; set TMPDIR" >&2; exit 1 ;;
esac
app="$work/neti-downstream"
script=$(awk -v src="$root" -v app="$app" '
  $0 == "NETI_SRC=/path/to/neti" { print "NETI_SRC=\"" src "\""; next }
  $0 == "APP=~/neti-downstream"  { print "APP=\"" app "\""; next }
  { print }' <<<"$block")
echo "== the commands of examples/downstream/README.md, in $work"
sed 's/^/  $ /' <<<"$script"
(cd "$work" && bash -euo pipefail -c "$script") | tee "$work/out.txt"

png="$app/star.png"
if [ ! -f "$png" ]; then echo "downstream-check: $png was not written" >&2; exit 1; fi
# A PNG: its 8-byte signature, then the IHDR chunk whose data starts with width and height (big-endian).
read -r -a head <<<"$(od -An -tu1 -N24 "$png" | tr -s ' \n' ' ')"
sig="${head[*]:0:8}"
width=$(( (head[16]<<24) | (head[17]<<16) | (head[18]<<8) | head[19] ))
height=$(( (head[20]<<24) | (head[21]<<16) | (head[22]<<8) | head[23] ))
if [ "$sig" != "137 80 78 71 13 10 26 10" ] || [ "$width" != 64 ] || [ "$height" != 64 ]; then
  echo "downstream-check: $png is not a 64×64 PNG (signature $sig, ${width}×${height})" >&2; exit 1
fi
# The README's `go mod tidy` ran on the copy; the committed go.mod/go.sum must be what it leaves (with the
# replace set back), so that the example builds offline as committed.
cp "$app/go.mod" "$work/go.mod.tidy"
go mod edit -replace github.com/org/neti=../.. "$work/go.mod.tidy"
if ! cmp -s "$work/go.mod.tidy" "$root/examples/downstream/go.mod" || ! cmp -s "$app/go.sum" "$root/examples/downstream/go.sum"; then
  echo "downstream-check: examples/downstream/go.mod or go.sum is not tidy: run (cd examples/downstream && go mod tidy)" >&2
  diff -u "$root/examples/downstream/go.mod" "$work/go.mod.tidy" >&2 || true
  diff -u "$root/examples/downstream/go.sum" "$app/go.sum" >&2 || true
  exit 1
fi
model=$(sed -n 's/.*: model \(.*\), backend .*/\1/p' "$work/out.txt")
case "$model/" in
  "$root"/*|/) echo "downstream-check: the -trimpath binary used '$model', not the embedded model" >&2; exit 1 ;;
esac
echo "downstream-check: ok: $png is a 64×64 PNG; the model came from $model"
