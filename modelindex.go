package neti

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/org/neti/diffusion"
)

// modelIndex is a diffusers model_index.json: the pipeline class and, per component, [library, class].
type modelIndex struct {
	Class      string
	Components map[string][2]string
}

// supportedPipelines are the diffusers pipeline classes whose components neti can load.
var supportedPipelines = map[string]bool{
	"StableDiffusionPipeline":        true,
	"StableDiffusionImg2ImgPipeline": true,
}

// requiredComponents maps each component folder neti needs to the classes it can load there.
var requiredComponents = map[string][]string{
	"text_encoder": {"CLIPTextModel"},
	"tokenizer":    {"CLIPTokenizer", "CLIPTokenizerFast"},
	"unet":         {"UNet2DConditionModel"},
	"vae":          {"AutoencoderKL"},
	// Any scheduler class whose configuration describes a DDPM noise schedule can drive neti's samplers.
	"scheduler": diffusion.SupportedSchedulerClasses,
}

// readModelIndex reads and checks dir/model_index.json before anything heavy is loaded: the pipeline class
// must be a Stable Diffusion 1.x/2.x one and every component neti needs must be present with a known class.
func readModelIndex(dir string) (*modelIndex, error) {
	path := filepath.Join(dir, "model_index.json")
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("neti: %s is not a diffusers model folder: it has no model_index.json; "+
			"expected a folder saved by diffusers' save_pretrained (model_index.json, unet/, vae/, text_encoder/, tokenizer/, scheduler/)", dir)
	}
	if err != nil {
		return nil, fmt.Errorf("neti: reading %s: %w", path, err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("neti: %s is not valid JSON: %w", path, err)
	}
	idx := &modelIndex{Components: map[string][2]string{}}
	if c, ok := raw["_class_name"]; ok {
		_ = json.Unmarshal(c, &idx.Class)
	}
	for name, value := range raw {
		var pair []any
		if strings.HasPrefix(name, "_") || json.Unmarshal(value, &pair) != nil || len(pair) != 2 {
			continue
		}
		lib, _ := pair[0].(string)
		class, _ := pair[1].(string)
		idx.Components[name] = [2]string{lib, class}
	}
	if strings.Contains(idx.Class, "XL") || idx.Components["text_encoder_2"][1] != "" {
		return nil, fmt.Errorf("neti: %s holds %q, an SDXL pipeline: SDXL is not supported yet "+
			"(neti loads Stable Diffusion 1.x and 2.x: StableDiffusionPipeline)", path, idx.Class)
	}
	if !supportedPipelines[idx.Class] {
		return nil, fmt.Errorf("neti: %s holds pipeline class %q; expected StableDiffusionPipeline "+
			"(Stable Diffusion 1.x or 2.x in diffusers format)", path, idx.Class)
	}
	for _, component := range slices.Sorted(maps.Keys(requiredComponents)) {
		classes := requiredComponents[component]
		got, ok := idx.Components[component]
		if !ok || got[1] == "" {
			return nil, fmt.Errorf("neti: %s lists no %q component; a Stable Diffusion folder needs %s",
				path, component, strings.Join(slices.Sorted(maps.Keys(requiredComponents)), ", "))
		}
		known := false
		for _, c := range classes {
			known = known || c == got[1]
		}
		if !known {
			return nil, fmt.Errorf("neti: %s: component %q is a %s; neti can load %s there",
				path, component, got[1], strings.Join(classes, " or "))
		}
		if _, err := os.Stat(filepath.Join(dir, component)); err != nil {
			return nil, fmt.Errorf("neti: %s lists %q but the folder %s is missing; restore it from the model's source",
				path, component, filepath.Join(dir, component))
		}
	}
	return idx, nil
}
