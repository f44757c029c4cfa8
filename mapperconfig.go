package neti

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// The mapper's configuration, parameter list and initial weights, in plain Go (mapper.go builds its graph).

// NormalizeMode says which part of the mapper's output is rescaled to MapperConfig.TargetNorm
// (NeTI spec §3, "output normalisation and the norm quirk").
type NormalizeMode string

const (
	// NormalizeWord rescales only the word half to TargetNorm (our default, as ViewNeTI; spec §13 #3).
	// The bypass half is left as is: the textual bypass renormalises it anyway (spec §5.2).
	NormalizeWord NormalizeMode = "word"
	// NormalizeConcat rescales the whole output (word ‖ bypass, 2·TextWidth values) to TargetNorm, as the
	// original code does (issue #4): needed to reproduce the released checkpoints' Embed(t, ℓ).
	NormalizeConcat NormalizeMode = "concat"
	// NormalizeNone leaves the output unscaled (the original's normalize_mapper_output=False).
	NormalizeNone NormalizeMode = "none"
)

// MapperConfig is the architecture of the NeTI mapper M(t, ℓ) (paper §3.2; spec §3). DefaultMapperConfig
// fills in the original's values; Validate checks a configuration once, before any graph is built.
type MapperConfig struct {
	// NumLayers is the number of cross-attention layers ℓ = 0..NumLayers-1 (16 for SD 1.x/2.x).
	NumLayers int `json:"num_layers"`
	// NumTimesteps is the number of training timesteps t = 0..NumTimesteps-1 (1000).
	NumTimesteps int `json:"num_timesteps"`
	// TextWidth is the text encoder's hidden size d: 768 for SD 1.x, 1024 for SD 2.x, 32 for the tiny
	// test models.
	TextWidth int `json:"text_width"`
	// Hidden is the width of the MLP's hidden layers, the units nested dropout orders (128).
	Hidden int `json:"hidden"`
	// TimeAnchors is the number of time anchors of the input layer's initialisation (10: t = 0, 100, ...,
	// 900). The input layer has TimeAnchors·NumLayers outputs (160).
	TimeAnchors int `json:"time_anchors"`
	// NumFourier is the number of random Fourier frequencies (rows of W); the features have 2·NumFourier
	// values (1024 → 2048).
	NumFourier int `json:"num_fourier"`
	// SigmaT and SigmaL scale W's time and layer columns (0.03 and 2.0).
	SigmaT float64 `json:"sigma_t"`
	SigmaL float64 `json:"sigma_l"`
	// Bypass adds the textual-bypass head: the output is word ‖ bypass, 2·TextWidth values (true).
	Bypass bool `json:"bypass"`
	// Normalize selects the output normalisation (NormalizeWord).
	Normalize NormalizeMode `json:"normalize"`
	// TargetNorm is the norm the normalised output is scaled to: the norm of the super-category token's
	// input embedding (about 0.4 in CLIP ViT-L). Required unless Normalize is NormalizeNone.
	TargetNorm float64 `json:"target_norm"`
	// Seed determines W and the initial weights (plain-Go PCG streams, see initMapperWeights).
	Seed uint64 `json:"seed"`
}

// Defaults of the original NeTI (spec §3, §6).
const (
	defaultNumLayers    = 16
	defaultNumTimesteps = 1000
	defaultHidden       = 128
	defaultTimeAnchors  = 10
	defaultNumFourier   = 1024
	defaultSigmaT       = 0.03
	defaultSigmaL       = 2.0
)

// DefaultMapperConfig returns the original NeTI mapper for a text encoder of width textWidth, with bypass,
// word-half normalisation to targetNorm and the given seed.
func DefaultMapperConfig(textWidth int, targetNorm float64, seed uint64) MapperConfig {
	return MapperConfig{
		NumLayers: defaultNumLayers, NumTimesteps: defaultNumTimesteps, TextWidth: textWidth,
		Hidden: defaultHidden, TimeAnchors: defaultTimeAnchors, NumFourier: defaultNumFourier,
		SigmaT: defaultSigmaT, SigmaL: defaultSigmaL, Bypass: true, Normalize: NormalizeWord,
		TargetNorm: targetNorm, Seed: seed,
	}
}

// Validate checks the configuration; the error names the offending field.
func (cfg MapperConfig) Validate() error {
	positive := []struct {
		name string
		v    int
	}{{"NumLayers", cfg.NumLayers}, {"NumTimesteps", cfg.NumTimesteps}, {"TextWidth", cfg.TextWidth},
		{"Hidden", cfg.Hidden}, {"TimeAnchors", cfg.TimeAnchors}, {"NumFourier", cfg.NumFourier}}
	for _, f := range positive {
		if f.v <= 0 {
			return fmt.Errorf("neti: MapperConfig.%s is %d: expected a positive value (see DefaultMapperConfig)", f.name, f.v)
		}
	}
	if cfg.TimeAnchors > cfg.NumTimesteps {
		return fmt.Errorf("neti: MapperConfig.TimeAnchors %d exceeds NumTimesteps %d: expected at most one anchor per timestep",
			cfg.TimeAnchors, cfg.NumTimesteps)
	}
	if !(cfg.SigmaT > 0) || !(cfg.SigmaL > 0) || math.IsInf(cfg.SigmaT, 0) || math.IsInf(cfg.SigmaL, 0) {
		return fmt.Errorf("neti: MapperConfig.SigmaT %g / SigmaL %g: expected finite positive scales (defaults 0.03, 2.0)",
			cfg.SigmaT, cfg.SigmaL)
	}
	switch cfg.Normalize {
	case NormalizeWord, NormalizeConcat:
		if !(cfg.TargetNorm > 0) || math.IsInf(cfg.TargetNorm, 0) {
			return fmt.Errorf("neti: MapperConfig.TargetNorm is %g with Normalize %q: expected a finite positive norm "+
				"(the super-category token's embedding norm)", cfg.TargetNorm, cfg.Normalize)
		}
	case NormalizeNone:
	default:
		return fmt.Errorf("neti: MapperConfig.Normalize is %q: expected %q, %q or %q",
			cfg.Normalize, NormalizeWord, NormalizeConcat, NormalizeNone)
	}
	return nil
}

// InputWidth is the number of outputs of the anchor-initialised input layer net.0: TimeAnchors·NumLayers.
func (cfg MapperConfig) InputWidth() int { return cfg.TimeAnchors * cfg.NumLayers }

// OutputWidth is the width of the output head: 2·TextWidth with bypass, TextWidth without.
func (cfg MapperConfig) OutputWidth() int {
	if cfg.Bypass {
		return 2 * cfg.TextWidth
	}
	return cfg.TextWidth
}

// AnchorTimesteps are the time anchors of the input layer: i·(NumTimesteps/TimeAnchors), i = 0..TimeAnchors-1
// (0, 100, ..., 900 by default), as the original's range(0, 1000, 1000 // anchors).
func (cfg MapperConfig) AnchorTimesteps() []int {
	step := cfg.NumTimesteps / cfg.TimeAnchors
	out := make([]int, cfg.TimeAnchors)
	for i := range out {
		out[i] = i * step
	}
	return out
}

// ParamCount is the number of trainable parameters (W excluded): 563,616 for the default mapper at width
// 768 (464,544 without bypass).
func (cfg MapperConfig) ParamCount() int {
	n := 0
	for _, p := range cfg.params() {
		n += p.shape.Size()
	}
	return n
}

// EncoderWeightName is the tensor name of W [NumFourier, 2] (scope encoder, variable w). W is fixed, not
// trained; the original keeps it out of its state dict, we store it in the concept file (spec §13 #2).
const EncoderWeightName = "encoder.w"

// param is one trainable tensor of the mapper: its state-dict name (= scope path with dots) and shape.
type param struct {
	name  string
	shape shapes.Shape
}

// params lists the mapper's trainable tensors in the original state dict's order.
func (cfg MapperConfig) params() []param {
	f32 := func(dims ...int) shapes.Shape { return shapes.Make(dtypes.Float32, dims...) }
	linear := func(name string, out, in int) []param {
		return []param{{name + ".weight", f32(out, in)}, {name + ".bias", f32(out)}}
	}
	norm := func(name string, n int) []param {
		return []param{{name + ".weight", f32(n)}, {name + ".bias", f32(n)}}
	}
	var ps []param
	ps = append(ps, linear("net.0", cfg.InputWidth(), 2*cfg.NumFourier)...)
	ps = append(ps, linear("net.1", cfg.Hidden, cfg.InputWidth())...)
	ps = append(ps, norm("net.2", cfg.Hidden)...)
	ps = append(ps, linear("net.4", cfg.Hidden, cfg.Hidden)...)
	ps = append(ps, norm("net.5", cfg.Hidden)...)
	ps = append(ps, linear("output_layer.0", cfg.OutputWidth(), cfg.Hidden)...)
	return ps
}

// PCG stream constants of the initialisation: W and the MLP draw from separate streams of cfg.Seed, so W
// does not depend on the MLP's shape.
const (
	streamW   = 0x6e6574692d77 // "neti-w"
	streamMLP = 0x6e6574692d6d // "neti-m"
)

// initMapperWeights draws the mapper's initial tensors from cfg.Seed in plain Go (deterministic on every
// platform), flat float32 in PyTorch layouts, by state-dict name (params plus EncoderWeightName):
//   - W [NumFourier, 2] ~ N(0, 1), column 0 × SigmaT, column 1 × SigmaL (row-major draws, as torch.randn);
//   - net.0.weight: row i·NumLayers + ℓ = v(AnchorTimesteps()[i], ℓ), the anchor features (spec §3);
//   - other Linear weights and every Linear bias ~ U(−1/√in, 1/√in), PyTorch's default (kaiming-uniform
//     with a = √5 gives the same bound), drawn in params() order;
//   - LayerNorm weight 1, bias 0.
func initMapperWeights(cfg MapperConfig) map[string][]float32 {
	out := make(map[string][]float32)
	rw := rand.New(rand.NewPCG(cfg.Seed, streamW))
	w := make([]float32, 2*cfg.NumFourier) // [F, 2]
	for i := range cfg.NumFourier {
		w[2*i] = float32(rw.NormFloat64() * cfg.SigmaT)
		w[2*i+1] = float32(rw.NormFloat64() * cfg.SigmaL)
	}
	out[EncoderWeightName] = w

	rm := rand.New(rand.NewPCG(cfg.Seed, streamMLP))
	for _, p := range cfg.params() {
		dims := p.shape.Dimensions
		values := make([]float32, p.shape.Size())
		switch {
		case p.name == "net.0.weight":
			anchorInit(cfg, w, values)
		case isNorm(p.name):
			if strings.HasSuffix(p.name, ".weight") {
				for i := range values {
					values[i] = 1
				}
			}
		default:
			fanIn := dims[len(dims)-1] // weight [out, in]
			if len(dims) == 1 {        // bias [out]: fan-in of its weight, the previous param
				fanIn = prevFanIn(cfg, p.name)
			}
			bound := 1 / math.Sqrt(float64(fanIn))
			for i := range values {
				values[i] = float32((2*rm.Float64() - 1) * bound)
			}
		}
		out[p.name] = values
	}
	return out
}

// isNorm reports whether a param belongs to one of the LayerNorms net.2, net.5.
func isNorm(name string) bool {
	return strings.HasPrefix(name, "net.2.") || strings.HasPrefix(name, "net.5.")
}

// prevFanIn is the input width of the Linear that owns the bias name.
func prevFanIn(cfg MapperConfig, bias string) int {
	switch bias {
	case "net.0.bias":
		return 2 * cfg.NumFourier
	case "net.1.bias":
		return cfg.InputWidth()
	}
	return cfg.Hidden // net.4.bias, output_layer.0.bias
}

// anchorInit fills dst [InputWidth, 2·NumFourier] with the anchor features: row i·NumLayers + ℓ is
// v(t_i, ℓ) for the time anchors t_i, computed in float64 from w [NumFourier, 2] and rounded to float32.
// At initialisation net.0's output r (less its bias) is then the cosine similarity of v(t, ℓ) to anchor r.
func anchorInit(cfg MapperConfig, w, dst []float32) {
	f := cfg.NumFourier
	for i, t := range cfg.AnchorTimesteps() {
		for l := range cfg.NumLayers {
			row := dst[(i*cfg.NumLayers+l)*2*f : (i*cfg.NumLayers+l+1)*2*f]
			fourierRow(w, float64(t), float64(l), row)
		}
	}
}

// fourierRow writes v(t, ℓ) = [sin(Wx); cos(Wx)] / √F into row [2F], in float64 arithmetic.
func fourierRow(w []float32, t, l float64, row []float32) {
	f := len(w) / 2
	scale := 1 / math.Sqrt(float64(f))
	for j := range f {
		a := float64(w[2*j])*t + float64(w[2*j+1])*l
		row[j] = float32(math.Sin(a) * scale)
		row[f+j] = float32(math.Cos(a) * scale)
	}
}
