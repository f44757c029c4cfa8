//go:build xla

package backend

// Building with -tags xla links GoMLX's XLA backend (PJRT, through github.com/gomlx/go-xla) into binaries
// that do not import it themselves, such as test binaries for the GPU check (scripts/gpu-check.sh), so that
// New("xla:cuda") or GOMLX_BACKEND=xla:<plugin path> work there.
import _ "github.com/gomlx/gomlx/backends/xla"
