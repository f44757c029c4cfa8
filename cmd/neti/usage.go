package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/org/neti/internal/backend"
)

// parseFlags parses a command's flags. -h or --help prints the command's usage (fs.Usage, written to
// fs.Output()) on stdout and returns flag.ErrHelp, which run turns into success; a bad flag returns one
// error line naming it with a one-line hint (usageError), not the whole usage.
func parseFlags(cmd string, fs *flag.FlagSet, args []string, stdout io.Writer) error {
	usage := fs.Usage
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.Usage = usage
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(stdout)
		fs.Usage()
		return flag.ErrHelp
	}
	if err != nil {
		return usageError(cmd, fmt.Errorf("%s: %w", cmd, err))
	}
	return nil
}

// usageError is err of command cmd followed by the hint to its help: two lines, the error and the hint.
func usageError(cmd string, err error) error {
	return fmt.Errorf("%w\nrun \"neti %s --help\" for its flags", err, cmd)
}

// runVersion is "neti version" (and "neti --version"): the module's version and VCS revision from the
// build information, the Go version, and the backend neti uses by default here.
func runVersion(stdout io.Writer) error {
	version, revision := "(unknown)", ""
	if info, ok := debug.ReadBuildInfo(); ok {
		version = info.Main.Version
		var rev, when, modified string
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					modified = ", modified"
				}
			}
		}
		if rev != "" {
			revision = fmt.Sprintf(" (commit %.12s %s%s)", rev, when, modified)
		}
	}
	fmt.Fprintf(stdout, "neti %s%s %s %s/%s\n", version, revision, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(stdout, "default backend: %s\n", defaultBackend())
	return nil
}

// defaultBackend says which backend a command uses without --backend: $GOMLX_BACKEND, or auto resolved.
func defaultBackend() string {
	if env := strings.TrimSpace(os.Getenv("GOMLX_BACKEND")); env != "" {
		return fmt.Sprintf("%s (from $GOMLX_BACKEND)", env)
	}
	if path, _ := backend.FindCPUPlugin(); path != "" {
		return fmt.Sprintf("auto: XLA on the CPU (PJRT plugin %s)", path)
	}
	return "auto: go (pure-Go SimpleGo; install XLA's CPU plugin with scripts/pjrt-cpu.sh for speed)"
}
