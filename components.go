package neti

import (
	"fmt"
	"path/filepath"
	"runtime/debug"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/org/neti/clip"
	"github.com/org/neti/diffusion/vae"
	"github.com/org/neti/internal/safetensors"
	"github.com/org/neti/internal/weights"
	"github.com/org/neti/unet"
)

// component is one network of a Stable Diffusion folder: its folder (= root scope of its variables) and a
// function that builds its graph once on dummy inputs, which declares its variables without running it.
type component struct {
	name    string
	declare func(ctx *context.Context, g *graph.Graph, dtype dtypes.DType)
	// loadOptions adjusts weights.Options for this component's checkpoints.
	loadOptions func(*weights.Options)
}

// components lists the networks of a model with configurations text, u and v.
func components(text *clip.Config, u *unet.Config, v vae.Config) []component {
	return []component{
		{
			name: "text_encoder",
			declare: func(ctx *context.Context, g *graph.Graph, _ dtypes.DType) {
				ids := graph.Parameter(g, "ids", shapes.Make(dtypes.Int32, 1, text.MaxPositionEmbeddings))
				clip.Forward(ctx, text, ids)
			},
			// Older transformers checkpoints store the position ids buffer; it is not a weight.
			loadOptions: func(o *weights.Options) { o.Ignore = append(o.Ignore, "text_model.embeddings.position_ids") },
		},
		{
			name: "unet",
			declare: func(ctx *context.Context, g *graph.Graph, dtype dtypes.DType) {
				size := u.SampleSize
				sample := graph.Parameter(g, "sample", shapes.Make(dtype, 1, u.InChannels, size, size))
				timestep := graph.Parameter(g, "timestep", shapes.Make(dtypes.Float32, 1))
				states := graph.Parameter(g, "states", shapes.Make(dtype, 1, text.MaxPositionEmbeddings, u.CrossAttentionDim[0]))
				unet.Forward(ctx, u, sample, timestep, unet.Shared(states))
			},
		},
		{
			name: "vae",
			declare: func(ctx *context.Context, g *graph.Graph, dtype dtypes.DType) {
				f := v.ScaleFactor()
				images := graph.Parameter(g, "images", shapes.Make(dtype, 1, v.InChannels, 2*f, 2*f))
				vae.Encode(ctx, v, images)
				latents := graph.Parameter(g, "latents", shapes.Make(dtype, 1, v.LatentChannels, 2, 2))
				vae.Decode(ctx, v, latents)
			},
			// Checkpoints from older diffusers name the mid-block attention query/key/value/proj_attn and may
			// store its projections as 1x1 convolutions.
			loadOptions: func(o *weights.Options) { o.Rename, o.Reshape = vae.LegacyName, vae.LegacyDims },
		},
	}
}

// expectedVariables builds c's graph once on a scratch context and lists the variables it declared.
func expectedVariables(b backends.Backend, c component, dtype dtypes.DType) []weights.Var {
	scratch := context.New()
	g := graph.NewGraph(b, "declare_"+c.name)
	defer g.Finalize()
	c.declare(scratch.In(c.name), g, dtype)
	return weights.Expect(scratch.In(c.name))
}

// loadWeights reads every component's safetensors file into p.ctx, frozen, after checking it holds exactly
// the tensors the network expects (one error lists every missing, unexpected or mis-shaped tensor).
func (p *Pipeline) loadWeights(variant string) error {
	for _, c := range components(p.text, p.unet, p.vae) {
		path, err := weights.ComponentWeights(p.Dir, c.name, variant)
		if err != nil {
			return err
		}
		f, err := safetensors.Open(path)
		if err != nil {
			return err
		}
		opts := weights.Options{Expected: expectedVariables(p.backend, c, p.dtype), DType: p.dtype, Frozen: true}
		if c.loadOptions != nil {
			c.loadOptions(&opts)
		}
		err = weights.Load(p.ctx.In(c.name), f, opts)
		f.Close()
		if err != nil {
			return fmt.Errorf("neti: loading %s weights from %s: %w", c.name, filepath.Base(path), err)
		}
		if err := p.moveToDevice(c.name); err != nil {
			return fmt.Errorf("neti: moving %s weights to %s: %w", c.name, p.backend.Name(), err)
		}
	}
	// The host copies and the files' decoded bytes are garbage now; on the CPU the device is the same memory,
	// so give it back before the first graph runs rather than whenever the Go heap next grows.
	debug.FreeOSMemory()
	return nil
}

// moveToDevice puts the weights of the component scope on the pipeline's device and frees their host copies,
// so that the model is held once, not twice (host and device): with XLA on the CPU the device buffer shares
// the host memory (shared buffers), on a GPU the host copy is dropped. A later read of a value copies it back.
func (p *Pipeline) moveToDevice(scope string) error {
	for v := range p.ctx.In(scope).IterVariablesInScope() {
		t, err := v.Value()
		if err != nil {
			return err
		}
		if err := t.MaterializeOnDevice(p.backend, true, 0); err != nil {
			return fmt.Errorf("%s: %w", v.ScopeAndName(), err)
		}
		t.FinalizeLocal()
	}
	return nil
}
