package neti

import (
	"fmt"
	"path/filepath"

	"github.com/gomlx/gomlx/pkg/core/dtypes"

	"github.com/org/neti/clip"
	"github.com/org/neti/diffusion"
	"github.com/org/neti/diffusion/vae"
	"github.com/org/neti/internal/backend"
	"github.com/org/neti/internal/weights"
	"github.com/org/neti/unet"
)

// ModelInfo describes a diffusers Stable Diffusion folder: its pipeline class and its networks.
type ModelInfo struct {
	// Dir is the resolved model folder.
	Dir string
	// Pipeline is the diffusers pipeline class of model_index.json.
	Pipeline string
	// Components are the networks, in the order text_encoder, unet, vae.
	Components []ComponentInfo
	// Scheduler is the noise schedule configuration.
	Scheduler diffusion.SchedulerConfig
}

// ComponentInfo describes one network of a model.
type ComponentInfo struct {
	// Name is the component's folder: "text_encoder", "unet" or "vae".
	Name string
	// Class is the class named in model_index.json, e.g. "UNet2DConditionModel".
	Class string
	// Parameters is the number of weights the network has (as diffusers/transformers count them).
	Parameters int64
	// Weights is the safetensors file that would be loaded, or "" when there is none (a
	// configuration-only folder can still be inspected); WeightsProblem then says why none would load
	// (missing, only pickled .bin files, ...), as LoadPipeline would report it.
	Weights        string
	WeightsProblem string
	// Config is the parsed configuration: *clip.Config, *unet.Config or vae.Config.
	Config any
}

// Inspect reads a model folder's configurations and counts each network's parameters by building its graph
// (not running it), so it works on configuration-only folders and costs no weight loading.
func Inspect(pathOrID string) (info *ModelInfo, err error) {
	defer recoverError("inspect", &err)
	dir, err := weights.ResolveModel(pathOrID)
	if err != nil {
		return nil, err
	}
	idx, err := readModelIndex(dir)
	if err != nil {
		return nil, err
	}
	text, err := clip.LoadConfig(filepath.Join(dir, "text_encoder", "config.json"))
	if err != nil {
		return nil, err
	}
	u, err := unet.LoadConfig(filepath.Join(dir, "unet", "config.json"))
	if err != nil {
		return nil, err
	}
	v, err := vae.LoadConfig(filepath.Join(dir, "vae", "config.json"))
	if err != nil {
		return nil, err
	}
	info = &ModelInfo{Dir: dir, Pipeline: idx.Class}
	if info.Scheduler, err = diffusion.LoadSchedulerConfig(filepath.Join(dir, "scheduler", "scheduler_config.json")); err != nil {
		return nil, err
	}
	b, err := backend.New("go")
	if err != nil {
		return nil, err
	}
	defer b.Finalize()
	configs := map[string]any{"text_encoder": text, "unet": u, "vae": v}
	for _, c := range components(text, u, v) {
		var count int64
		for _, variable := range expectedVariables(b, c, dtypes.Float32) {
			count += int64(variable.Shape.Size())
		}
		ci := ComponentInfo{Name: c.name, Class: idx.Components[c.name][1], Parameters: count, Config: configs[c.name]}
		if file, err := weights.ComponentWeights(dir, c.name, ""); err != nil {
			ci.WeightsProblem = err.Error()
		} else {
			ci.Weights = file
		}
		info.Components = append(info.Components, ci)
	}
	return info, nil
}

// String formats the parameter count as diffusers users quote it ("859.52 M").
func (c ComponentInfo) String() string {
	return fmt.Sprintf("%-13s %-22s %10.2f M parameters", c.Name, c.Class, float64(c.Parameters)/1e6)
}
