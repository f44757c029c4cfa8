package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/org/neti"
	"github.com/org/neti/internal/safetensors"
)

func runInspect(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	showConfig := fs.Bool("config", false, "print each component's parsed configuration")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: neti inspect [flags] DIR_OR_ID|FILE.safetensors\n\nShows a diffusers model's components, configurations and parameter counts\n(configuration-only folders work: nothing is loaded), or a NeTI concept file's\nsettings (other safetensors files: their metadata and tensors).")
		fs.PrintDefaults()
	}
	if err := parseFlags("inspect", fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("inspect", fmt.Errorf("inspect takes one model folder or id; got %d arguments", fs.NArg()))
	}
	if st, err := os.Stat(fs.Arg(0)); err == nil && !st.IsDir() {
		return inspectFile(fs.Arg(0), st.Size(), *asJSON, stdout)
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
			weights = "none: " + c.WeightsProblem
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

// conceptReport is what inspect shows of a concept file.
type conceptReport struct {
	File          string              `json:"file"`
	Bytes         int64               `json:"bytes"`
	Method        string              `json:"method"`
	Placeholder   string              `json:"placeholder"`
	SuperCategory string              `json:"super_category"`
	BaseModel     string              `json:"base_model"`
	BaseIdentity  *neti.ModelIdentity `json:"base_identity,omitempty"`
	LayerNames    []string            `json:"layer_names"`
	Alpha         float64             `json:"bypass_alpha"`
	Truncation    int                 `json:"truncation"`
	Mapper        neti.MapperConfig   `json:"mapper"`
	Parameters    int                 `json:"parameters"`
	FixedValues   int                 `json:"fixed_values"`
	Training      json.RawMessage     `json:"training,omitempty"`
}

// inspectFile shows a concept file, or the metadata and tensors of another safetensors file.
func inspectFile(path string, size int64, asJSON bool, stdout io.Writer) error {
	f, err := safetensors.Open(path)
	if err != nil {
		return err
	}
	md, names := f.Metadata(), f.Names()
	infos := make([]safetensors.Info, len(names))
	for i, name := range names {
		infos[i], _ = f.Info(name)
	}
	f.Close()
	if md["format"] != "neti-concept" {
		return showSafetensors(path, size, md, names, infos, asJSON, stdout)
	}
	c, err := neti.LoadConcept(path)
	if err != nil {
		return err
	}
	r := conceptReport{
		File: path, Bytes: size, Method: md["method"], Placeholder: c.Placeholder, SuperCategory: c.SuperCategory,
		BaseModel: c.BaseModel, BaseIdentity: c.BaseIdentity, LayerNames: c.LayerNames, Alpha: c.Alpha, Truncation: c.Truncation, Mapper: c.Mapper,
		Parameters: c.Mapper.ParamCount(), FixedValues: 2 * c.Mapper.NumFourier, Training: c.Training,
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	m := c.Mapper
	row := func(k, format string, args ...any) {
		fmt.Fprintf(stdout, "%-15s "+format+"\n", append([]any{k}, args...)...)
	}
	row("concept", "%s (%.2f MB)", path, float64(size)/1e6)
	row("method", "%s (format version %s)", r.Method, md["format_version"])
	row("placeholder", "%s", c.Placeholder)
	row("super-category", "%q (target norm %.4g)", c.SuperCategory, m.TargetNorm)
	row("base model", "%s", c.BaseModel)
	if c.BaseIdentity != nil {
		row("text encoder", "digest %s, token-embedding probe %.4g…", c.BaseIdentity.TextEncoder, c.BaseIdentity.TokenProbe[:min(3, len(c.BaseIdentity.TokenProbe))])
	} else {
		row("text encoder", "(not recorded: an older concept file, checked on width and layers only)")
	}
	row("text width", "%d", m.TextWidth)
	row("layers", "%d %s", m.NumLayers, strings.Join(c.LayerNames, " "))
	row("timesteps", "%d (time anchors %d)", m.NumTimesteps, m.TimeAnchors)
	row("fourier", "%d frequencies, σ_t %g, σ_ℓ %g, seed %d", m.NumFourier, m.SigmaT, m.SigmaL, m.Seed)
	row("hidden", "%d", m.Hidden)
	row("bypass", "%v, α %g", m.Bypass, c.Alpha)
	row("normalize", "%s", m.Normalize)
	row("truncation", "%d of %d", c.Truncation, m.Hidden)
	row("parameters", "%d trainable + %d fixed (W)", r.Parameters, r.FixedValues)
	if len(c.Training) > 0 {
		row("training", "%s", c.Training)
	} else {
		row("training", "(not recorded)")
	}
	return nil
}

// showSafetensors lists a safetensors file's metadata and tensors.
func showSafetensors(path string, size int64, md map[string]string, names []string, infos []safetensors.Info,
	asJSON bool, stdout io.Writer) error {
	type tensor struct {
		Name  string `json:"name"`
		DType string `json:"dtype"`
		Shape []int  `json:"shape"`
	}
	report := struct {
		File     string            `json:"file"`
		Bytes    int64             `json:"bytes"`
		Metadata map[string]string `json:"metadata"`
		Tensors  []tensor          `json:"tensors"`
	}{File: path, Bytes: size, Metadata: md}
	for i, name := range names {
		report.Tensors = append(report.Tensors, tensor{name, strings.ToLower(infos[i].DType.String()), infos[i].Shape})
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(report)
	}
	fmt.Fprintf(stdout, "file      %s (%d bytes; not a neti concept file)\n", path, size)
	for _, k := range slices.Sorted(maps.Keys(md)) {
		fmt.Fprintf(stdout, "metadata  %s = %s\n", k, md[k])
	}
	for _, t := range report.Tensors {
		fmt.Fprintf(stdout, "tensor    %s %s %v\n", t.Name, t.DType, t.Shape)
	}
	return nil
}
