package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/org/neti"
)

func runInspect(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	showConfig := fs.Bool("config", false, "print each component's parsed configuration")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: neti inspect [flags] DIR_OR_ID\n\nShows a diffusers model's components, configurations and parameter counts\n(configuration-only folders work: nothing is loaded).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return fmt.Errorf("inspect takes one model folder or id; got %d arguments", fs.NArg())
	}
	info, err := neti.Inspect(fs.Arg(0))
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(info)
	}
	fmt.Fprintf(stdout, "model     %s\npipeline  %s\nscheduler %s (%s, %s)\n\n", info.Dir, info.Pipeline,
		info.Scheduler.ClassName, info.Scheduler.PredictionType, info.Scheduler.BetaSchedule)
	var total int64
	for _, c := range info.Components {
		fmt.Fprintln(stdout, c)
		total += c.Parameters
		weights := c.Weights
		if weights == "" {
			weights = "(no weights: configuration only)"
		}
		fmt.Fprintf(stdout, "              weights %s\n", weights)
		if *showConfig {
			data, _ := json.MarshalIndent(c.Config, "              ", "  ")
			fmt.Fprintf(stdout, "              config  %s\n", data)
		}
	}
	fmt.Fprintf(stdout, "\ntotal %.2f M parameters\n", float64(total)/1e6)
	return nil
}
