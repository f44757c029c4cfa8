// Command neti learns NeTI concepts, generates images with Stable Diffusion models in diffusers format and
// inspects models and concepts, on the CPU or a GPU (XLA/PJRT).
//
// Usage:
//
//	neti quickstart [--concept tealstar] [--output_dir quickstart]
//	neti train [--pretrained_model_name_or_path DIR] --train_data_dir DIR --placeholder_token TOKEN [flags]
//	neti generate --pretrained_model_name_or_path DIR_OR_ID [--concept FILE] [flags] "prompt"
//	neti export --concept FILE --format diffusers|a1111
//	neti inspect DIR_OR_ID|CONCEPT_FILE
//	neti toyworld dataset|concepts|render|measure|vocab
//
// Run "neti <command> --help" for the flags of each command, "neti version" for the version. The backend is chosen by --backend or the
// GOMLX_BACKEND environment variable; the default, "auto", is XLA on the CPU when its PJRT plugin is
// installed (scripts/pjrt-cpu.sh), else the pure-Go CPU backend. Each command prints which one runs.
//
// Ctrl-C (SIGINT) or SIGTERM stops a command at its next step: neti train then writes a checkpoint of the
// steps done and prints the command that resumes it exactly; the exit status is 128 + the signal's number
// (130, 143). A second signal quits at once.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
)

// backendUsage is the usage of every command's --backend flag.
const backendUsage = "GoMLX backend: auto (XLA on the CPU if its plugin is installed, else go), go (pure-Go CPU), " +
	"xla:cpu, xla:cuda or xla:/path/to/pjrt_plugin.so (default: $GOMLX_BACKEND, else auto)"

func main() {
	programName = os.Args[0]
	ctx, sig := signalContext()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if s, ok := sig(); ok { // 128 + the signal's number, as shells report a process ended by it
		if err != nil {
			fmt.Fprintln(os.Stderr, "error:", err)
		}
		os.Exit(128 + int(s))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// programName is how the resume command printed by an interrupted neti train starts: os.Args[0] (the
// path scripts/neti runs, or "neti" from $PATH).
var programName = "neti"

// signalCause is the cause of the context cancelled by SIGINT (Ctrl-C) or SIGTERM; errors.Is(cause,
// context.Canceled) holds.
type signalCause struct{ sig syscall.Signal }

// Error names the signal.
func (c signalCause) Error() string {
	if c.sig == syscall.SIGINT {
		return "interrupted by Ctrl-C (SIGINT)"
	}
	return fmt.Sprintf("stopped by %s (%v)", unix(c.sig), c.sig)
}

// Is makes the cause a context.Canceled.
func (c signalCause) Is(target error) bool { return target == context.Canceled }

// unix is a signal's Unix name: SIGTERM for "terminated".
func unix(s syscall.Signal) string {
	switch s {
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGINT:
		return "SIGINT"
	}
	return fmt.Sprintf("signal %d", int(s))
}

// signalContext returns a context cancelled, with a signalCause, by the first SIGINT or SIGTERM: commands
// stop at their next step (neti train saves a checkpoint and prints the resume command). A second signal
// ends the process at once (Go's default). received reports the first signal, if any.
func signalContext() (ctx context.Context, received func() (syscall.Signal, bool)) {
	ctx, cancel := context.WithCancelCause(context.Background())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	var got atomic.Int32
	go func() {
		s, _ := (<-ch).(syscall.Signal)
		signal.Stop(ch) // a second signal takes Go's default action: exit at once
		got.Store(int32(s))
		fmt.Fprintf(os.Stderr, "\n%s received: stopping at the next step (send it again to quit at once)\n", unix(s))
		cancel(signalCause{s})
	}()
	return ctx, func() (syscall.Signal, bool) {
		s := syscall.Signal(got.Load())
		return s, s != 0
	}
}

// commands maps each subcommand to its implementation.
var commands = map[string]func(ctx context.Context, args []string, stdout, stderr io.Writer) error{
	"bench":      runBench,
	"export":     runExport,
	"generate":   runGenerate,
	"inspect":    runInspect,
	"quickstart": runQuickstart,
	"toyworld":   runToyworld,
	"train":      runTrain,
}

// run is the whole program without process globals, so tests can call it. Help (neti --help, neti
// <command> --help) goes to stdout and is a success.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	if isHelp(args[0]) || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	if args[0] == "version" || args[0] == "--version" || args[0] == "-version" {
		return runVersion(stdout)
	}
	cmd, ok := commands[args[0]]
	if !ok {
		return fmt.Errorf("unknown command %q: expected one of bench, export, generate, inspect, quickstart, "+
			"toyworld, train, version\nrun \"neti --help\" for what each does", args[0])
	}
	if err := cmd(ctx, args[1:], stdout, stderr); !errors.Is(err, flag.ErrHelp) {
		return err
	}
	return nil
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool { return arg == "-h" || arg == "-help" || arg == "--help" }

const usage = `neti: personalization of Stable Diffusion with NeTI, in Go.

usage: neti <command> [flags]

Commands:
  bench      compare NeTI, its ablations, P+ and TI on the toy-world concepts (fidelity vs editability)
  export     write a concept as a single-vector textual-inversion embedding (diffusers or a1111)
  generate   generate images from a prompt with a diffusers model
  inspect    show a model's components, configurations and parameter counts, or a concept file
  quickstart learn a shipped toy-world concept on the built-in model and draw a grid (the README's first command)
  toyworld   the procedural toy world: dataset, concepts, render, measure
  train      learn a concept (NeTI, TI or P+) from images of it
  version    print neti's version and the backend it uses by default (also: neti --version)

Run "neti <command> --help" for its flags.
`
