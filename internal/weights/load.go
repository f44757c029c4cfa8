package weights

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/org/neti/internal/safetensors"
)

// Var is a variable a model expects: its tensor name, dotted and relative to the component's scope (e.g.
// "down_blocks.0.resnets.1.conv1.weight"), and its shape (the dtype is used only as the default load dtype).
type Var struct {
	Name  string
	Shape shapes.Shape
}

// Options configure Load. The zero value loads float tensors as float32 and checks against the variables
// already in the context.
type Options struct {
	// DType is the dtype floating-point tensors are converted to. InvalidDType (zero) means: the dtype of
	// the expected variable when known, else float32. Integer tensors keep their dtype.
	DType dtypes.DType

	// Expected lists the variables the model expects, typically Expect(ctx) on a fresh context where the
	// model's graph was built once without executing. Nil or empty: the variables already under ctx's scope
	// are used; if there are none, every tensor of the file is loaded without checks.
	Expected []Var

	// Rename maps a file tensor name to the model's name, for the rare non-1:1 case (e.g. vae.LegacyName);
	// returning false drops the tensor. Nil keeps names as they are.
	Rename func(name string) (string, bool)

	// Reshape, if set, may give a file tensor (by its model name) other dimensions with the same number of
	// elements, for layouts that differ only by unit axes (e.g. old VAE attention stored as 1x1 convolutions
	// [C, C, 1, 1] where the model has Linear [C, C]: vae.LegacyDims). It returns false to keep the shape.
	Reshape func(name string, dims []int) ([]int, bool)

	// Ignore lists names skipped on both sides: a file tensor with such a name (before or after Rename) is
	// not loaded, and an expected variable with such a name may be absent from the file. An entry ending
	// in "." is a prefix ("neti_mapper." ignores everything under it).
	Ignore []string

	// Frozen marks every loaded variable as not trainable.
	Frozen bool
}

// ignored reports whether name matches an Ignore entry.
func (o *Options) ignored(name string) bool {
	for _, ig := range o.Ignore {
		if name == ig || (strings.HasSuffix(ig, ".") && strings.HasPrefix(name, ig)) {
			return true
		}
	}
	return false
}

// Expect lists the variables under ctx's current scope, named relative to it ("a.b.c.weight" for the
// variable weight in scope <ctx scope>/a/b/c), in creation order.
func Expect(ctx *context.Context) []Var {
	var vars []Var
	for v := range ctx.IterVariablesInScope() {
		vars = append(vars, Var{Name: relativeName(ctx.Scope(), v.Scope(), v.Name()), Shape: v.Shape()})
	}
	return vars
}

// relativeName joins the scope path below base and the variable name with dots.
func relativeName(base, scope, name string) string {
	rel := strings.TrimPrefix(scope, base)
	rel = strings.Trim(rel, context.ScopeSeparator)
	if rel == "" {
		return name
	}
	return strings.ReplaceAll(rel, context.ScopeSeparator, ".") + "." + name
}

// fileTensor is a file tensor selected for loading, under its model name.
type fileTensor struct {
	fileName string
	info     safetensors.Info
}

// Load reads the tensors of f into ctx: the tensor "a.b.c.weight" becomes the variable "weight" in scope
// ctx.In("a").In("b").In("c"), relative to ctx's current scope, replacing the value of an existing
// variable or creating it.
//
// Before reading anything it compares the file (after Ignore and Rename) with the expected variables and
// returns a single *Error listing every missing, unexpected and mis-shaped tensor; nothing is loaded then.
func Load(ctx *context.Context, f *safetensors.File, opts Options) error {
	expected := opts.Expected
	if len(expected) == 0 {
		expected = Expect(ctx)
	}
	selected, err := selectTensors(f, &opts)
	if err != nil {
		return err
	}
	expectedByName := make(map[string]Var, len(expected))
	for _, v := range expected {
		expectedByName[v.Name] = v
	}
	if len(expected) > 0 {
		if err := compare(f.Path(), ctx.Scope(), selected, expected, &opts); err != nil {
			return err
		}
	}
	names := make([]string, 0, len(selected))
	for name := range selected {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		ft := selected[name]
		dtype := opts.DType
		if !ft.info.DType.IsFloat() {
			dtype = dtypes.InvalidDType // Integer and bool tensors keep their dtype.
		} else if want, ok := expectedByName[name]; ok && dtype == dtypes.InvalidDType && want.Shape.DType.IsFloat() {
			dtype = want.Shape.DType // The model's own float dtype.
		}
		value, err := f.Tensor(ft.fileName, dtype)
		if err == nil {
			value, err = withDims(value, ft.info.Shape)
		}
		if err != nil {
			return fmt.Errorf("weights: load %s: %w", f.Path(), err)
		}
		if err := setVariable(ctx, name, value, opts.Frozen); err != nil {
			return fmt.Errorf("weights: load %s: tensor %q: %w", f.Path(), ft.fileName, err)
		}
	}
	return nil
}

// selectTensors applies Ignore and Rename to the file's names and returns the tensors to load by model
// name. Two file tensors renamed to the same name is an error.
func selectTensors(f *safetensors.File, opts *Options) (map[string]fileTensor, error) {
	selected := make(map[string]fileTensor)
	var problems []string
	for _, fileName := range f.Names() {
		if opts.ignored(fileName) {
			continue
		}
		name := fileName
		if opts.Rename != nil {
			var keep bool
			if name, keep = opts.Rename(fileName); !keep || opts.ignored(name) {
				continue
			}
		}
		if !validName(name) {
			problems = append(problems, fmt.Sprintf("%q cannot be a variable path (empty component or %q)",
				name, context.ScopeSeparator))
			continue
		}
		if prev, dup := selected[name]; dup {
			problems = append(problems, fmt.Sprintf("%q and %q both map to %q", prev.fileName, fileName, name))
			continue
		}
		info, _ := f.Info(fileName)
		ft := fileTensor{fileName: fileName, info: info}
		if opts.Reshape != nil {
			if dims, ok := opts.Reshape(name, info.Shape); ok && product(dims) == product(info.Shape) {
				ft.info.Shape = dims // loaded with these dimensions; the bytes are the same, row-major
			}
		}
		selected[name] = ft
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("weights: load %s: unusable tensor names (fix with Options.Rename or Ignore): %s",
			f.Path(), strings.Join(capList(problems, 20), "; "))
	}
	return selected, nil
}

// compare checks the selected file tensors against the expected variables.
func compare(path, scope string, selected map[string]fileTensor, expected []Var, opts *Options) error {
	e := &Error{File: path, Scope: scope}
	seen := make(map[string]bool, len(expected))
	for _, want := range expected {
		seen[want.Name] = true
		ft, ok := selected[want.Name]
		switch {
		case !ok && !opts.ignored(want.Name):
			e.Missing = append(e.Missing, want.Name)
		case !ok:
		case !slices.Equal(ft.info.Shape, want.Shape.Dimensions):
			e.Mismatched = append(e.Mismatched, fmt.Sprintf("%s: file %s %v vs model %v", want.Name,
				safetensors.DTypeName(ft.info.DType), ft.info.Shape, want.Shape.Dimensions))
		case want.Shape.DType.IsFloat() != ft.info.DType.IsFloat():
			e.Mismatched = append(e.Mismatched, fmt.Sprintf("%s: file dtype %s vs model dtype %s", want.Name,
				safetensors.DTypeName(ft.info.DType), want.Shape.DType))
		}
	}
	for name, ft := range selected {
		if !seen[name] {
			entry := name
			if ft.fileName != name {
				entry = fmt.Sprintf("%s (file name %s)", name, ft.fileName)
			}
			e.Unexpected = append(e.Unexpected, entry)
		}
	}
	if len(e.Missing)+len(e.Unexpected)+len(e.Mismatched) == 0 {
		return nil
	}
	slices.Sort(e.Missing)
	slices.Sort(e.Unexpected)
	slices.Sort(e.Mismatched)
	return e
}

// product is the number of elements of a tensor of the given dimensions.
func product(dims []int) int {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return n
}

// withDims returns value with other dimensions of the same size (a copy of its bytes), or value itself when
// the dimensions already match.
func withDims(value *tensors.Tensor, dims []int) (*tensors.Tensor, error) {
	if slices.Equal(value.Shape().Dimensions, dims) {
		return value, nil
	}
	out := tensors.FromShape(shapes.Make(value.DType(), dims...))
	var err error
	accessErr := value.ConstBytes(func(src []byte) {
		err = out.MutableBytes(func(dst []byte) { copy(dst, src) })
	})
	return out, errors.Join(accessErr, err)
}

// setVariable stores value in the variable named by the dotted name, relative to ctx's scope.
func setVariable(ctx *context.Context, dotted string, value *tensors.Tensor, frozen bool) (err error) {
	defer func() {
		if r := recover(); r != nil { // GoMLX context calls panic on invalid scopes.
			err = fmt.Errorf("%v", r)
		}
	}()
	parts := strings.Split(dotted, ".")
	scoped := ctx
	for _, p := range parts[:len(parts)-1] {
		scoped = scoped.In(p)
	}
	name := parts[len(parts)-1]
	v := scoped.GetVariable(name)
	if v == nil {
		v = scoped.Checked(false).VariableWithValue(name, value)
	} else if err := v.SetValue(value); err != nil {
		return err
	}
	if frozen {
		v.SetTrainable(false)
	}
	return nil
}

// validName reports whether a dotted name maps to a scope path: no empty component, no scope separator.
func validName(dotted string) bool {
	for _, p := range strings.Split(dotted, ".") {
		if p == "" || strings.Contains(p, context.ScopeSeparator) {
			return false
		}
	}
	return true
}
