package backend

import (
	"os"
	"path/filepath"

	"github.com/gomlx/go-xla/pkg/pjrt"
)

// CPUPluginVersion is the version of XLA's CPU PJRT plugin scripts/pjrt-cpu.sh installs (the PyPI wheel
// lammps-jax-pjrt-cpu, built from jaxlib 0.11.2's XLA).
const CPUPluginVersion = "0.11.2"

// cpuPluginFile is the file name of XLA's CPU PJRT plugin, which PJRT's search path also recognises.
const cpuPluginFile = "pjrt_c_api_cpu_plugin.so"

// CPUPluginCache is where scripts/pjrt-cpu.sh installs the CPU plugin:
// ${NETI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/neti}/pjrt-cpu/<CPUPluginVersion>/pjrt_c_api_cpu_plugin.so.
func CPUPluginCache() string {
	cache := os.Getenv("NETI_CACHE")
	if cache == "" {
		base := os.Getenv("XDG_CACHE_HOME")
		if base == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return ""
			}
			base = filepath.Join(home, ".cache")
		}
		cache = filepath.Join(base, "neti")
	}
	return filepath.Join(cache, "pjrt-cpu", CPUPluginVersion, cpuPluginFile)
}

// FindCPUPlugin returns the absolute path of XLA's CPU PJRT plugin and where it was found, or "" and where it
// was looked for. It looks, in order, at $NETI_PJRT_CPU_PLUGIN (a file), at CPUPluginCache (where
// scripts/pjrt-cpu.sh puts it), and for pjrt_c_api_cpu_plugin.so on PJRT's search path
// ($PJRT_PLUGIN_LIBRARY_PATH, ~/.local/lib/go-xla, /usr/local/lib/go-xla, the system's library folders).
func FindCPUPlugin() (path, where string) {
	if env := os.Getenv("NETI_PJRT_CPU_PLUGIN"); env != "" {
		if abs, err := filepath.Abs(env); err == nil && isFile(abs) {
			return abs, "$NETI_PJRT_CPU_PLUGIN"
		}
		return "", "$NETI_PJRT_CPU_PLUGIN=" + env + " is not a file"
	}
	cache := CPUPluginCache()
	if cache != "" && isFile(cache) {
		return cache, "installed by scripts/pjrt-cpu.sh"
	}
	if found, ok := pjrt.AvailablePlugins()["cpu"]; ok {
		if abs, err := filepath.Abs(found); err == nil && isFile(abs) {
			return abs, "PJRT's search path"
		}
	}
	return "", "not in " + cache + " nor on PJRT's search path ($" + pjrt.PJRTPluginPathsEnv + ")"
}

// isFile reports whether path names a regular file (or a link to one).
func isFile(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.Mode().IsRegular()
}
