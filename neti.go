package neti

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/org/neti/clip"
	"github.com/org/neti/diffusion"
	"github.com/org/neti/diffusion/vae"
	"github.com/org/neti/internal/backend"
	"github.com/org/neti/internal/nn"
	"github.com/org/neti/internal/weights"
	"github.com/org/neti/unet"
)

// Pipeline is a loaded Stable Diffusion 1.x/2.x model: text encoder, tokenizer, UNet, VAE and the noise
// schedule, with its weights on one backend. Its compiled graphs are built on first use and reused.
// A Pipeline is not safe for concurrent use.
type Pipeline struct {
	// Dir is the diffusers folder the pipeline was loaded from.
	Dir string

	backend backends.Backend
	// backendNote says how the backend was chosen when LoadOptions.Backend left it to neti, else "".
	backendNote string
	dtype       dtypes.DType
	ctx         *context.Context // variables under text_encoder/, unet/, vae/
	text        *clip.Config
	tokenizer   *clip.Tokenizer
	// vocabulary is the closed word list of tokenizer/vocabulary.txt, or nil (any word; see VocabularyFile).
	vocabulary map[string]bool
	unet       *unet.Config
	vae        vae.Config
	schedule   diffusion.SchedulerConfig

	encodeExec, denoiseExec, decodeExec *context.Exec
	// conceptEncodeExecs are encodeConcepts' text-encoder graphs, by their bypass weights (conditioning.go);
	// conceptDenoiseExec is the UNet graph with per-layer conditioning (conceptgen.go).
	conceptEncodeExecs map[string]*context.Exec
	conceptDenoiseExec *context.Exec
	// conceptCache is the conditioning of the last prompt generated with concepts (conditioning.go).
	conceptCache *promptConditioning
	// identity is the model's ModelIdentity, computed on first use (baseidentity.go).
	identity *ModelIdentity
}

// LoadPipeline loads a Stable Diffusion 1.x or 2.x model in diffusers format from a local folder, or from
// the Hugging Face cache by its id ("org/name"; neti never downloads). The folder, its components and
// their configurations are checked before any weights are read.
func LoadPipeline(pathOrID string, opts LoadOptions) (p *Pipeline, err error) {
	// Runs last: whatever failed (an error or a recovered panic), release what was acquired.
	defer func() {
		if err != nil && p != nil {
			p.Close()
			p = nil
		}
	}()
	defer recoverError("load pipeline", &err)
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	dir, err := weights.ResolveModel(pathOrID)
	if err != nil {
		return nil, err
	}
	if _, err := readModelIndex(dir); err != nil {
		return nil, err
	}
	p = &Pipeline{Dir: dir, dtype: parseDType(opts.DType)}
	if p.text, err = clip.LoadConfig(filepath.Join(dir, "text_encoder", "config.json")); err != nil {
		return nil, err
	}
	if p.unet, err = unet.LoadConfig(filepath.Join(dir, "unet", "config.json")); err != nil {
		return nil, err
	}
	if p.vae, err = vae.LoadConfig(filepath.Join(dir, "vae", "config.json")); err != nil {
		return nil, err
	}
	if p.schedule, err = diffusion.LoadSchedulerConfig(filepath.Join(dir, "scheduler", "scheduler_config.json")); err != nil {
		return nil, err
	}
	for _, width := range p.unet.CrossAttentionDim {
		if width != p.text.HiddenSize {
			return nil, fmt.Errorf("neti: %s: the text encoder is %d wide but the UNet's cross_attention_dim is %v; "+
				"the components come from different models", dir, p.text.HiddenSize, p.unet.CrossAttentionDim)
		}
	}
	if p.tokenizer, err = clip.LoadTokenizer(filepath.Join(dir, "tokenizer")); err != nil {
		return p, err
	}
	if p.vocabulary, err = readVocabulary(filepath.Join(dir, "tokenizer")); err != nil {
		return p, err
	}
	if got, want := p.tokenizer.VocabSize(), p.text.VocabSize; got > want {
		return p, fmt.Errorf("neti: %s: the tokenizer has %d tokens but the text encoder's table has %d rows; "+
			"the components come from different models", dir, got, want)
	}
	if got, want := p.tokenizer.MaxLength(), p.text.MaxPositionEmbeddings; got > want {
		return p, fmt.Errorf("neti: %s: the tokenizer pads to %d tokens but the text encoder has %d positions; "+
			"the components come from different models", dir, got, want)
	}
	if p.backend, p.backendNote, err = backend.NewNoted(opts.Backend); err != nil {
		return p, err
	}
	if !p.backend.Capabilities().DTypes[p.dtype] {
		return p, fmt.Errorf("neti: LoadOptions.DType is %q but the backend %s does not support it; "+
			"use \"float32\" (or \"bfloat16\" on the CPU), or a GPU backend such as xla:cuda for float16",
			opts.DType, p.backend.Name())
	}
	p.ctx = context.New()
	p.ctx.SetParam(nn.ParamDType, p.dtype) // tables looked up by integer ids (token embeddings)
	if err := p.loadWeights(opts.Variant); err != nil {
		return p, err
	}
	return p, nil
}

// Backend describes the backend the pipeline runs on (name and device) and, when LoadOptions.Backend left
// the choice to neti, how it was chosen (e.g. that the CPU runs on the pure-Go backend because XLA's CPU
// plugin is not installed, and how to install it).
func (p *Pipeline) Backend() string {
	if p == nil {
		return "<nil Pipeline>"
	}
	if p.backendNote == "" {
		return backend.Describe(p.backend)
	}
	return backend.Describe(p.backend) + " (" + p.backendNote + ")"
}

// Close releases the tokenizer, the compiled graphs, the weights and the backend. Afterwards the
// Pipeline's methods return errors; a second Close, or Close on a nil Pipeline, does nothing.
func (p *Pipeline) Close() {
	if p == nil {
		return
	}
	execs := []*context.Exec{p.encodeExec, p.denoiseExec, p.decodeExec, p.conceptDenoiseExec}
	for _, e := range p.conceptEncodeExecs {
		execs = append(execs, e)
	}
	for _, e := range execs {
		if e != nil {
			e.Finalize()
		}
	}
	p.encodeExec, p.denoiseExec, p.decodeExec, p.conceptDenoiseExec, p.conceptEncodeExecs = nil, nil, nil, nil, nil
	if p.tokenizer != nil {
		p.tokenizer.Close()
		p.tokenizer = nil
	}
	if p.ctx != nil {
		p.ctx.Finalize()
		p.ctx = nil
	}
	if p.backend != nil {
		p.backend.Finalize()
		p.backend = nil
	}
}

func parseDType(name string) dtypes.DType {
	switch name {
	case "bfloat16":
		return dtypes.BFloat16
	case "float16":
		return dtypes.Float16
	}
	return dtypes.Float32
}

// recoverError turns a panic (GoMLX reports graph errors by panicking) into an error for the public API.
func recoverError(op string, err *error) {
	r := recover()
	if r == nil {
		return
	}
	if e, ok := r.(error); ok {
		*err = fmt.Errorf("neti: %s: %w", op, e)
	} else {
		*err = fmt.Errorf("neti: %s: %v", op, r)
	}
	if debugPanics {
		*err = errors.Join(*err, errors.New(string(debug.Stack())))
	}
}

// debugPanics adds the stack of recovered panics to errors when the environment sets NETI_DEBUG.
var debugPanics = os.Getenv("NETI_DEBUG") != ""
