package backend

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
)

// EnvVar is the environment variable New("") reads: GoMLX's own GOMLX_BACKEND.
const EnvVar = backends.ConfigEnvVar

// CPUName is the backend name of the CPU default: GoMLX's SimpleGo, wrapped by this package's adapter.
const CPUName = simplego.BackendName

// xlaNames are the names GoMLX's XLA backend registers itself under.
var xlaNames = []string{"xla", "stablehlo", "shlo", "hlo"}

// New returns the backend for config.
//
// config "" means $GOMLX_BACKEND if set, else the CPU default "go". The form is "<name>[:<options>]":
//   - "go" or "go:<simplego options>": SimpleGo wrapped by the training adapter (see the package doc).
//   - "xla", "xla:cpu", "xla:cuda", "xla:<pjrt plugin path>" (or GoMLX's aliases "stablehlo", "shlo",
//     "hlo"): GoMLX's XLA backend, available only when the program imports
//     github.com/gomlx/gomlx/backends/xla.
//   - any other name registered with GoMLX's backends.Register, passed through unchanged.
func New(config string) (backends.Backend, error) {
	source := "argument"
	if config == "" {
		if env, ok := os.LookupEnv(EnvVar); ok && env != "" {
			config, source = env, "$"+EnvVar
		} else {
			config, source = CPUName, "default"
		}
	}
	name, options, _ := strings.Cut(config, ":")
	switch {
	case name == CPUName:
		inner, err := simplego.New(cpuOptions(options))
		if err != nil {
			return nil, fmt.Errorf("backend.New: SimpleGo rejected config %q (from %s): %w", config, source, err)
		}
		return Wrap(inner), nil
	case slices.Contains(xlaNames, name):
		if !slices.Contains(backends.List(), name) {
			return nil, fmt.Errorf("backend.New: backend %s (from %s) is not linked in this binary; build with "+
				`the XLA backend by importing _ "github.com/gomlx/gomlx/backends/xla" in package main (needs cgo `+
				"and a PJRT plugin), or use %q for the pure-Go CPU backend; linked backends: %q",
				config, source, CPUName, linked())
		}
		return newRegistered(config, name, options, source)
	case slices.Contains(backends.List(), name):
		return newRegistered(config, name, options, source)
	default:
		return nil, fmt.Errorf("backend.New: unknown backend %q (from %s): expected %q (pure-Go CPU), "+
			"\"xla[:cpu|:cuda|:<pjrt plugin path>]\" (when linked) or one of the linked backends %q; "+
			"fix the config or $%s", config, source, CPUName, linked(), EnvVar)
	}
}

// cpuOptions adds "ops_sequential" to SimpleGo's options unless they choose an op execution mode.
//
// SimpleGo v0.26 can deadlock when it runs independent ops in parallel: each op holds a slot of its worker
// pool while a large DotGeneral inside it waits (WaitToStart) for further slots, and with few cores every
// slot ends up held by an op waiting for another (seen with the tiny UNet on 2 cores: all goroutines in
// sync.Cond.Wait). Executing ops one after the other leaves the pool to the parallelism inside each op
// (matrix products, convolutions rewritten as matrix products), which is where the work is anyway.
func cpuOptions(options string) string {
	if strings.Contains(options, "ops_parallel") || strings.Contains(options, "ops_sequential") {
		return options
	}
	if options == "" {
		return "ops_sequential"
	}
	return options + ",ops_sequential"
}

// newRegistered calls the constructor GoMLX registered for name, turning its panics into errors.
func newRegistered(config, name, options, source string) (b backends.Backend, err error) {
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("backend.New: creating backend %q (from %s) failed: %v", config, source, r)
		}
	}()
	b, err = backends.NewWithConfig(name + ":" + options)
	if err != nil {
		return nil, fmt.Errorf("backend.New: creating backend %q (from %s) failed: %w; check the plugin "+
			"name or path, or use %q for the pure-Go CPU backend", config, source, err, CPUName)
	}
	return b, nil
}

// linked lists the backend names usable by New in this binary, sorted.
func linked() []string {
	names := append(backends.List(), CPUName)
	slices.Sort(names)
	return slices.Compact(names)
}

// Describe returns a one-line description of b for logs and the CLI: its name, its description and the
// description of its first device, e.g. "go: SimpleGo (go) + neti training adapter [device 0: ...]".
func Describe(b backends.Backend) string {
	if b == nil {
		return "<nil backend>"
	}
	s := b.Name() + ": " + b.Description()
	if b.NumDevices() > 0 {
		s += " [device 0: " + b.DeviceDescription(0) + "]"
	}
	return s
}
