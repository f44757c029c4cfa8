#!/usr/bin/env bash
# The test command of the README: builds libtokenizers once (cargo, cached outside the clone), then runs the
# fast test suite on the CPU backend. Extra arguments go to `go test` (e.g. -run, -v, -tags slow).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:$HOME/.cargo/bin:/usr/local/go/bin"
CGO_LDFLAGS="-L$(scripts/libtokenizers.sh) ${CGO_LDFLAGS:-}"
export CGO_LDFLAGS
go test "$@" ./...
