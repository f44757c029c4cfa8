// Package weights finds diffusers model folders (local or in the Hugging Face cache), picks a component's
// safetensors file, and loads it into a GoMLX context whose scopes mirror the tensor names.
//
// Loading compares the file with the variables the model expects first and reports every missing,
// unexpected and mis-shaped tensor in one *Error, so that a wrong checkpoint fails with a full diagnosis.
//
// Typical use, for one component:
//
//	dir, err := weights.ResolveModel("org/tiny-sd")              // Local folder or HF cache snapshot.
//	path, err := weights.ComponentWeights(dir, "unet", "")        // unet/diffusion_pytorch_model.safetensors
//	f, err := safetensors.Open(path)
//	defer f.Close()
//	// Either build the model's graph once on ctx (variables get created with shapes, no values) and call
//	// Load(ctx.In("unet"), f, weights.Options{}), or pass Options.Expected = weights.Expect(other.In("unet"))
//	// from a context where the graph was built.
//	err = weights.Load(ctx.In("unet"), f, weights.Options{})
package weights

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// modelIndex is the file that marks the root of a diffusers pipeline folder.
const modelIndex = "model_index.json"

// hubIDPattern matches Hugging Face repository ids: "org/name" or a legacy bare "name".
var hubIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?$`)

// ResolveModel returns the diffusers pipeline folder for pathOrID, which is either a local folder holding
// model_index.json, or a Hugging Face id ("org/name") already in the local Hugging Face cache (see
// HubCacheDir): models--org--name/snapshots/<rev>/, with rev taken from refs/main when present, else the
// newest snapshot. Nothing is downloaded.
func ResolveModel(pathOrID string) (string, error) {
	st, err := os.Stat(pathOrID)
	switch {
	case err == nil && st.IsDir():
		return checked(pathOrID)
	case err == nil:
		return "", fmt.Errorf("weights: resolve %q: this is a file; expected a diffusers pipeline folder "+
			"holding %s (e.g. the root of a Stable Diffusion download)", pathOrID, modelIndex)
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("weights: resolve %q: %w", pathOrID, err)
	case !hubIDPattern.MatchString(pathOrID) || strings.Contains(pathOrID, ".."):
		return "", fmt.Errorf("weights: resolve %q: no such folder, and it is not a Hugging Face id of the "+
			"form org/name", pathOrID)
	}
	return resolveHubID(pathOrID)
}

// checked returns dir if it is a diffusers pipeline folder, else the error of checkDiffusersDir.
func checked(dir string) (string, error) {
	if err := checkDiffusersDir(dir); err != nil {
		return "", err
	}
	return dir, nil
}

// checkDiffusersDir checks dir holds model_index.json, describing what was found otherwise.
func checkDiffusersDir(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, modelIndex)); err == nil {
		return nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("weights: %s: %w", dir, err)
	}
	var names []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() {
			name += "/"
		}
		names = append(names, name)
	}
	found := "it is empty"
	if len(names) > 0 {
		found = "it holds " + strings.Join(capList(names, 12), ", ")
	}
	hint := ""
	if slices.Contains(names, "config.json") {
		hint = "; this looks like a single component folder (config.json): pass the pipeline root, its parent"
	} else if slices.ContainsFunc(names, func(n string) bool {
		return strings.HasSuffix(n, ".ckpt") || strings.HasSuffix(n, ".safetensors")
	}) {
		hint = "; single-file checkpoints are not supported: convert them to the diffusers layout with " +
			"diffusers' from_single_file(...).save_pretrained(dir)"
	}
	return fmt.Errorf("weights: %s is not a diffusers pipeline folder: %s is missing (%s); expected "+
		"%s with component folders such as text_encoder/, unet/, vae/, tokenizer/%s",
		dir, modelIndex, found, modelIndex, hint)
}

// HubCacheDir returns the Hugging Face hub cache folder, as huggingface_hub computes it: $HF_HUB_CACHE,
// else $HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else
// ~/.cache/huggingface/hub.
func HubCacheDir() string {
	for _, env := range []string{"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"} {
		if dir := os.Getenv(env); dir != "" {
			return dir
		}
	}
	if home := os.Getenv("HF_HOME"); home != "" {
		return filepath.Join(home, "hub")
	}
	if xdg := os.Getenv("XDG_CACHE_HOME"); xdg != "" {
		return filepath.Join(xdg, "huggingface", "hub")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		home = "~"
	}
	return filepath.Join(home, ".cache", "huggingface", "hub")
}

// resolveHubID finds the snapshot folder of a model id in the hub cache.
func resolveHubID(id string) (string, error) {
	cache := HubCacheDir()
	repo := filepath.Join(cache, "models--"+strings.ReplaceAll(id, "/", "--"))
	notFound := func(why string) error {
		return fmt.Errorf("weights: resolve %q: not a local folder, and not in the Hugging Face cache: %s "+
			"(cache %s, from $HF_HUB_CACHE / $HF_HOME / ~/.cache/huggingface/hub); neti cannot download: "+
			"fetch it first, e.g. `huggingface-cli download %s`, or pass a local folder", id, why, cache, id)
	}
	snapshots := filepath.Join(repo, "snapshots")
	if _, err := os.Stat(snapshots); err != nil {
		return "", notFound(fmt.Sprintf("%s does not exist", snapshots))
	}
	if ref, err := os.ReadFile(filepath.Join(repo, "refs", "main")); err == nil {
		rev := strings.TrimSpace(string(ref))
		dir := filepath.Join(snapshots, rev)
		if _, err := os.Stat(dir); err != nil {
			return "", notFound(fmt.Sprintf("refs/main names revision %s but %s does not exist", rev, dir))
		}
		return checked(dir)
	}
	entries, err := os.ReadDir(snapshots)
	if err != nil {
		return "", notFound(err.Error())
	}
	var newest string
	var newestTime int64
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		if t := info.ModTime().UnixNano(); newest == "" || t > newestTime {
			newest, newestTime = e.Name(), t
		}
	}
	if newest == "" {
		return "", notFound(fmt.Sprintf("%s holds no snapshot", snapshots))
	}
	dir := filepath.Join(snapshots, newest)
	return checked(dir)
}

// capList returns at most n items, the last one replaced by "... and K more" when items are dropped.
func capList(items []string, n int) []string {
	if len(items) <= n {
		return items
	}
	return append(slices.Clone(items[:n]), fmt.Sprintf("... and %d more", len(items)-n))
}
