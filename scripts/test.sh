#!/usr/bin/env bash
# The test command of the README: builds libtokenizers once (cargo, cached outside the clone), installs XLA's
# CPU PJRT plugin once (scripts/pjrt-cpu.sh, through pip; without pip the tests run on the pure-Go backend),
# then runs the fast test suite on the CPU. The backend is $GOMLX_BACKEND when set, else "auto": XLA on the
# CPU when its plugin is installed, else SimpleGo ("go"); `GOMLX_BACKEND=go scripts/test.sh` runs the pure-Go
# backend. Extra arguments go to `go test` (e.g. -run, -v, -tags slow).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:$HOME/.cargo/bin:/usr/local/go/bin"
CGO_LDFLAGS="-L$(scripts/libtokenizers.sh) ${CGO_LDFLAGS:-}"
export CGO_LDFLAGS
scripts/pjrt-cpu.sh >/dev/null || echo "tests run on the pure-Go backend (see above)" >&2
echo "backend: ${GOMLX_BACKEND:-auto}" >&2
go test "$@" ./...
