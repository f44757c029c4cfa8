package weights

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/org/neti/internal/safetensors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tinyModel declares, in a fresh context, the variables a tiny UNet-like model would create under "unet"
// (shapes only, no values), and returns the root context.
func tinyModel() *context.Context {
	ctx := context.New()
	u := ctx.In("unet")
	f32 := func(dims ...int) shapes.Shape { return shapes.Make(dtypes.Float32, dims...) }
	u.In("conv_in").VariableWithShape("weight", f32(4, 3, 3, 3))
	u.In("conv_in").VariableWithShape("bias", f32(4))
	attn := u.In("down_blocks").In("0").In("attentions").In("0")
	attn.In("to_q").VariableWithShape("weight", f32(4, 4))
	attn.In("to_out").In("0").VariableWithShape("weight", f32(4, 4))
	attn.In("to_out").In("0").VariableWithShape("bias", f32(4))
	return ctx
}

// ramp returns a float32 tensor whose element i is start + i/10.
func ramp(start float32, dims ...int) *tensors.Tensor {
	t := tensors.FromShape(shapes.Make(dtypes.Float32, dims...))
	tensors.MustMutableFlatData(t, func(flat []float32) {
		for i := range flat {
			flat[i] = start + float32(i)/10
		}
	})
	return t
}

// tinyWeights returns tensors matching tinyModel, keyed by diffusers names.
func tinyWeights() map[string]*tensors.Tensor {
	return map[string]*tensors.Tensor{
		"conv_in.weight":                             ramp(0, 4, 3, 3, 3),
		"conv_in.bias":                               ramp(1, 4),
		"down_blocks.0.attentions.0.to_q.weight":     ramp(2, 4, 4),
		"down_blocks.0.attentions.0.to_out.0.weight": ramp(3, 4, 4),
		"down_blocks.0.attentions.0.to_out.0.bias":   ramp(4, 4),
	}
}

// writeFile writes ts to a temporary safetensors file and opens it.
func writeFile(t *testing.T, ts map[string]*tensors.Tensor) *safetensors.File {
	t.Helper()
	path := filepath.Join(t.TempDir(), "w.safetensors")
	require.NoError(t, safetensors.Write(path, ts, nil))
	f, err := safetensors.Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.Close() })
	return f
}

// value returns the value of the variable at an absolute scope, failing the test if absent.
func value(t *testing.T, ctx *context.Context, scope, name string) *tensors.Tensor {
	t.Helper()
	v := ctx.GetVariableByScopeAndName(scope, name)
	require.NotNil(t, v, "variable %s/%s", scope, name)
	require.True(t, v.HasValue(), "variable %s/%s has no value", scope, name)
	val, err := v.Value()
	require.NoError(t, err)
	return val
}

func TestExpectNamesRelativeToScope(t *testing.T) {
	ctx := tinyModel()
	vars := Expect(ctx.In("unet"))
	var names []string
	for _, v := range vars {
		names = append(names, v.Name)
	}
	assert.Equal(t, []string{"conv_in.weight", "conv_in.bias", "down_blocks.0.attentions.0.to_q.weight",
		"down_blocks.0.attentions.0.to_out.0.weight", "down_blocks.0.attentions.0.to_out.0.bias"}, names)
	assert.Equal(t, []int{4, 3, 3, 3}, vars[0].Shape.Dimensions)

	rooted := Expect(ctx)
	require.Len(t, rooted, 5)
	assert.Equal(t, "unet.conv_in.weight", rooted[0].Name)
	assert.Empty(t, Expect(ctx.In("vae")))
}

func TestLoadIntoModelVariables(t *testing.T) {
	ctx := tinyModel()
	want := tinyWeights()
	f := writeFile(t, want)
	require.NoError(t, Load(ctx.In("unet"), f, Options{}))
	for name, w := range want {
		scope := "/unet/" + strings.ReplaceAll(name[:strings.LastIndex(name, ".")], ".", "/")
		got := value(t, ctx, scope, name[strings.LastIndex(name, ".")+1:])
		assert.True(t, w.Equal(got), "%s: want %s, got %s", name, w, got)
	}
	assert.Equal(t, 5, ctx.NumVariables(), "no variable may be added")
}

func TestLoadIntoFreshContextWithExpected(t *testing.T) {
	expected := Expect(tinyModel().In("unet"))
	ctx := context.New()
	f := writeFile(t, tinyWeights())
	require.NoError(t, Load(ctx.In("unet"), f, Options{Expected: expected, Frozen: true}))
	got := value(t, ctx, "/unet/down_blocks/0/attentions/0/to_out/0", "bias")
	assert.True(t, tinyWeights()["down_blocks.0.attentions.0.to_out.0.bias"].Equal(got))
	v := ctx.GetVariableByScopeAndName("/unet/conv_in", "weight")
	require.NotNil(t, v)
	assert.False(t, v.Trainable, "Frozen must mark loaded variables non-trainable")
	assert.Equal(t, 5, ctx.NumVariables())
}

func TestSaveLoadRoundTrip(t *testing.T) {
	src := context.New()
	for name, value := range tinyWeights() {
		parts := strings.Split(name, ".")
		c := src.In("unet")
		for _, p := range parts[:len(parts)-1] {
			c = c.In(p)
		}
		c.VariableWithValue(parts[len(parts)-1], value)
	}
	path := filepath.Join(t.TempDir(), "saved.safetensors")
	require.NoError(t, Save(src.In("unet"), path, map[string]string{"format": "pt"}))

	f, err := safetensors.Open(path)
	require.NoError(t, err)
	defer f.Close()
	assert.Equal(t, map[string]string{"format": "pt"}, f.Metadata())
	assert.ElementsMatch(t, []string{"conv_in.weight", "conv_in.bias", "down_blocks.0.attentions.0.to_q.weight",
		"down_blocks.0.attentions.0.to_out.0.weight", "down_blocks.0.attentions.0.to_out.0.bias"}, f.Names())

	dst := tinyModel()
	require.NoError(t, Load(dst.In("unet"), f, Options{}))
	srcValues, dstValues := Tensors(src.In("unet")), Tensors(dst.In("unet"))
	require.Len(t, dstValues, 5)
	for name, w := range srcValues {
		assert.True(t, w.Equal(dstValues[name]), "%s: want %s, got %s", name, w, dstValues[name])
	}
}

func TestSaveErrors(t *testing.T) {
	ctx := tinyModel()
	err := Save(ctx.In("unet"), filepath.Join(t.TempDir(), "x.safetensors"), nil)
	assert.ErrorContains(t, err, "has no value")
	assert.ErrorContains(t, err, "InitializeVariables")

	dotted := context.New()
	dotted.In("a.b").VariableWithValue("weight", ramp(0, 2))
	err = Save(dotted, filepath.Join(t.TempDir(), "y.safetensors"), nil)
	assert.ErrorContains(t, err, "has a '.' in its scope or name")
}

func TestLoadReportsEveryProblem(t *testing.T) {
	ctx := tinyModel()
	ts := tinyWeights()
	delete(ts, "conv_in.bias")                                         // Missing.
	ts["conv_out.weight"] = ramp(0, 2)                                 // Unexpected.
	ts["down_blocks.0.attentions.0.to_q.weight"] = ramp(0, 4, 4, 1, 1) // Mismatched.
	ts["down_blocks.0.attentions.0.to_out.0.bias"] = tensors.FromValue([]int64{1, 2, 3, 4})
	f := writeFile(t, ts)

	err := Load(ctx.In("unet"), f, Options{})
	var werr *Error
	require.True(t, errors.As(err, &werr), "want *weights.Error, got %T: %v", err, err)
	assert.Equal(t, f.Path(), werr.File)
	assert.Equal(t, "/unet", werr.Scope)
	assert.Equal(t, []string{"conv_in.bias"}, werr.Missing)
	assert.Equal(t, []string{"conv_out.weight"}, werr.Unexpected)
	assert.Equal(t, []string{
		"down_blocks.0.attentions.0.to_out.0.bias: file dtype I64 vs model dtype Float32",
		"down_blocks.0.attentions.0.to_q.weight: file F32 [4 4 1 1] vs model [4 4]",
	}, werr.Mismatched)
	msg := err.Error()
	assert.Contains(t, msg, "1 missing, 1 unexpected, 2 mismatched")
	assert.Contains(t, msg, "missing from the file (1):\n    conv_in.bias")
	assert.Contains(t, msg, "in the file but not in the model (1):\n    conv_out.weight")
	assert.Contains(t, msg, "hint:")

	v := ctx.GetVariableByScopeAndName("/unet/conv_in", "weight")
	assert.False(t, v.HasValue(), "nothing may be loaded when the check fails")
}

func TestErrorListsAreCapped(t *testing.T) {
	ctx := context.New()
	for i := range 30 {
		ctx.In(fmt.Sprintf("layer%02d", i)).VariableWithShape("weight", shapes.Make(dtypes.Float32, 2))
	}
	f := writeFile(t, map[string]*tensors.Tensor{"other.weight": ramp(0, 2)})
	err := Load(ctx, f, Options{})
	var werr *Error
	require.True(t, errors.As(err, &werr))
	assert.Len(t, werr.Missing, 30)
	msg := werr.Error()
	assert.Contains(t, msg, "layer19.weight\n    ... and 10 more")
	assert.NotContains(t, msg, "layer20.weight")
}

func TestLoadRenameAndIgnore(t *testing.T) {
	ctx := context.New()
	vae := ctx.In("vae")
	attn := vae.In("mid_block").In("attentions").In("0")
	for _, proj := range []string{"to_q", "to_k", "to_v"} {
		attn.In(proj).VariableWithShape("weight", shapes.Make(dtypes.Float32, 2, 2))
	}
	attn.In("to_out").In("0").VariableWithShape("weight", shapes.Make(dtypes.Float32, 2, 2))
	attn.In("group_norm").VariableWithShape("weight", shapes.Make(dtypes.Float32, 2))
	vae.In("neti_mapper").In("fc").VariableWithShape("weight", shapes.Make(dtypes.Float32, 3)) // Not in the file.

	f := writeFile(t, map[string]*tensors.Tensor{
		"mid_block.attentions.0.query.weight":      ramp(1, 2, 2),
		"mid_block.attentions.0.key.weight":        ramp(2, 2, 2),
		"mid_block.attentions.0.value.weight":      ramp(3, 2, 2),
		"mid_block.attentions.0.proj_attn.weight":  ramp(4, 2, 2),
		"mid_block.attentions.0.group_norm.weight": ramp(5, 2),
		"text_model.embeddings.position_ids":       tensors.FromValue([][]int64{{0, 1, 2}}),
	})
	err := Load(vae, f, Options{})
	var werr *Error
	require.True(t, errors.As(err, &werr))
	assert.Len(t, werr.Unexpected, 5, "without Rename/Ignore: %v", err)

	legacy := map[string]string{"query": "to_q", "key": "to_k", "value": "to_v", "proj_attn": "to_out.0"}
	rename := func(name string) (string, bool) {
		for old, renamed := range legacy {
			name = strings.Replace(name, "."+old+".", "."+renamed+".", 1)
		}
		return name, true
	}
	err = Load(vae, f, Options{Rename: rename,
		Ignore: []string{"text_model.embeddings.position_ids", "neti_mapper."}})
	require.NoError(t, err)
	for proj, start := range map[string]float32{"to_q": 1, "to_k": 2, "to_v": 3, "to_out/0": 4} {
		got := value(t, ctx, "/vae/mid_block/attentions/0/"+proj, "weight")
		assert.True(t, ramp(start, 2, 2).Equal(got), "%s: got %s", proj, got)
	}
	assert.Nil(t, ctx.GetVariableByScopeAndName("/vae/text_model/embeddings", "position_ids"))
	assert.False(t, ctx.GetVariableByScopeAndName("/vae/neti_mapper/fc", "weight").HasValue())
}

// TestLoadReshape: a tensor stored with unit axes (a 1x1 convolution [2, 2, 1, 1]) loads into a Linear [2, 2]
// through Options.Reshape, with the same values; without the hook it is a shape mismatch.
func TestLoadReshape(t *testing.T) {
	ctx := context.New()
	ctx.In("to_q").VariableWithShape("weight", shapes.Make(dtypes.Float32, 2, 2))
	f := writeFile(t, map[string]*tensors.Tensor{"to_q.weight": ramp(1, 2, 2, 1, 1)})
	err := Load(ctx, f, Options{})
	var werr *Error
	require.True(t, errors.As(err, &werr))
	assert.Len(t, werr.Mismatched, 1)

	squeeze := func(name string, dims []int) ([]int, bool) {
		if len(dims) == 4 && dims[2] == 1 && dims[3] == 1 {
			return dims[:2], true
		}
		return dims, false
	}
	require.NoError(t, Load(ctx, f, Options{Reshape: squeeze}))
	assert.True(t, ramp(1, 2, 2).Equal(value(t, ctx, "/to_q", "weight")))
}

func TestRenameCollisionAndBadNames(t *testing.T) {
	f := writeFile(t, map[string]*tensors.Tensor{"a.weight": ramp(0, 2), "b.weight": ramp(0, 2)})
	err := Load(context.New(), f, Options{Rename: func(string) (string, bool) { return "same.weight", true }})
	assert.ErrorContains(t, err, `"a.weight" and "b.weight" both map to "same.weight"`)

	f = writeFile(t, map[string]*tensors.Tensor{"a..weight": ramp(0, 2), "ok": ramp(0, 2)})
	ctx := context.New()
	err = Load(ctx, f, Options{})
	assert.ErrorContains(t, err, `"a..weight" cannot be a variable path`)
	assert.Zero(t, ctx.NumVariables(), "nothing may be loaded")

	err = Load(ctx, f, Options{Ignore: []string{"a..weight"}})
	require.NoError(t, err)
	assert.Equal(t, 1, ctx.NumVariables())
}

func TestLoadDTypes(t *testing.T) {
	half := tensors.FromShape(shapes.Make(dtypes.Float16, 2))
	f := writeFile(t, map[string]*tensors.Tensor{"h.weight": half, "f.weight": ramp(0.5, 2),
		"ids": tensors.FromValue([]int32{7, 8})})

	ctx := context.New()
	require.NoError(t, Load(ctx, f, Options{}))
	assert.Equal(t, dtypes.Float32, value(t, ctx, "/h", "weight").DType(), "F16 defaults to float32")
	assert.Equal(t, dtypes.Int32, value(t, ctx, "/", "ids").DType(), "integers keep their dtype")

	ctx = context.New()
	require.NoError(t, Load(ctx, f, Options{DType: dtypes.BFloat16}))
	assert.Equal(t, dtypes.BFloat16, value(t, ctx, "/f", "weight").DType())
	assert.Equal(t, dtypes.BFloat16, value(t, ctx, "/h", "weight").DType())

	// Without Options.DType, the expected variable's dtype wins.
	ctx = context.New()
	ctx.In("f").VariableWithShape("weight", shapes.Make(dtypes.Float16, 2))
	ctx.In("h").VariableWithShape("weight", shapes.Make(dtypes.Float32, 2))
	ctx.VariableWithShape("ids", shapes.Make(dtypes.Int32, 2))
	require.NoError(t, Load(ctx, f, Options{}))
	assert.Equal(t, dtypes.Float16, value(t, ctx, "/f", "weight").DType())
	assert.Equal(t, dtypes.Float32, value(t, ctx, "/h", "weight").DType())
	assert.Equal(t, []int32{7, 8}, tensors.MustCopyFlatData[int32](value(t, ctx, "/", "ids")))
}
