package weights

import (
	"fmt"
	"strings"

	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/org/neti/internal/safetensors"
)

// Save writes every variable under ctx's current scope to a safetensors file (atomically), named as Load
// reads them back: the variable weight in scope <ctx scope>/a/b is the tensor "a.b.weight". Every variable
// must have a value (call ctx.InitializeVariables first for fresh models), and no scope component may
// contain a "." (the name would not map back).
func Save(ctx *context.Context, path string, metadata map[string]string) error {
	var list []safetensors.Named
	seen := make(map[string]bool)
	for v := range ctx.IterVariablesInScope() {
		name := relativeName(ctx.Scope(), v.Scope(), v.Name())
		relScope := strings.TrimPrefix(v.Scope(), ctx.Scope())
		if strings.Contains(v.Name(), ".") || strings.Contains(relScope, ".") || seen[name] {
			return fmt.Errorf("weights: save %s: variable %q in scope %q has a '.' in its scope or name, so its "+
				"tensor name %q would not load back", path, v.Name(), v.Scope(), name)
		}
		seen[name] = true
		if !v.HasValue() {
			return fmt.Errorf("weights: save %s: variable %q in scope %q has no value; initialize the context "+
				"(ctx.InitializeVariables) first", path, v.Name(), v.Scope())
		}
		value, err := v.Value()
		if err != nil {
			return fmt.Errorf("weights: save %s: variable %q in scope %q: %w", path, v.Name(), v.Scope(), err)
		}
		list = append(list, safetensors.Named{Name: name, Tensor: value})
	}
	if err := safetensors.WriteList(path, list, metadata); err != nil {
		return fmt.Errorf("weights: %w", err)
	}
	return nil
}

// Tensors returns the values of the variables under ctx's current scope by dotted relative name (as Save
// writes them), without copying. Variables without a value are skipped.
func Tensors(ctx *context.Context) map[string]*tensors.Tensor {
	out := make(map[string]*tensors.Tensor)
	for v := range ctx.IterVariablesInScope() {
		if !v.HasValue() {
			continue
		}
		if value, err := v.Value(); err == nil {
			out[relativeName(ctx.Scope(), v.Scope(), v.Name())] = value
		}
	}
	return out
}
