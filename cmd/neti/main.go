// Command neti learns NeTI concepts, generates images with Stable Diffusion models in diffusers format and
// inspects models and concepts, on the CPU or a GPU (XLA/PJRT).
//
// Usage:
//
//	neti quickstart [--concept tealstar] [--output_dir quickstart]
//	neti train --pretrained_model_name_or_path DIR --train_data_dir DIR --placeholder_token TOKEN [flags]
//	neti generate --pretrained_model_name_or_path DIR_OR_ID [--concept FILE] [flags] "prompt"
//	neti export --concept FILE --format diffusers|a1111
//	neti inspect DIR_OR_ID|CONCEPT_FILE
//	neti toyworld dataset|concepts|render|measure|vocab
//
// Run "neti <command> -h" for the flags of each command. The backend is chosen by --backend or the
// GOMLX_BACKEND environment variable; the default, "auto", is XLA on the CPU when its PJRT plugin is
// installed (scripts/pjrt-cpu.sh), else the pure-Go CPU backend. Each command prints which one runs.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
)

// backendUsage is the usage of every command's --backend flag.
const backendUsage = "GoMLX backend: auto (XLA on the CPU if its plugin is installed, else go), go (pure-Go CPU), " +
	"xla:cpu, xla:cuda or xla:/path/to/pjrt_plugin.so (default: $GOMLX_BACKEND, else auto)"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
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

// run is the whole program without process globals, so tests can call it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return errors.New("no command given")
		}
		return nil
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
	return cmd(ctx, args[1:], stdout, stderr)
}

const usage = `neti: personalization of Stable Diffusion with NeTI, in Go.

Commands:
  bench      compare NeTI, its ablations, P+ and TI on the toy-world concepts (fidelity vs editability)
  export     write a concept as a single-vector textual-inversion embedding (diffusers or a1111)
  generate   generate images from a prompt with a diffusers model
  inspect    show a model's components, configurations and parameter counts, or a concept file
  quickstart learn a shipped toy-world concept on the built-in model and draw a grid (the README's first command)
  toyworld   the procedural toy world: dataset, concepts, render, measure
  train      learn a concept (NeTI, TI or P+) from images of it

Run "neti <command> -h" for its flags.
`
