package neti

import (
	stdcontext "context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/org/neti/diffusion"
	"github.com/org/neti/internal/history"
	"github.com/org/neti/unet"
)

// TrainConcept learns a concept from images of it (paper §3, spec §6): inputs are PNG/JPEG files and/or
// folders of them (see LoadTrainImages). The text encoder, UNet and VAE stay frozen; only the concept's
// representation is trained (the NeTI mapper, or TI's vector, or P+'s per-layer vectors, by
// opts.Method), with AdamW on the denoising loss.
//
// Each optimizer step averages the gradients of opts.GradientAccumulation micro-batches of
// opts.BatchSize images. A sample is an image (random order, each image once per epoch), optionally
// mirrored, with a random caption template; t ~ U{0..999} shared by its 16 layers; its latents are drawn
// from the VAE posterior (encoded once per image and flip, before training) and scaled; the loss is the
// MSE of the UNet's output to the noise ε (v for v-prediction models, x0 for sample prediction). Every
// random draw comes from seeded PCG streams saved in checkpoints, so a resumed run is bit-identical to an
// uninterrupted one on the same backend.
//
// The optimizer is our own AdamW (adamW, PyTorch's update rule) over the trained tensors only, its moments
// kept in Go so that checkpoints hold them exactly; the step graph returns the loss and the gradients,
// which are averaged over the micro-batches on the host (a few MB per step for the default mapper).
// GoMLX's optimizers were not used: they update every trainable variable of the context and keep their
// state in context variables, and the pipeline shares one context with the mapper.
//
// Files go to opts.OutputDir (checkpoints, loss.jsonl, the final concept). Cancelling ctx stops between
// micro-batches: the unfinished step is undone, a checkpoint of the steps done is written, and the error
// is a *TrainInterrupted naming it (errors.Is(err, context.Canceled) holds). The Pipeline's tokenizer
// keeps the placeholder registered.
func TrainConcept(ctx stdcontext.Context, p *Pipeline, inputs []string, opts TrainOptions) (c *Concept, err error) {
	defer recoverError("train", &err)
	if err := p.usable("train"); err != nil {
		return nil, err
	}
	t, err := newTrainer(p, inputs, opts)
	if err != nil {
		return nil, err
	}
	defer t.close()
	return t.run(ctx)
}

// streamTrain is the PCG stream of the training draws (data order, flips, templates, timesteps, noise).
const streamTrain = 0x6e6574692d74 // "neti-t"

// trainer holds one training run: the concept, its variables in the pipeline's context, the optimizer,
// the random streams, the cached VAE posteriors and the compiled step graph.
type trainer struct {
	p       *Pipeline
	opts    TrainOptions
	data    *TrainImages
	concept *Concept
	mctx    *context.Context // the mapper's variables, under p.ctx
	names   []string         // trained tensors (state-dict names), in order
	params  [][]float32      // their current values (P+: its vectors, see pplus)
	adam    adamW
	// pplus maps P+'s per-layer vectors, the parameter AdamW updates, to and from the output head, its
	// trained tensor (trainpplus.go); nil for the other methods. pplusResumed holds the vectors a
	// checkpoint recorded, from resume until loadVariables takes them.
	pplus        *pplusHead
	pplusResumed []float32

	schedule    *diffusion.Schedule
	pcg         *rand.PCG
	rng         *rand.Rand
	dropout     *nestedDropoutSampler
	order       []int // current epoch's image order
	cursor      int   // next position in order
	step        int   // optimizer steps done
	placeholder int32 // token id

	latentShape []int       // [C, h, w]
	posteriors  []posterior // image i, flip f at 2·i + f
	prompts     [][]int32   // caption ids of each template, [77] each
	positions   []int32     // the placeholder's position in each caption
	numLayers   int

	exec     *context.Exec
	compiled bool // exec compiled (and the compiler's freed heap trimmed)
	log      *lossLog

	checkpoint string // the checkpoint folder holding the state of step t.step, or ""
}

// newTrainer checks everything before any heavy work: options, data, placeholder and super-category; it
// then initialises (or restores) the concept and encodes the images.
func newTrainer(p *Pipeline, inputs []string, opts TrainOptions) (*trainer, error) {
	scale := p.vae.ScaleFactor()
	opts = opts.withDefaults(p.unet.SampleSize * scale)
	if err := opts.validate(scale << p.unet.NumUpsamplers()); err != nil {
		return nil, err
	}
	if err := checkTemplateVocabulary(p, opts); err != nil {
		return nil, err
	}
	data, err := LoadTrainImages(inputs)
	if err != nil {
		return nil, err
	}
	if opts.OnNote != nil {
		for _, n := range data.Notes {
			opts.OnNote(n)
		}
	}
	if ids := p.tokenizer.TokenIDs(opts.SuperCategory); len(ids) != 1 {
		tokens := make([]string, len(ids))
		for i, id := range ids {
			tokens[i] = fmt.Sprintf("%q", p.tokenizer.Decode([]int32{id}, false))
		}
		return nil, fmt.Errorf("neti: train: super-category %q is %d tokens [%s]: expected a single-token word "+
			"such as \"object\", \"dog\" or \"toy\"", opts.SuperCategory, len(ids), strings.Join(tokens, " "))
	}
	t := &trainer{p: p, opts: opts, data: data, numLayers: len(p.unet.CrossAttentionLayers())}
	if t.schedule, err = diffusion.NewSchedule(p.schedule); err != nil {
		return nil, err
	}
	if t.concept, err = t.initConcept(); err != nil {
		return nil, err
	}
	if t.placeholder, err = p.placeholderID(opts.Placeholder); err != nil {
		return nil, err
	}
	if err := t.captions(); err != nil {
		return nil, err
	}
	t.pcg = rand.NewPCG(opts.Seed, streamTrain)
	t.rng = rand.New(t.pcg)
	t.dropout = newNestedDropoutSampler(opts.Seed, opts.NestedDropoutProb, t.concept.Mapper.Hidden)
	t.mctx = p.ctx.In("train_mapper").In(fmt.Sprintf("%s_out%d", opts.Method, t.concept.Mapper.OutputWidth()))
	t.names = trainedTensors(opts.Method, t.concept.Mapper)
	if opts.Method == MethodPPlus {
		if t.pplus, err = newPPlusHead(t.concept); err != nil {
			return nil, err
		}
	}

	if opts.OutputDir != "" {
		if err := os.MkdirAll(opts.OutputDir, 0o755); err != nil {
			return nil, fmt.Errorf("neti: train: output folder: %w", err)
		}
	}
	if opts.ResumeFrom != "" {
		if err := t.resume(); err != nil {
			return nil, err
		}
	} else if err := checkFreshOutput(opts.OutputDir); err != nil {
		return nil, err
	} else if opts.OutputDir != "" {
		if err := keepEarlierRun(opts.OutputDir, opts.OnNote); err != nil {
			return nil, err
		}
	}
	if err := t.loadVariables(); err != nil {
		return nil, err
	}
	if t.adam.m == nil {
		t.adam = newAdamW(t.params)
	}
	t.adam.lr, t.adam.beta1, t.adam.beta2 = opts.effectiveLR(), opts.Beta1, opts.Beta2
	t.adam.eps, t.adam.decay = opts.Epsilon, opts.WeightDecay
	if err := t.encodeImages(); err != nil {
		return nil, err
	}
	if opts.OutputDir != "" {
		if t.log, err = openLossLog(opts.OutputDir, t.step); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// initConcept creates the concept of the method (see MethodNeTI, MethodTI, MethodPPlus).
func (t *trainer) initConcept() (*Concept, error) {
	o := t.opts
	base, err := t.p.InitConcept(o.Placeholder, o.SuperCategory, o.Seed)
	if err != nil {
		return nil, err
	}
	cfg := base.Mapper
	cfg.Bypass = o.Method == MethodNeTI && !o.NoBypass
	cfg.Normalize = o.Normalize
	if o.TargetNorm > 0 {
		cfg.TargetNorm = o.TargetNorm
	}
	if o.Method != MethodNeTI {
		cfg.Normalize = NormalizeNone
	}
	c, err := NewConcept(cfg)
	if err != nil {
		return nil, err
	}
	c.Placeholder, c.SuperCategory, c.BaseModel, c.LayerNames = base.Placeholder, base.SuperCategory, base.BaseModel, base.LayerNames
	c.BaseIdentity = base.BaseIdentity
	if o.Method != MethodNeTI {
		embedding, err := t.p.tokenEmbedding(o.SuperCategory)
		if err != nil {
			return nil, err
		}
		w := c.Weights()
		w["output_layer.0.weight"] = tensors.FromShape(w["output_layer.0.weight"].Shape()) // zeros
		w["output_layer.0.bias"] = tensors.FromFlatDataAndDimensions(embedding, len(embedding))
		if o.Method == MethodPPlus { // W's time column to zero: the features, hence the output, ignore t
			fw := tensors.MustCopyFlatData[float32](w[EncoderWeightName])
			for i := 0; i < len(fw); i += 2 {
				fw[i] = 0
			}
			anchors := make([]float32, w["net.0.weight"].Shape().Size())
			anchorInit(cfg, fw, anchors)
			w[EncoderWeightName] = tensors.FromFlatDataAndDimensions(fw, cfg.NumFourier, 2)
			w["net.0.weight"] = tensors.FromFlatDataAndDimensions(anchors, cfg.InputWidth(), 2*cfg.NumFourier)
		}
		if err := c.SetWeights(w); err != nil {
			return nil, err
		}
	}
	record, err := json.Marshal(trainRecord{Options: o, Files: t.data.Files, EffectiveLR: o.effectiveLR()})
	if err != nil {
		return nil, err
	}
	c.Training = record
	return c, nil
}

// trainRecord is the JSON stored in Concept.Training.
type trainRecord struct {
	Options     TrainOptions `json:"options"`
	Files       []string     `json:"files"`
	EffectiveLR float64      `json:"effective_learning_rate"`
	Steps       int          `json:"steps,omitempty"`
}

// trainedTensors lists the tensors a method trains: the whole mapper but W for NeTI, the output bias
// (the vector) for TI, the output head's weight for P+ (through its vectors: trainpplus.go).
func trainedTensors(method Method, cfg MapperConfig) []string {
	switch method {
	case MethodTI:
		return []string{"output_layer.0.bias"}
	case MethodPPlus:
		return []string{"output_layer.0.weight"}
	}
	var names []string
	for _, p := range cfg.params() {
		names = append(names, p.name)
	}
	return names
}

// tokenEmbedding returns a copy of word's row of the text encoder's token embedding table (float32).
func (p *Pipeline) tokenEmbedding(word string) ([]float32, error) {
	ids := p.tokenizer.TokenIDs(word)
	if len(ids) != 1 {
		return nil, fmt.Errorf("neti: %q is %d tokens: expected one", word, len(ids))
	}
	v := p.ctx.In("text_encoder").In("text_model").In("embeddings").In("token_embedding").InspectVariableInScope("weight")
	if v == nil {
		return nil, errors.New("neti: the text encoder has no token embedding table")
	}
	table, err := v.Value()
	if err != nil {
		return nil, err
	}
	d := table.Shape().Dim(1)
	out := make([]float32, d)
	err = table.ConstFlatData(func(flat any) {
		for i := range d {
			out[i] = float32(floatAt(flat, int(ids[0])*d+i))
		}
	})
	return out, err
}

// captions tokenizes every template with the placeholder and finds its position.
func (t *trainer) captions() error {
	for _, tmpl := range t.opts.templates() {
		text := strings.ReplaceAll(tmpl, "{}", t.opts.Placeholder)
		ids := t.p.tokenizer.Encode(text)
		pos, err := placeholderPositions(ids, []int32{t.placeholder})
		if err != nil {
			return fmt.Errorf("neti: train: caption %q: %w", text, err)
		}
		t.prompts, t.positions = append(t.prompts, ids), append(t.positions, pos[0])
	}
	return nil
}

// loadVariables writes the concept into the mapper's variables, marks the trained ones trainable, and
// reads the trained values into t.params.
func (t *trainer) loadVariables() error {
	if err := t.concept.loadInto(t.mctx, dtypes.Float32); err != nil {
		return err
	}
	trained := make(map[string]bool)
	for _, n := range t.names {
		trained[n] = true
	}
	for name := range expectedShapes(t.concept.Mapper) {
		scope, v := variableScope(t.mctx, name)
		scope.InspectVariableInScope(v).SetTrainable(trained[name])
	}
	w := t.concept.Weights()
	t.params = make([][]float32, len(t.names))
	for i, n := range t.names {
		t.params[i] = tensors.MustCopyFlatData[float32](w[n])
	}
	if t.pplus != nil {
		v := t.pplusResumed
		if v == nil {
			v = t.pplus.vectors(t.params[0])
		}
		t.params, t.pplusResumed = [][]float32{v}, nil
	}
	return nil
}

// close releases the compiled graph and the loss log.
func (t *trainer) close() {
	if t.exec != nil {
		t.exec.Finalize()
	}
	if t.log != nil {
		t.log.close()
	}
}

// run trains up to opts.MaxTrainSteps and returns the concept; checkpoints, the loss log and the final
// file go to OutputDir.
func (t *trainer) run(ctx stdcontext.Context) (*Concept, error) {
	o := t.opts
	start, startStep := time.Now(), t.step
	for t.step < o.MaxTrainSteps {
		loss, err := t.optimizerStep(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil, t.interrupted(ctx, t.checkpoint)
			}
			return nil, err
		}
		t.checkpoint = ""
		if t.log != nil {
			if err := t.log.append(t.step, loss, t.adam.lr); err != nil {
				return nil, err
			}
		}
		var saved string
		if o.OutputDir != "" && o.CheckpointEvery > 0 && t.step%o.CheckpointEvery == 0 {
			if saved, err = t.saveCheckpoint(); err != nil {
				return nil, err
			}
			t.checkpoint = saved
		}
		if o.ValidateEvery > 0 && t.step%o.ValidateEvery == 0 {
			if err := t.validate(ctx); err != nil {
				if ctx.Err() != nil {
					return nil, t.interrupted(ctx, t.checkpoint)
				}
				return nil, err
			}
		}
		if o.OnStep != nil {
			elapsed := time.Since(start).Seconds()
			rate := float64(t.step-startStep) / max(elapsed, 1e-9)
			o.OnStep(TrainProgress{Step: t.step, Total: o.MaxTrainSteps, Loss: loss, StepsPerSecond: rate,
				ETA: float64(o.MaxTrainSteps-t.step) / rate, Checkpoint: saved})
		}
	}
	c, err := t.snapshot()
	if err != nil {
		return nil, err
	}
	if o.OutputDir != "" {
		path := FinalConceptPath(o.OutputDir, o.Placeholder)
		if _, err := os.Stat(path); err == nil && o.OnNote != nil {
			if kept, err := history.Next(path); err == nil {
				o.OnNote(fmt.Sprintf("note: the earlier %s is kept as %s", path, kept))
			}
		}
		if err := SaveConcept(path, c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// snapshot returns a copy of the concept with the current trained weights and the step count recorded.
func (t *trainer) snapshot() (*Concept, error) {
	if err := t.concept.updateFrom(t.mctx); err != nil {
		return nil, err
	}
	src := t.concept
	c := &Concept{Mapper: src.Mapper, Placeholder: src.Placeholder, SuperCategory: src.SuperCategory, Alpha: src.Alpha,
		Truncation: src.Truncation, BaseModel: src.BaseModel, BaseIdentity: src.BaseIdentity, LayerNames: src.LayerNames}
	if err := c.SetWeights(src.Weights()); err != nil {
		return nil, err
	}
	var record trainRecord
	if err := json.Unmarshal(src.Training, &record); err != nil {
		return nil, err
	}
	record.Steps = t.step
	var err error
	c.Training, err = json.Marshal(record)
	return c, err
}

// optimizerStep runs GradientAccumulation micro-batches, averages their gradients and applies AdamW to
// the trained tensors. It returns the mean loss. When ctx is cancelled before the step's last micro-batch,
// the step's random draws are undone and ctx's error returned: the state is that of the step before.
func (t *trainer) optimizerStep(ctx stdcontext.Context) (float64, error) {
	o := t.opts
	var sum [][]float32
	loss := 0.0
	mark, err := t.markDraws()
	if err != nil {
		return 0, err
	}
	for range o.GradientAccumulation {
		if err := ctx.Err(); err != nil {
			if rerr := t.rewind(mark); rerr != nil {
				return 0, rerr
			}
			return 0, err
		}
		l, grads, err := t.microBatch()
		if err != nil {
			return 0, err
		}
		loss += l
		if sum == nil {
			sum = grads
			continue
		}
		for i, g := range grads {
			for j, x := range g {
				sum[i][j] += x
			}
		}
	}
	inv := 1 / float32(o.GradientAccumulation)
	for _, g := range sum {
		for j := range g {
			g[j] *= inv
		}
	}
	if t.pplus != nil { // ∂L/∂W → ∂L/∂V
		sum = [][]float32{t.pplus.gradient(sum[0])}
	}
	t.adam.update(t.params, sum)
	t.step++
	return loss / float64(o.GradientAccumulation), t.storeParams()
}

// storeParams writes t.params into the mapper's variables (P+: the head of its vectors).
func (t *trainer) storeParams() error {
	shapes := expectedShapes(t.concept.Mapper)
	values := t.params
	if t.pplus != nil {
		values = [][]float32{t.pplus.weight(t.params[0])}
	}
	for i, name := range t.names {
		scope, v := variableScope(t.mctx, name)
		value := tensors.FromFlatDataAndDimensions(append([]float32(nil), values[i]...), shapes[name]...)
		if err := scope.InspectVariableInScope(v).SetValue(value); err != nil {
			return err
		}
	}
	return nil
}

// buildExec compiles (once) the micro-batch graph: NeTI conditioning of every (sample, layer) row, the
// UNet with per-layer keys and values, the MSE loss and its gradient with respect to the trained tensors.
func (t *trainer) buildExec() error {
	if t.exec != nil {
		return nil
	}
	cfg := t.concept.Mapper
	alpha := t.concept.Alpha
	layers := t.numLayers
	exec, err := context.NewExec(t.p.backend, t.p.ctx.Reuse(), func(ctx *context.Context, in []*graph.Node) []*graph.Node {
		noisy, target, ts, ids, pos, rowT, rowL, keep := in[0], in[1], in[2], in[3], in[4], in[5], in[6], in[7]
		b, length := ids.Shape().Dim(0), ids.Shape().Dim(1)
		// The conditioning's rows (conditioning.go): row i·layers + ℓ is sample i at layer ℓ.
		idsRows := graph.BroadcastToDims(graph.InsertAxes(ids, 1), b, layers, length) // [B, layers, 77]
		idsRows = graph.Reshape(idsRows, b*layers, length)                            // [B·layers, 77]
		posRows := graph.BroadcastToDims(graph.InsertAxes(pos, 1), b, layers, 1)      // [B, layers, 1]
		posRows = graph.Reshape(posRows, b*layers, 1)                                 // [B·layers, 1]
		slot := mapperSlot{ctx: t.mctx.Reuse(), config: &cfg, alpha: alpha}
		keys, values := conceptConditioning(ctx.In("text_encoder"), t.p.text, idsRows, posRows, rowT, rowL, keep,
			[]mapperSlot{slot}) // [B·layers, 77, D] each
		cond := unet.PerLayer(layerStates(keys, layers), layerStates(values, layers))                  // [B, 77, D] per layer
		pred := unet.Forward(ctx.In("unet"), t.p.unet, graph.ConvertDType(noisy, t.p.dtype), ts, cond) // [B, C, h, w]
		sq := graph.Square(graph.Sub(graph.ConvertDType(pred, dtypes.Float32), target))                // [B, C, h, w]
		loss := graph.ReduceAllMean(sq)
		if t.opts.MaskedLoss {
			loss = maskedMean(sq, in[8])
		}
		nodes := make([]*graph.Node, len(t.names))
		for i, name := range t.names {
			scope, v := variableScope(t.mctx, name)
			nodes[i] = scope.InspectVariableInScope(v).ValueGraph(loss.Graph())
		}
		return append([]*graph.Node{loss}, graph.Gradient(loss, nodes...)...)
	})
	if err != nil {
		return err
	}
	t.exec = exec
	return nil
}

// maskedMean is the masked loss (TrainOptions.MaskedLoss): the mean of sq [B, C, h, w] weighted by weight
// [B, 1, h, w] (broadcast over the channels), Σ w·sq / (C · Σ w).
func maskedMean(sq, weight *graph.Node) *graph.Node {
	channels := float64(sq.Shape().Dim(1))
	return graph.Div(graph.ReduceAllSum(graph.Mul(sq, weight)), graph.MulScalar(graph.ReduceAllSum(weight), channels))
}
