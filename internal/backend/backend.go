package backend

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gomlx/go-xla/pkg/pjrt"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/backends/xla"
)

// EnvVar is the environment variable New("") reads: GoMLX's own GOMLX_BACKEND.
const EnvVar = backends.ConfigEnvVar

// CPUName is the backend name of the pure-Go CPU backend: GoMLX's SimpleGo, wrapped by this package's adapter.
const CPUName = simplego.BackendName

// Auto is the config that picks the fastest backend here: XLA on the CPU when its PJRT plugin is installed
// (FindCPUPlugin), else CPUName.
const Auto = "auto"

// xlaNames are the names GoMLX's XLA backend registers itself under.
var xlaNames = []string{"xla", "stablehlo", "shlo", "hlo"}

// GoMLX's XLA backend downloads a plugin from the internet when "xla:cpu" or "xla:cuda" finds none; neti never
// does (it fails with a message about api.github.com where there is no internet): plugins are installed by
// scripts/pjrt-cpu.sh or by the user, and found by FindCPUPlugin or PJRT's search path.
func init() { xla.EnableAutoInstall(false) }

// New returns the backend for config.
//
// config "" means $GOMLX_BACKEND if set, else Auto. The form is "<name>[:<options>]":
//   - "auto": XLA on the CPU through the plugin FindCPUPlugin finds, else "go".
//   - "go" or "go:<simplego options>": SimpleGo wrapped by the training adapter (see the package doc).
//   - "xla" or "xla:cpu": XLA on the CPU through the plugin FindCPUPlugin finds; an error that says how to
//     install one if there is none.
//   - "xla:cuda" (or another plugin name): the PJRT plugin pjrt_c_api_<name>_plugin.so found on PJRT's search
//     path ($PJRT_PLUGIN_LIBRARY_PATH, ~/.local/lib/go-xla, /usr/local/lib/go-xla, the system's library
//     folders); "xla:/path/to/plugin.so" loads that file. GoMLX's aliases "stablehlo", "shlo", "hlo" work too.
//     On an NVIDIA plugin float32 is computed in full precision and GPU memory is taken as needed rather than
//     reserved up front; options after the plugin, comma-separated: "tf32" (allow TF32), "preallocate"
//     (reserve it up front), "memory_fraction=F" (use at most F of the GPU's memory), "allocator=NAME"
//     (bfc, cuda_async, platform or default: how memory is taken and returned), e.g.
//     "xla:cuda,tf32,memory_fraction=0.5".
//   - any other name registered with GoMLX's backends.Register, passed through unchanged.
func New(config string) (backends.Backend, error) {
	b, _, err := NewNoted(config)
	return b, err
}

// NewNoted is New that also returns a one-line note of how the backend was chosen when config left the
// choice to this package ("" without $GOMLX_BACKEND, or "auto"), e.g. why the CPU runs on SimpleGo, or of the
// environment it set for an NVIDIA plugin (gpuFloat32Env); "" otherwise.
func NewNoted(config string) (b backends.Backend, note string, err error) {
	source := "argument"
	if config == "" {
		if env, ok := os.LookupEnv(EnvVar); ok && env != "" {
			config, source = env, "$"+EnvVar
		} else {
			config, source = Auto, "default"
		}
	}
	name, options, _ := strings.Cut(config, ":")
	switch {
	case name == Auto:
		if options != "" {
			return nil, "", fmt.Errorf("backend.New: backend %q (from %s) takes no options; use %q", config, source, Auto)
		}
		plugin, where := FindCPUPlugin()
		if plugin == "" {
			b, err := newSimpleGo(CPUName, "", source)
			return b, "XLA's CPU plugin is not installed (" + where + "), so the CPU runs on the pure-Go backend, " +
				"several times slower: run scripts/pjrt-cpu.sh (needs pip) for the fast path", err
		}
		b, err := newRegistered(config, "xla", plugin+",shared_buffers", source)
		return b, "XLA on the CPU through " + plugin + " (" + where + ")", err
	case name == CPUName:
		b, err := newSimpleGo(config, options, source)
		return b, "", err
	case slices.Contains(xlaNames, name):
		pluginName, pluginOptions, _ := strings.Cut(options, ",")
		if o := gpuOnlyOption(strings.Split(pluginOptions, ",")); o != "" && !isNVIDIA(pluginName) {
			return nil, "", fmt.Errorf("backend.New: backend %q (from %s): option %q is for NVIDIA GPU plugins "+
				"(xla:cuda or a path to a CUDA plugin); remove it", config, source, o)
		}
		switch {
		case pluginName == "" || pluginName == "cpu":
			plugin, where := FindCPUPlugin()
			if plugin == "" {
				return nil, "", fmt.Errorf("backend.New: backend %q (from %s) needs XLA's CPU PJRT plugin, and %s; "+
					"install it with scripts/pjrt-cpu.sh (needs pip), or put pjrt_c_api_cpu_plugin.so in a folder "+
					"named by $%s, or use %q for the pure-Go CPU backend",
					config, source, where, pjrt.PJRTPluginPathsEnv, CPUName)
			}
			options = plugin + ",shared_buffers"
			if pluginOptions != "" {
				options += "," + pluginOptions
			}
		case !filepath.IsAbs(pluginName):
			if _, found := pjrt.AvailablePlugins()[pluginName]; !found {
				return nil, "", fmt.Errorf("backend.New: backend %q (from %s): no PJRT plugin named %q "+
					"(pjrt_c_api_%s_plugin.so) on PJRT's search path ($%s=%q, ~/.local/lib/go-xla, "+
					"/usr/local/lib/go-xla, the system's library folders); neti does not download plugins: "+
					"for a GPU install jax's CUDA plugin (pip install jax-cuda12-pjrt or jax-cuda13-pjrt) and pass "+
					"its .so as xla:/path/to/plugin.so, or run on the CPU with %q or \"xla:cpu\"",
					config, source, pluginName, pluginName, pjrt.PJRTPluginPathsEnv,
					os.Getenv(pjrt.PJRTPluginPathsEnv), Auto)
			}
		}
		if !isNVIDIA(pluginName) {
			b, err := newRegistered(config, name, options, source)
			return b, "", err
		}
		clientOptions, rest, err := gpuClientOptions(strings.Split(options, ","))
		if err != nil {
			return nil, "", fmt.Errorf("backend.New: backend %q (from %s): %w", config, source, err)
		}
		note := gpuFloat32Env(pluginName, strings.Split(pluginOptions, ","))
		if note != "" {
			note = "float32 in full precision on the GPU (" + note + "; \"" + config + "," + tf32Option +
				"\" allows TF32)"
		}
		b, err := create(config, source, func() (backends.Backend, error) {
			return xla.NewWithOptions(strings.Join(rest, ","), clientOptions)
		})
		return b, note, err
	case slices.Contains(backends.List(), name):
		b, err := newRegistered(config, name, options, source)
		return b, "", err
	default:
		return nil, "", fmt.Errorf("backend.New: unknown backend %q (from %s): expected %q (the fastest here), "+
			"%q (pure-Go CPU), \"xla[:cpu|:cuda|:<pjrt plugin path>]\" or one of the linked backends %q; "+
			"fix the config or $%s", config, source, Auto, CPUName, linked(), EnvVar)
	}
}

// newCPU returns SimpleGo with options, wrapped by the adapter.
func newSimpleGo(config, options, source string) (backends.Backend, error) {
	inner, err := simplego.New(cpuOptions(options))
	if err != nil {
		return nil, fmt.Errorf("backend.New: SimpleGo rejected config %q (from %s): %w", config, source, err)
	}
	return Wrap(inner), nil
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

// newRegistered calls the constructor GoMLX registered for name.
func newRegistered(config, name, options, source string) (backends.Backend, error) {
	return create(config, source, func() (backends.Backend, error) { return backends.NewWithConfig(name + ":" + options) })
}

// create calls a backend constructor for config, turning its panics and errors into errors that say what
// to do.
func create(config, source string, constructor func() (backends.Backend, error)) (b backends.Backend, err error) {
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("backend.New: creating backend %q (from %s) failed: %v", config, source, r)
		}
	}()
	b, err = constructor()
	if err != nil {
		return nil, fmt.Errorf("backend.New: creating backend %q (from %s) failed: %w; check the plugin "+
			"name or path (a GPU plugin needs a GPU and its driver), or use %q for the pure-Go CPU backend",
			config, source, err, CPUName)
	}
	return b, nil
}

// linked lists the backend names usable by New in this binary, sorted.
func linked() []string {
	names := append(backends.List(), CPUName, Auto)
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
