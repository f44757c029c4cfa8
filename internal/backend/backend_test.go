package backend

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gomlx/go-xla/pkg/pjrt"

	"github.com/gomlx/gomlx/backends"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNewGoIsAdaptedSimpleGo checks New("go"), and New("") with $GOMLX_BACKEND=go, give SimpleGo through
// the adapter, which advertises the supplied ops.
func TestNewGoIsAdaptedSimpleGo(t *testing.T) {
	for _, env := range []string{CPUName, "xla:cuda"} {
		t.Setenv(EnvVar, env)
		config := ""
		if env != CPUName {
			config = CPUName // the argument wins over $GOMLX_BACKEND
		}
		b, err := New(config)
		require.NoError(t, err, "New(%q) with $%s=%q", config, EnvVar, env)
		_, isAdapter := b.(*adapter)
		assert.True(t, isAdapter, "New(\"\") with $%s=%q returned %T, expected the adapter", EnvVar, env, b)
		assert.Equal(t, CPUName, b.String(), "New(\"\") with $%s=%q", EnvVar, env)
		desc := Describe(b)
		t.Logf("Describe: %s", desc)
		assert.Contains(t, desc, "SimpleGo", "Describe with $%s=%q", EnvVar, env)
		assert.Contains(t, desc, "neti training adapter", "Describe with $%s=%q", EnvVar, env)
		assert.Contains(t, desc, "device 0", "Describe with $%s=%q", EnvVar, env)
		ops := b.Capabilities().Operations
		assert.True(t, ops[backends.OpTypeReverse], "adapter capabilities list Reverse")
		assert.True(t, ops[backends.OpTypePad], "adapter capabilities list Pad")
		assert.True(t, ops[backends.OpTypeConvGeneral], "adapter capabilities keep SimpleGo's ConvGeneral")
	}
}

// TestNewAutoWithCPUPlugin checks that "auto" runs XLA on the CPU when the plugin is installed, and says so.
func TestNewAutoWithCPUPlugin(t *testing.T) {
	plugin, _ := FindCPUPlugin()
	if plugin == "" {
		t.Skip("XLA's CPU plugin is not installed (scripts/pjrt-cpu.sh); TestNewWithoutCPUPlugin covers this case")
	}
	b, note, err := NewNoted(Auto)
	require.NoError(t, err, "NewNoted(%q) with %s installed", Auto, plugin)
	assert.Equal(t, "xla", b.Name(), "NewNoted(%q) with the plugin installed", Auto)
	assert.Contains(t, note, "XLA on the CPU through "+plugin)
	b.Finalize()
}

// withoutCPUPlugin points neti's plugin cache at an empty folder and unsets $NETI_PJRT_CPU_PLUGIN, so that
// FindCPUPlugin finds nothing unless PJRT's own search path (fixed when the process starts) holds a plugin:
// it reports whether it does.
func withoutCPUPlugin(t *testing.T) (onSearchPath bool) {
	t.Setenv("NETI_CACHE", t.TempDir())
	t.Setenv("NETI_PJRT_CPU_PLUGIN", "")
	os.Unsetenv("NETI_PJRT_CPU_PLUGIN")
	_, onSearchPath = pjrt.AvailablePlugins()["cpu"]
	return onSearchPath
}

// TestFindCPUPlugin checks the order FindCPUPlugin looks in: $NETI_PJRT_CPU_PLUGIN, then the cache
// scripts/pjrt-cpu.sh fills, and that a missing file is reported, not returned.
func TestFindCPUPlugin(t *testing.T) {
	onSearchPath := withoutCPUPlugin(t)
	path, where := FindCPUPlugin()
	if !onSearchPath {
		assert.Empty(t, path, "FindCPUPlugin with an empty cache")
		assert.Contains(t, where, CPUPluginCache(), "FindCPUPlugin says where it looked")
	}

	cached := CPUPluginCache()
	require.NoError(t, os.MkdirAll(filepath.Dir(cached), 0o755))
	require.NoError(t, os.WriteFile(cached, []byte("plugin"), 0o644))
	path, where = FindCPUPlugin()
	assert.Equal(t, cached, path, "FindCPUPlugin with the cache filled")
	assert.Contains(t, where, "scripts/pjrt-cpu.sh")

	explicit := filepath.Join(t.TempDir(), "my_plugin.so")
	require.NoError(t, os.WriteFile(explicit, []byte("plugin"), 0o644))
	t.Setenv("NETI_PJRT_CPU_PLUGIN", explicit)
	path, where = FindCPUPlugin()
	assert.Equal(t, explicit, path, "$NETI_PJRT_CPU_PLUGIN comes first")
	assert.Equal(t, "$NETI_PJRT_CPU_PLUGIN", where)

	t.Setenv("NETI_PJRT_CPU_PLUGIN", explicit+".missing")
	path, where = FindCPUPlugin()
	assert.Empty(t, path, "a missing $NETI_PJRT_CPU_PLUGIN is not returned")
	assert.Contains(t, where, "is not a file")
}

// TestNewWithoutCPUPlugin checks that without the CPU plugin "auto" (and "" without $GOMLX_BACKEND) runs on
// SimpleGo with a note that says how to get the fast path, and "xla:cpu" is an error that says the same.
func TestNewWithoutCPUPlugin(t *testing.T) {
	if withoutCPUPlugin(t) {
		t.Skipf("PJRT's search path ($%s, fixed at start) holds a CPU plugin", pjrt.PJRTPluginPathsEnv)
	}
	t.Setenv(EnvVar, "")
	for _, config := range []string{"", Auto} {
		b, note, err := NewNoted(config)
		require.NoError(t, err, "NewNoted(%q)", config)
		_, isAdapter := b.(*adapter)
		assert.True(t, isAdapter, "NewNoted(%q) without a plugin returned %T, expected SimpleGo", config, b)
		assert.Contains(t, note, "scripts/pjrt-cpu.sh", "NewNoted(%q) says how to get the fast path", config)
	}
	for _, config := range []string{"xla", "xla:cpu", "stablehlo:cpu"} {
		_, err := New(config)
		require.Error(t, err, "New(%q)", config)
		assert.Contains(t, err.Error(), "scripts/pjrt-cpu.sh", "New(%q)", config)
		assert.Contains(t, err.Error(), `"go"`, "New(%q) names the pure-Go fallback", config)
	}
	t.Setenv(EnvVar, "xla:cpu")
	_, err := New("")
	require.Error(t, err, "New(\"\") with $%s=xla:cpu", EnvVar)
	assert.Contains(t, err.Error(), "(from $GOMLX_BACKEND)", "New(\"\") names where the config came from")
}

// TestNewNeverDownloads checks that a plugin that is not installed ("xla:cuda" on this CPU machine) is one
// error that says how to install it, not an attempt to download one (GoMLX's auto-install), and that a file
// that is not a plugin is an error, not a crash.
func TestNewNeverDownloads(t *testing.T) {
	if _, found := pjrt.AvailablePlugins()["cuda"]; found {
		t.Skip("this machine has a CUDA PJRT plugin on PJRT's search path")
	}
	_, err := New("xla:cuda")
	require.Error(t, err, "New(\"xla:cuda\") without a CUDA plugin")
	assert.Contains(t, err.Error(), "jax-cuda", "New(\"xla:cuda\") says how to install the plugin")
	assert.Contains(t, err.Error(), "does not download", "New(\"xla:cuda\")")
	assert.NotContains(t, err.Error(), "github.com", "New(\"xla:cuda\") must not try a download")

	bogus := filepath.Join(t.TempDir(), "pjrt_c_api_bogus_plugin.so")
	require.NoError(t, os.WriteFile(bogus, []byte("not a shared library"), 0o644))
	_, err = New("xla:" + bogus)
	require.Error(t, err, "New with a file that is not a plugin")
	assert.Contains(t, err.Error(), bogus, "the error names the file")
}

// TestNewRejectsUnknown checks unknown backends and bad SimpleGo options are errors that name them.
func TestNewRejectsUnknown(t *testing.T) {
	_, err := New("tpu-magic")
	require.Error(t, err, "New(\"tpu-magic\")")
	assert.Contains(t, err.Error(), `unknown backend "tpu-magic"`, "New(\"tpu-magic\")")
	assert.Contains(t, err.Error(), `"go"`, "New(\"tpu-magic\") lists the expected names")
	assert.Contains(t, err.Error(), `"auto"`, "New(\"tpu-magic\") lists the expected names")

	_, err = New("go:bogus_option")
	require.Error(t, err, "New(\"go:bogus_option\")")
	assert.Contains(t, err.Error(), "bogus_option", "New(\"go:bogus_option\")")
}

// TestDescribeNil checks Describe does not panic on nil.
func TestDescribeNil(t *testing.T) {
	assert.Equal(t, "<nil backend>", Describe(nil))
}

// unsetEnv unsets the variables for the test and restores them after it.
func unsetEnv(t *testing.T, names ...string) {
	for _, name := range names {
		t.Setenv(name, "")
		require.NoError(t, os.Unsetenv(name))
	}
}

func TestGPUFloat32Env(t *testing.T) {
	vars := []string{"NVIDIA_TF32_OVERRIDE", "XLA_FLAGS", "GOPJRT_CUDA_CHECKS"}
	get := func() []string {
		var got []string
		for _, v := range vars {
			value, ok := os.LookupEnv(v)
			got = append(got, fmt.Sprintf("%s=%q/%v", v, value, ok))
		}
		return got
	}

	unsetEnv(t, vars...)
	before := get()
	assert.Empty(t, gpuFloat32Env("cpu", nil), "the CPU plugin")
	assert.Empty(t, gpuFloat32Env("/x/pjrt_c_api_cpu_plugin.so", nil), "the CPU plugin by path")
	assert.Equal(t, before, get(), "no variable set for the CPU")

	note := gpuFloat32Env("/opt/jax_plugins/xla_cuda13/xla_cuda_plugin.so", []string{""})
	assert.Equal(t, "0", os.Getenv("NVIDIA_TF32_OVERRIDE"))
	assert.Equal(t, "--xla_gpu_enable_triton_gemm=false", os.Getenv("XLA_FLAGS"))
	assert.Equal(t, "0", os.Getenv("GOPJRT_CUDA_CHECKS"))
	assert.Contains(t, note, "NVIDIA_TF32_OVERRIDE=0")

	// What the user set stays; other XLA flags are kept.
	t.Setenv("NVIDIA_TF32_OVERRIDE", "1")
	t.Setenv("XLA_FLAGS", "--xla_gpu_enable_triton_gemm=true")
	t.Setenv("GOPJRT_CUDA_CHECKS", "1")
	assert.Empty(t, gpuFloat32Env("cuda", nil))
	assert.Equal(t, "1", os.Getenv("NVIDIA_TF32_OVERRIDE"))
	assert.Equal(t, "--xla_gpu_enable_triton_gemm=true", os.Getenv("XLA_FLAGS"))
	t.Setenv("XLA_FLAGS", "--xla_dump_to=/tmp/d")
	gpuFloat32Env("cuda", nil)
	assert.Equal(t, "--xla_dump_to=/tmp/d --xla_gpu_enable_triton_gemm=false", os.Getenv("XLA_FLAGS"))

	// tf32 asks for nothing but the check switch.
	unsetEnv(t, vars...)
	note = gpuFloat32Env("cuda", []string{"tf32"})
	assert.Equal(t, "GOPJRT_CUDA_CHECKS=0", note)
	_, ok := os.LookupEnv("NVIDIA_TF32_OVERRIDE")
	assert.False(t, ok, "tf32: NVIDIA_TF32_OVERRIDE left unset")
}

// TestGPUClientOptions: an NVIDIA plugin's client does not reserve the GPU's memory unless asked
// ("preallocate"), takes "memory_fraction=F" and "allocator=NAME", and none is passed on to GoMLX (it logs
// options it does not know).
func TestGPUClientOptions(t *testing.T) {
	opts, rest, err := gpuClientOptions([]string{"/p/xla_cuda_plugin.so", "tf32"})
	require.NoError(t, err)
	assert.Equal(t, pjrt.NamedValuesMap{"preallocate": false}, opts)
	assert.Equal(t, []string{"/p/xla_cuda_plugin.so", "tf32"}, rest)
	opts, rest, err = gpuClientOptions([]string{"cuda", "preallocate", "memory_fraction=0.25", "tf32"})
	require.NoError(t, err)
	assert.Equal(t, pjrt.NamedValuesMap{"memory_fraction": float32(0.25)}, opts)
	assert.Equal(t, []string{"cuda", "tf32"}, rest)
	for _, bad := range []string{"memory_fraction", "memory_fraction=", "memory_fraction=0", "memory_fraction=1.5",
		"memory_fraction=half", "memory_fraction=NaN"} {
		_, _, err := gpuClientOptions([]string{"cuda", bad})
		require.Error(t, err, bad)
		assert.Contains(t, err.Error(), "0 < F ≤ 1", bad)
	}
	opts, rest, err = gpuClientOptions([]string{"cuda", "allocator=platform"})
	require.NoError(t, err)
	assert.Equal(t, pjrt.NamedValuesMap{"preallocate": false, "allocator": "platform"}, opts)
	assert.Equal(t, []string{"cuda"}, rest)
	for _, bad := range []string{"allocator", "allocator=", "allocator=malloc", "allocator=BFC"} {
		_, _, err := gpuClientOptions([]string{"cuda", bad})
		require.Error(t, err, bad)
		assert.Contains(t, err.Error(), "default, bfc, cuda_async, platform", bad)
	}
	_, _, err = gpuClientOptions([]string{"cuda", "preallocate=false"})
	require.Error(t, err, "preallocate takes no value")
	assert.Contains(t, err.Error(), "takes no value")
	assert.True(t, isNVIDIA("/opt/jax_plugins/xla_cuda13/xla_cuda_plugin.so"))
	assert.False(t, isNVIDIA("/root/.cache/neti/pjrt-cpu/0.11.2/pjrt_c_api_cpu_plugin.so"))
}

// TestNewRejectsBadGPUOption: a malformed memory_fraction is an error that names the config, before any
// plugin is loaded.
func TestNewRejectsBadGPUOption(t *testing.T) {
	for _, v := range []string{"NVIDIA_TF32_OVERRIDE", "GOPJRT_CUDA_CHECKS", "XLA_FLAGS"} {
		t.Setenv(v, os.Getenv(v)) // restored after the test: New sets them for an NVIDIA plugin
	}
	config := "xla:/nowhere/xla_cuda_plugin.so,memory_fraction=2"
	_, err := New(config)
	require.Error(t, err)
	assert.Contains(t, err.Error(), config)
	assert.Contains(t, err.Error(), "0 < F ≤ 1")
}

// TestNewRejectsGPUOptionOnCPU: the GPU-only options are an error on the CPU plugin, not ignored.
func TestNewRejectsGPUOptionOnCPU(t *testing.T) {
	for _, config := range []string{"xla:cpu,memory_fraction=0.5", "xla:/x/pjrt_c_api_cpu_plugin.so,preallocate", "xla:cpu,allocator=platform"} {
		_, err := New(config)
		require.Error(t, err, config)
		assert.Contains(t, err.Error(), "is for NVIDIA GPU plugins", config)
	}
}
