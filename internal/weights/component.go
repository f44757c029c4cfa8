package weights

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// weightBases are the file name stems diffusers (diffusion_pytorch_model) and transformers (model) use.
var weightBases = []string{"diffusion_pytorch_model", "model"}

// ComponentWeights returns the safetensors file of a pipeline component (e.g. "unet", "text_encoder",
// "vae") in the diffusers folder dir: <component>/diffusion_pytorch_model.safetensors or
// <component>/model.safetensors.
//
// variant "" picks the plain file, or the ".fp16." file when it is the only one; variant "fp16" (or any
// other variant name) prefers <stem>.<variant>.safetensors and falls back to the plain file (loading
// converts dtypes anyway). Folders with only PyTorch pickles (.bin) are refused: neti never reads pickles.
func ComponentWeights(dir, component, variant string) (string, error) {
	compDir := filepath.Join(dir, component)
	entries, err := os.ReadDir(compDir)
	if err != nil {
		return "", fmt.Errorf("weights: component %q: cannot read %s (%v); the pipeline has: %s",
			component, compDir, err, componentsOf(dir))
	}
	present := make(map[string]bool, len(entries))
	var names []string
	for _, e := range entries {
		present[e.Name()] = true
		names = append(names, e.Name())
	}
	var order []string
	for _, base := range weightBases {
		switch variant {
		case "":
			order = append(order, base+".safetensors", base+".fp16.safetensors")
		default:
			order = append(order, base+"."+variant+".safetensors", base+".safetensors")
		}
	}
	for _, name := range order {
		if present[name] {
			return filepath.Join(compDir, name), nil
		}
	}
	return "", missingWeightsError(compDir, component, variant, names)
}

// missingWeightsError explains why no usable safetensors file was found in compDir.
func missingWeightsError(compDir, component, variant string, names []string) error {
	hasSuffix := func(suffix string) func(string) bool {
		return func(n string) bool { return strings.HasSuffix(n, suffix) }
	}
	found := "it is empty"
	if len(names) > 0 {
		found = "it holds " + strings.Join(capList(names, 12), ", ")
	}
	switch {
	case slices.ContainsFunc(names, hasSuffix(".safetensors.index.json")):
		return fmt.Errorf("weights: component %q: %s holds a sharded checkpoint (*.safetensors.index.json), "+
			"which is not supported; re-save it unsharded (save_pretrained(..., max_shard_size=\"100GB\"))",
			component, compDir)
	case slices.ContainsFunc(names, hasSuffix(".bin")) || slices.ContainsFunc(names, hasSuffix(".ckpt")) ||
		slices.ContainsFunc(names, hasSuffix(".pt")):
		return fmt.Errorf("weights: component %q: %s has only PyTorch pickle weights (%s); neti never reads "+
			"pickles (loading them can run arbitrary code). Convert the pipeline once with Python: "+
			"DiffusionPipeline.from_pretrained(src).save_pretrained(dst, safe_serialization=True)",
			component, compDir, strings.Join(capList(names, 12), ", "))
	}
	want := "diffusion_pytorch_model.safetensors or model.safetensors"
	if variant != "" {
		want = fmt.Sprintf("diffusion_pytorch_model[.%s].safetensors or model[.%s].safetensors", variant, variant)
	}
	return fmt.Errorf("weights: component %q: no weights in %s (%s); expected %s", component, compDir, found, want)
}

// componentsOf lists the sub-folders of a pipeline folder, for error messages.
func componentsOf(dir string) string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name()+"/")
		}
	}
	if len(names) == 0 {
		return "no component folders"
	}
	return strings.Join(capList(names, 12), ", ")
}
