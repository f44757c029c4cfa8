package backend

import (
	"testing"

	"github.com/gomlx/gomlx/backends"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNewDefaultIsAdaptedSimpleGo checks New("") without $GOMLX_BACKEND (and with it set to "go") gives
// SimpleGo through the adapter, which advertises the supplied ops.
func TestNewDefaultIsAdaptedSimpleGo(t *testing.T) {
	for _, env := range []string{"", "go"} {
		t.Setenv(EnvVar, env)
		b, err := New("")
		require.NoError(t, err, "New(\"\") with $%s=%q", EnvVar, env)
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

// TestNewXLANotLinked checks XLA configs give an error that names the config, where it came from and how
// to build with XLA, since this test binary does not import the XLA backend.
func TestNewXLANotLinked(t *testing.T) {
	t.Setenv(EnvVar, "")
	for _, config := range []string{"xla:cuda", "xla", "xla:cpu", "xla:/opt/pjrt_c_api_cuda_plugin.so", "stablehlo:cpu"} {
		_, err := New(config)
		require.Error(t, err, "New(%q)", config)
		assert.Contains(t, err.Error(), "backend "+config+" (from argument) is not linked in this binary; build with",
			"New(%q)", config)
		assert.Contains(t, err.Error(), "github.com/gomlx/gomlx/backends/xla", "New(%q)", config)
	}
	t.Setenv(EnvVar, "xla:cuda")
	_, err := New("")
	require.Error(t, err, "New(\"\") with $%s=xla:cuda", EnvVar)
	assert.Contains(t, err.Error(), "xla:cuda (from $GOMLX_BACKEND) is not linked", "New(\"\") with $%s=xla:cuda", EnvVar)
}

// TestNewRejectsUnknown checks unknown backends and bad SimpleGo options are errors that name them.
func TestNewRejectsUnknown(t *testing.T) {
	_, err := New("tpu-magic")
	require.Error(t, err, "New(\"tpu-magic\")")
	assert.Contains(t, err.Error(), `unknown backend "tpu-magic"`, "New(\"tpu-magic\")")
	assert.Contains(t, err.Error(), `"go"`, "New(\"tpu-magic\") lists the expected names")

	_, err = New("go:bogus_option")
	require.Error(t, err, "New(\"go:bogus_option\")")
	assert.Contains(t, err.Error(), "bogus_option", "New(\"go:bogus_option\")")
}

// TestDescribeNil checks Describe does not panic on nil.
func TestDescribeNil(t *testing.T) {
	assert.Equal(t, "<nil backend>", Describe(nil))
}
