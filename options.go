package neti

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/org/neti/diffusion"
	"github.com/org/neti/internal/backend"
)

// BackendAuto asks LoadOptions.Backend for the fastest backend here: XLA on the CPU when its PJRT plugin is
// installed, else the pure-Go CPU backend. Pipeline.Backend says which was chosen and why.
const BackendAuto = backend.Auto

// LoadOptions configures LoadPipeline. The zero value is valid: float32 weights on the default backend.
type LoadOptions struct {
	// Backend names the GoMLX backend. "" uses the GOMLX_BACKEND environment variable, or BackendAuto when
	// it is unset. BackendAuto ("auto") is the fastest backend here: XLA on the CPU through its PJRT plugin
	// when installed (scripts/pjrt-cpu.sh), else the pure-Go CPU backend. "go" is the pure-Go CPU backend
	// (GoMLX's SimpleGo through neti's adapter); "xla:cpu" is XLA on the CPU (an error if its plugin is not
	// installed); "xla:cuda" is XLA on a GPU through a CUDA PJRT plugin on PJRT's search path
	// ($PJRT_PLUGIN_LIBRARY_PATH); "xla:/path/to/pjrt_plugin.so" loads that plugin. neti never downloads
	// plugins.
	Backend string
	// DType is the precision of the weights and activations: "float32" (default), "bfloat16" or "float16".
	// Half precision is meant for GPUs; on the CPU, float16 files are converted to float32 on the host.
	DType string
	// Variant selects the weight files: "" reads the full-precision files (or the fp16 ones if only those
	// exist); "fp16" reads the "*.fp16.safetensors" files.
	Variant string
}

func (o LoadOptions) withDefaults() LoadOptions {
	if o.DType == "" {
		o.DType = "float32"
	}
	return o
}

// Validate checks the options as LoadPipeline does first (DType, Variant), without loading anything. The
// error names the field.
func (o LoadOptions) Validate() error { return o.withDefaults().validate() }

func (o LoadOptions) validate() error {
	switch o.DType {
	case "float32", "bfloat16", "float16":
	default:
		return fmt.Errorf("neti: LoadOptions.DType is %q; expected \"float32\", \"bfloat16\" or \"float16\"", o.DType)
	}
	switch o.Variant {
	case "", "fp16":
	default:
		return fmt.Errorf("neti: LoadOptions.Variant is %q; expected \"\" or \"fp16\"", o.Variant)
	}
	return nil
}

// GenerateOptions configures Pipeline.Generate. Zero fields take the documented defaults.
type GenerateOptions struct {
	// NegativePrompt is the unconditional prompt of classifier-free guidance. Default "".
	NegativePrompt string
	// Steps is the number of denoising steps. Default 50.
	Steps int
	// GuidanceScale is the classifier-free guidance weight; 1 disables guidance (one UNet pass per step).
	// Default 7.5.
	GuidanceScale float64
	// GuidanceRescale is diffusers' guidance_rescale φ (Lin et al. 2023, §3.4): after each guidance step the
	// guided output is rescaled, per image, to the conditional output's standard deviation and mixed back as
	// φ·rescaled + (1 − φ)·guided, which tempers the over-saturated colours of a large GuidanceScale. In
	// [0, 1]; diffusers suggests 0.7. Needs guidance (GuidanceScale > 1). Default 0: plain guidance.
	GuidanceRescale float64
	// Width and Height of the images in pixels, multiples of the VAE's scale factor × 2^(UNet downsamplings).
	// Default: the UNet's sample_size × the VAE's scale factor (512 for SD 1.5).
	Width, Height int
	// Seed of the initial noise. Images i of a call use Seed+i, so a set can be regenerated one by one: from
	// the same noise, and on SimpleGo to the bit; XLA (CPU or GPU) sums in an order that depends on the
	// batch, so there a few 8-bit values may differ by rounding (as in diffusers on a GPU).
	Seed uint64
	// NumImages is how many images to generate for the prompt. Default 1.
	NumImages int
	// Sampler is SamplerDPMSolver ("dpm++2m", DPM-Solver++(2M), the paper's sampler; default), SamplerDDIM
	// ("ddim") or SamplerEuler ("euler").
	Sampler Sampler
	// InitialLatents, if set, replace the seeded initial noise: [NumImages, latentChannels, h, w] in
	// row-major order, before scaling by the sampler's initial sigma (as diffusers' latents argument).
	InitialLatents []float32
	// OnStep, if set, is called after each denoising step with the 1-based step and the total.
	OnStep func(step, total int)
	// OnNote, if set, receives remarks on the inputs before any denoising, one line each: a prompt or
	// negative prompt longer than the text encoder reads (75 tokens for Stable Diffusion) is cut to its
	// first 75 tokens, as diffusers does, and the note says how many tokens were dropped and where the
	// dropped part starts. The library never prints; Pipeline.PromptTokens checks a prompt ahead.
	OnNote func(note string)
	// Concepts are the NeTI concepts the prompt uses: each one's Placeholder must occur in the prompt, and
	// every placeholder-like word of the prompt ("<...>", or a token added to the tokenizer) must belong to
	// one of them. Several concepts may share a prompt, and a placeholder may occur more than once ("a <c>
	// next to a <c>"): each occurrence gets the concept's word and bypass, as in the original NeTI. Default
	// none (plain generation).
	Concepts []*Concept
	// AllowOtherBaseModel uses concepts trained on another base model (a text encoder of the same width but
	// another architecture or other weights, see ModelIdentity) with a note through OnNote instead of an
	// error. Their words then mean little to this model; for experiments only. Default false.
	AllowOtherBaseModel bool
	// Truncation overrides every concept's nested-dropout truncation: the number of the mapper's hidden
	// units kept, 1..Mapper.Hidden (smaller is coarser and more editable). Default 0: each concept's own
	// Concept.Truncation.
	Truncation int
}

// Sampler names a sampler, the value of GenerateOptions.Sampler: SamplerDPMSolver (the default, ""
// meaning it), SamplerDDIM or SamplerEuler (Samplers). Its values are the diffusion package's sampler
// names (diffusion.SamplerNames, diffusion.NewSampler).
type Sampler string

// Samplers of GenerateOptions.Sampler.
const (
	// SamplerDPMSolver is DPM-Solver++(2M), the paper's sampler.
	SamplerDPMSolver Sampler = "dpm++2m"
	// SamplerDDIM is DDIM (η = 0).
	SamplerDDIM Sampler = "ddim"
	// SamplerEuler is the Euler sampler of k-diffusion (diffusers' EulerDiscreteScheduler).
	SamplerEuler Sampler = "euler"
)

// Samplers lists the names accepted by GenerateOptions.Sampler: diffusion.SamplerNames.
var Samplers = func() []Sampler {
	out := make([]Sampler, len(diffusion.SamplerNames))
	for i, name := range diffusion.SamplerNames {
		out[i] = Sampler(name)
	}
	return out
}()

// enumNames returns the values of a string-based option type (Method, Templates, Sampler, ExportFormat)
// as strings, for messages and help texts.
func enumNames[T ~string](values []T) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
}

// quotedOr lists names as `"a", "b" or "c"`.
func quotedOr(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = fmt.Sprintf("%q", n)
	}
	if len(quoted) < 2 {
		return strings.Join(quoted, "")
	}
	return strings.Join(quoted[:len(quoted)-1], ", ") + " or " + quoted[len(quoted)-1]
}

func (o GenerateOptions) withDefaults() GenerateOptions {
	if o.Steps == 0 {
		o.Steps = 50
	}
	if o.GuidanceScale == 0 {
		o.GuidanceScale = 7.5
	}
	if o.NumImages == 0 {
		o.NumImages = 1
	}
	if o.Sampler == "" {
		o.Sampler = SamplerDPMSolver
	}
	return o
}

// Validate checks, without a model, what the options alone decide (Generate checks them again with the
// model, which adds the multiple Width and Height must have and the concepts' fit): each field's range
// once defaults apply, and Width and Height not negative (0 is the model's size). Callers such as neti
// generate use it to refuse bad options before a model loads. The error names the field.
func (o GenerateOptions) Validate() error {
	o = o.withDefaults()
	for _, side := range []struct {
		name  string
		value int
	}{{"Width", o.Width}, {"Height", o.Height}} {
		if side.value < 0 {
			return fmt.Errorf("neti: GenerateOptions.%s is %d; expected a positive multiple of the model's size "+
				"multiple (64 for SD), or 0 for the model's size", side.name, side.value)
		}
	}
	return o.validateOptions()
}

// validate checks the options once defaults are applied; multiple is the pixel multiple sizes must have.
func (o GenerateOptions) validate(multiple int) error {
	if err := o.validateOptions(); err != nil {
		return err
	}
	for _, side := range []struct {
		name  string
		value int
	}{{"Width", o.Width}, {"Height", o.Height}} {
		if side.value <= 0 || side.value%multiple != 0 {
			return fmt.Errorf("neti: GenerateOptions.%s is %d; expected a positive multiple of %d for this model",
				side.name, side.value, multiple)
		}
	}
	return nil
}

// validateOptions checks what needs no model once defaults are applied.
func (o GenerateOptions) validateOptions() error {
	if o.Steps < 1 {
		return fmt.Errorf("neti: GenerateOptions.Steps is %d; expected at least 1 (at most the schedule's num_train_timesteps)", o.Steps)
	}
	if !(o.GuidanceScale >= 1) || math.IsInf(o.GuidanceScale, 1) {
		return fmt.Errorf("neti: GenerateOptions.GuidanceScale is %g; expected a finite weight ≥ 1 (1 disables guidance)", o.GuidanceScale)
	}
	if !(o.GuidanceRescale >= 0 && o.GuidanceRescale <= 1) {
		return fmt.Errorf("neti: GenerateOptions.GuidanceRescale is %g; expected φ in [0, 1] (0: plain guidance; diffusers suggests 0.7)", o.GuidanceRescale)
	}
	if o.GuidanceRescale > 0 && o.GuidanceScale == 1 {
		return fmt.Errorf("neti: GenerateOptions.GuidanceRescale is %g but GenerateOptions.GuidanceScale is 1, which disables "+
			"guidance; raise GenerateOptions.GuidanceScale above 1 or set GenerateOptions.GuidanceRescale to 0", o.GuidanceRescale)
	}
	if o.NumImages < 1 || o.NumImages > 64 {
		return fmt.Errorf("neti: GenerateOptions.NumImages is %d; expected 1 to 64", o.NumImages)
	}
	if o.Truncation < 0 {
		return fmt.Errorf("neti: GenerateOptions.Truncation is %d; expected 0 (each concept's own) or 1..Mapper.Hidden",
			o.Truncation)
	}
	if !slices.Contains(Samplers, o.Sampler) {
		return fmt.Errorf("neti: GenerateOptions.Sampler is %q; expected one of %s", o.Sampler, strings.Join(enumNames(Samplers), ", "))
	}
	return nil
}
