#!/usr/bin/env bash
# The test command of the README: builds libtokenizers once (cargo, cached outside the clone), installs XLA's
# CPU PJRT plugin once (scripts/pjrt-cpu.sh, through pip; without pip the tests run on the pure-Go backend),
# then runs the fast test suite on the CPU. The backend is $GOMLX_BACKEND when set, else "go" (pure Go: the
# whole suite in about 2 minutes on 2 cores); `GOMLX_BACKEND=xla:cpu scripts/test.sh` runs the same suite on
# XLA's CPU plugin (about 18 minutes: XLA compiles every test's graphs), `GOMLX_BACKEND=auto` on whichever
# is fastest here. Extra arguments go to `go test` (e.g. -run, -v, -tags slow).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:$HOME/.cargo/bin:/usr/local/go/bin"
CGO_LDFLAGS="-L$(scripts/libtokenizers.sh) ${CGO_LDFLAGS:-}"
export CGO_LDFLAGS
scripts/pjrt-cpu.sh >/dev/null || echo "without XLA's CPU plugin, only the pure-Go backend can run the tests" >&2
export GOMLX_BACKEND="${GOMLX_BACKEND:-go}"
echo "backend: $GOMLX_BACKEND" >&2
# On XLA the root package takes 14 minutes on 2 idle cores (v2 toy model, 2026-12-03), more than go test's
# default limit of 10 per package; 60 leaves room on a loaded machine (a run beside a benchmark hit 40).
go test -timeout 60m "$@" ./...
