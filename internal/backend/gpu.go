package backend

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/gomlx/go-xla/pkg/pjrt"
)

// tf32Option is the XLA plugin option that lets float32 matrix products and convolutions on an NVIDIA GPU
// run in TF32 (10-bit mantissa, several times faster on tensor cores), e.g. "xla:cuda,tf32". GoMLX then asks
// for TF32 in every float32 DotGeneral. Without it neti asks for full float32 (see gpuFloat32Env).
const tf32Option = "tf32"

// gpuFloat32Env sets, for an NVIDIA plugin, the environment variables that make float32 mean float32 and
// returns a note of what it set ("" if nothing). It runs before the plugin is loaded, since the plugin, cuBLAS
// and cuDNN read them when they start; a variable the user has set is left as it is, and nothing is set when
// pluginOptions holds tf32Option.
//
// Why: on an H200 with jax's CUDA plugin (jax-cuda13-pjrt 0.11.2), the parity tests that pass on the CPU to
// ≤ 1e-4 were off in every test with matrix products over a few dozen channels (one forward pass of the
// text encoder, UNet or VAE by 2e-3 to 5e-3, a 10-step generation's latents by 0.11), while the mapper, the bypass and the schedulers matched to ≤ 2e-6: XLA
// gives float32 products at default precision to TF32 kernels on NVIDIA GPUs from Ampere on. GoMLX v0.26
// emits every DotGeneral and convolution at default precision and has no switch for full precision, so it is
// asked for from outside:
//   - NVIDIA_TF32_OVERRIDE=0: cuBLAS and cuDNN compute float32 without TF32 whatever the caller asked for;
//   - XLA_FLAGS --xla_gpu_enable_triton_gemm=false: matrix products go to cuBLAS rather than XLA's Triton
//     kernels, which that variable does not reach.
//
// Measured on 2026-12-04 (same H200 and plugin): with these settings every parity test passes its 1e-4
// (text encoder, UNet forward and per layer, gradients, VAE, 10-step generation); scripts/gpu-check.sh runs
// the main ones again with tf32Option to show what the setting changes.
// GOPJRT_CUDA_CHECKS=0 turns off go-xla's check for an nvidia/ folder beside the plugin: pip's layout puts it
// elsewhere (the check warns although the plugin works) and, when it finds the folder, go-xla v0.1.4 points
// --xla_gpu_cuda_data_dir at a fixed path of its author's machine.
func gpuFloat32Env(pluginName string, pluginOptions []string) string {
	if !isNVIDIA(pluginName) {
		return ""
	}
	var set []string
	setDefault := func(name, value string) {
		if _, ok := os.LookupEnv(name); !ok {
			_ = os.Setenv(name, value)
			set = append(set, name+"="+value)
		}
	}
	setDefault("GOPJRT_CUDA_CHECKS", "0")
	if slices.Contains(pluginOptions, tf32Option) {
		return strings.Join(set, " ")
	}
	setDefault("NVIDIA_TF32_OVERRIDE", "0")
	const triton = "--xla_gpu_enable_triton_gemm"
	if flags := os.Getenv("XLA_FLAGS"); !strings.Contains(flags, triton) {
		_ = os.Setenv("XLA_FLAGS", strings.TrimSpace(flags+" "+triton+"=false"))
		set = append(set, "XLA_FLAGS+="+triton+"=false")
	}
	return strings.Join(set, " ")
}

// isNVIDIA reports whether a PJRT plugin name or path names an NVIDIA (CUDA) plugin.
func isNVIDIA(pluginName string) bool {
	upper := strings.ToUpper(pluginName)
	return strings.Contains(upper, "CUDA") || strings.Contains(upper, "NVIDIA")
}

// preallocateOption is the XLA plugin option that keeps XLA's default on an NVIDIA GPU of reserving the
// allocator's whole share of the GPU's memory (75 % unless memoryFractionOption says otherwise) when the
// backend is created, e.g. "xla:cuda,preallocate". Without it neti creates the client with "preallocate"
// false (gpuClientOptions).
const preallocateOption = "preallocate"

// memoryFractionOption is the XLA plugin option "memory_fraction=F" (0 < F ≤ 1) that caps the GPU memory the
// backend may use at F of the GPU's, e.g. "xla:cuda,memory_fraction=0.5"; XLA's default is 0.75. An
// allocation beyond it fails with an out-of-memory error rather than taking more.
const memoryFractionOption = "memory_fraction"

// allocatorOption is the XLA plugin option "allocator=NAME" that chooses how the backend takes GPU memory:
// "bfc" (XLA's default: a best-fit pool that keeps what it took, so a process's footprint is its peak need
// plus what compilation's autotuning asked for), "cuda_async" (CUDA's stream-ordered pool, which returns
// freed memory to the driver), "platform" (one cudaMalloc/cudaFree per buffer: slow, but a memory sampler
// then sees what the computation needs) or "default" (the plugin's choice, bfc today); e.g.
// "xla:cuda,allocator=platform".
const allocatorOption = "allocator"

// allocators are the values allocatorOption takes (those XLA's GPU plugin accepts).
var allocators = []string{"default", "bfc", "cuda_async", "platform"}

// gpuOnlyOption returns the first of pluginOptions that only an NVIDIA plugin takes, or "".
func gpuOnlyOption(pluginOptions []string) string {
	for _, o := range pluginOptions {
		if name, _, _ := strings.Cut(o, "="); name == preallocateOption || name == memoryFractionOption || name == allocatorOption {
			return o
		}
	}
	return ""
}

// gpuClientOptions returns the PJRT client options neti gives an NVIDIA plugin and pluginOptions without
// the ones it consumed (GoMLX rejects options it does not know), or an error for a malformed one.
//
// Why "preallocate" false: the CUDA plugin reserves 75 % of the GPU's memory per client by default, so a
// second backend in the same process (a second Pipeline, or a benchmark's next run) finds 25 % left and its
// allocations fail (seen on an H200: "Failed to allocate device memory of 104.85GiB", retried at decreasing
// sizes until the command's time ran out), and so does any other program on the GPU. With "preallocate"
// false the BFC allocator grows as memory is used, as PyTorch's caching allocator does.
func gpuClientOptions(pluginOptions []string) (pjrt.NamedValuesMap, []string, error) {
	opts := pjrt.NamedValuesMap{"preallocate": false}
	var rest []string
	for _, o := range pluginOptions {
		name, value, hasValue := strings.Cut(o, "=")
		switch {
		case name == preallocateOption:
			if hasValue {
				return nil, nil, fmt.Errorf("plugin option %q: expected %s alone (it takes no value)", o, preallocateOption)
			}
			delete(opts, "preallocate")
		case name == memoryFractionOption:
			f, err := strconv.ParseFloat(value, 32)
			if !hasValue || err != nil || !(f > 0 && f <= 1) {
				return nil, nil, fmt.Errorf("plugin option %q: expected %s=F with 0 < F ≤ 1, the share of the "+
					"GPU's memory the backend may use (e.g. %s=0.5)", o, memoryFractionOption, memoryFractionOption)
			}
			opts[memoryFractionOption] = float32(f)
		case name == allocatorOption:
			if !hasValue || !slices.Contains(allocators, value) {
				return nil, nil, fmt.Errorf("plugin option %q: expected %s=NAME with NAME one of %s (e.g. %s=platform)",
					o, allocatorOption, strings.Join(allocators, ", "), allocatorOption)
			}
			opts[allocatorOption] = value
		default:
			rest = append(rest, o)
		}
	}
	return opts, rest, nil
}
