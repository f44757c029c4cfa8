package neti

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/org/neti/clip"
)

// Conditioning: how a prompt with concepts becomes the UNet's per-layer keys and values (paper §3; spec
// §5, §7, §13 #5). This file is the runtime between the callers and the paper's graph pieces.
//
// Generation, once per prompt, before the first step:
//
//	Pipeline.Generate (generate.go) → conceptDenoiser (conceptgen.go)
//	→ conditioning: the cached states of the last prompt, else
//	→ encodeConcepts: tokens, placeholder slots (placeholderOccurrences), the (step, layer) rows
//	  (conditioningRows); each concept's mapper on the CPU (Concept.EmbedBatch → mapper.go, ordering.go at
//	  its truncation); the text encoder in chunks of whole steps (conceptEncodeExec → encodeConditioning,
//	  bypass.go → clip); the rows split into steps
//	→ at each step, conceptDenoise (conceptgen.go): layerStates → unet.PerLayer → unet.Forward
//
// Training, inside the step graph, so that the loss reaches the mapper:
//
//	trainer.buildExec (train.go), rows from drawMicroBatch (trainbatch.go: conditioningRows, the drawn
//	truncations)
//	→ conceptConditioning: mapper (mapper.go, ordering.go) → encodeConditioning (bypass.go → clip)
//	→ layerStates → unet.PerLayer → unet.Forward
//
// Rows. Both paths lay the per-layer states out one way: N·L rows, row n·L + ℓ is the pair (t_n, ℓ) — n a
// training sample (each has its own timestep) or a sampling step, ℓ one of the L cross-attention layers:
//
//	mapper inputs t, ℓ    [N·L]          conditioningRows(timesteps [N], L)
//	keys, values          [N·L, 77, D]   encodeConditioning, conceptConditioning
//	layer ℓ's states      [N, 77, D]     layerStates(keys, L)[ℓ]: rows n·L + ℓ, n = 0..N-1
//
// Generation keeps each step's rows apart (step s: rows s·L .. s·L + L-1, [L, 77, D]) and hands the UNet
// one step at a time (N = 1).

// conditioningRows lays out the mapper's inputs for N timesteps at every layer: timesteps [N] → t, l
// [N·layers] with row n·layers + ℓ = (timesteps[n], ℓ).
func conditioningRows[T int | float32](timesteps []T, layers int) (t, l []T) {
	t, l = make([]T, len(timesteps)*layers), make([]T, len(timesteps)*layers)
	for n, ts := range timesteps {
		for layer := range layers {
			t[n*layers+layer], l[n*layers+layer] = ts, T(layer)
		}
	}
	return t, l
}

// layerStates takes the UNet's per-layer states out of rows laid out by conditioningRows: states
// [N·layers, L, D] → layers nodes [N, L, D], node ℓ holding rows n·layers + ℓ (the argument of
// unet.PerLayer).
func layerStates(states *graph.Node, layers int) []*graph.Node {
	dims := states.Shape().Dimensions
	if layers <= 0 || len(dims) != 3 || dims[0]%layers != 0 {
		panic(fmt.Sprintf("neti: layer states: %v cannot be split into %d layers: expected [N·layers, L, D]", dims, layers))
	}
	n := dims[0] / layers
	byLayer := graph.Reshape(states, n, layers, dims[1], dims[2]) // [N, layers, L, D]
	out := make([]*graph.Node, layers)
	for l := range out {
		row := graph.Slice(byLayer, graph.AxisRange(), graph.AxisElem(l)) // [N, 1, L, D]
		out[l] = graph.Reshape(row, n, dims[1], dims[2])                  // [N, L, D]
	}
	return out
}

// mapperSlot is the concept of one placeholder slot in the training graph: the scope of its mapper's
// variables, its configuration and its bypass weight α.
type mapperSlot struct {
	ctx    *context.Context
	config *MapperConfig
	alpha  float64
}

// conceptConditioning is the whole NeTI conditioning in one graph (spec §5, §13 #5), as training runs it:
// every slot's mapper runs on the R rows' (t, ℓ), its word replaces its placeholder's input embedding, the
// text encoder runs once over all rows, and the bypass gives the values. ids [R, L] int32, positions
// [R, P] (P = len(slots)), timesteps and layers [R] float (the mapper's dtype), keep [R, P] int32
// nested-dropout truncations (nil: keep all) → keys, values [R, L, D].
func conceptConditioning(textCtx *context.Context, textCfg *clip.Config, ids, positions, timesteps, layers, keep *graph.Node,
	slots []mapperSlot) (keys, values *graph.Node) {
	if len(slots) == 0 || positions.Shape().Dim(1) != len(slots) {
		panic(fmt.Sprintf("neti: concept conditioning: positions %s for %d concept slots: expected [rows, slots] "+
			"with at least one slot", positions.Shape(), len(slots)))
	}
	var words, bypasses []*graph.Node
	alpha := make([]float64, len(slots))
	anyBypass := false
	for j, s := range slots {
		var k *graph.Node
		if keep != nil {
			k = graph.Slice(keep, graph.AxisRange(), graph.AxisElem(j)) // [R, 1]
			k = graph.Reshape(k, k.Shape().Dim(0))                      // [R]
		}
		word, bypass := mapper(s.ctx, s.config, timesteps, layers, k) // [R, D] each
		if bypass == nil {
			bypass = graph.ZerosLike(word)
		} else {
			anyBypass = true
		}
		words, bypasses, alpha[j] = append(words, word), append(bypasses, bypass), s.alpha
	}
	var bypass *graph.Node
	if anyBypass {
		bypass = graph.Stack(bypasses, 1) // [R, P, D]
	}
	return encodeConditioning(textCtx, textCfg, ids, positions, graph.Stack(words, 1), bypass, alpha) // [R, L, D] each
}

// placeholderID returns the token id of a concept's placeholder, adding it to the tokenizer if needed.
func (p *Pipeline) placeholderID(placeholder string) (int32, error) {
	if ids := p.tokenizer.TokenIDs(placeholder); len(ids) == 1 && int(ids[0]) >= p.tokenizer.VocabSize() {
		return ids[0], nil
	}
	added, err := p.tokenizer.AddTokens(placeholder)
	if err != nil {
		return 0, fmt.Errorf("neti: registering placeholder %q: %w", placeholder, err)
	}
	return added[0], nil
}

// placeholderPositions finds each placeholder id in one caption's token ids: ids [L] → positions [P] (one
// per placeholder, in the order of placeholderIDs). Each placeholder must occur exactly once, as in the
// training captions; prompts for generation may repeat a placeholder (placeholderOccurrences).
func placeholderPositions(ids []int32, placeholderIDs []int32) ([]int32, error) {
	out := make([]int32, len(placeholderIDs))
	for j, id := range placeholderIDs {
		out[j] = -1
		for p, x := range ids {
			if x != id {
				continue
			}
			if out[j] >= 0 {
				return nil, fmt.Errorf("neti: placeholder token id %d occurs at positions %d and %d of the prompt: "+
					"expected exactly once", id, out[j], p)
			}
			out[j] = int32(p)
		}
		if out[j] < 0 {
			return nil, fmt.Errorf("neti: placeholder token id %d is not in the prompt's %d tokens (truncated, or "+
				"the placeholder is missing): expected exactly once", id, len(ids))
		}
	}
	return out, nil
}

// placeholderOccurrences finds every occurrence of each placeholder id in one prompt's token ids, as the
// original NeTI injects a concept's word embedding and textual bypass wherever its placeholder token is
// ("a <c> next to a <c>" has two slots of one concept). ids [L] → positions [S] and owners [S]: slot s is
// at token positions[s] and belongs to placeholderIDs[owners[s]]; slots are ordered by placeholder, then
// by position. Each placeholder must occur at least once.
func placeholderOccurrences(ids []int32, placeholderIDs []int32) (positions []int32, owners []int, err error) {
	for j, id := range placeholderIDs {
		found := false
		for p, x := range ids {
			if x == id {
				positions, owners, found = append(positions, int32(p)), append(owners, j), true
			}
		}
		if !found {
			return nil, nil, fmt.Errorf("neti: placeholder token id %d is not in the prompt's %d tokens (truncated, "+
				"or the placeholder is missing): expected at least once", id, len(ids))
		}
	}
	return positions, owners, nil
}

// promptConditioning is the NeTI conditioning of one prompt at inference: keys and values [layers, 77, D]
// of each sampler step, with the key of what it was computed from.
type promptConditioning struct {
	key          string
	keys, values []*tensors.Tensor
}

// conditioning returns the per-step states of prompt with plan's concepts at the sampler's timesteps
// (rounded to integers for the mapper): from the pipeline's one-entry cache when the prompt, concepts
// (weights included), truncations and timesteps are those of the previous call, so that further seeds or
// images of a prompt cost no text-encoder work, as the original computes them once per prompt (spec §7).
func (p *Pipeline) conditioning(prompt string, plan *conceptPlan, timesteps []float64) (*promptConditioning, error) {
	ts := make([]int, len(timesteps))
	for i, t := range timesteps {
		ts[i] = int(math.Round(t))
	}
	var key strings.Builder
	fmt.Fprintf(&key, "%q %v %v", prompt, ts, plan.truncations)
	for _, c := range plan.concepts {
		fmt.Fprintf(&key, " %s", c.fingerprint())
	}
	if p.conceptCache != nil && p.conceptCache.key == key.String() {
		return p.conceptCache, nil
	}
	p.conceptCache = nil // release the previous states before computing new ones
	keys, values, err := p.encodeConcepts(prompt, plan.concepts, ts, plan.truncations)
	if err != nil {
		return nil, err
	}
	p.conceptCache = &promptConditioning{key: key.String(), keys: keys, values: values}
	return p.conceptCache, nil
}

// fingerprint identifies everything of c that its conditioning depends on: placeholder, α, mapper
// configuration and a 64-bit FNV-1a hash of the weights.
func (c *Concept) fingerprint() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := fnv.New64a()
	for _, name := range slices.Sorted(maps.Keys(c.weights)) {
		w := c.weights[name]
		buf := make([]byte, len(name), len(name)+4*len(w))
		copy(buf, name)
		for _, v := range w {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		}
		h.Write(buf)
	}
	return fmt.Sprintf("%q/%v/%+v/%x", c.Placeholder, c.Alpha, c.Mapper, h.Sum64())
}

// conceptChunk bounds the rows encodeConcepts runs through the text encoder at a time (the activations'
// memory): chunks hold whole steps (a multiple of the number of layers L), max(L, 64 rounded down to a
// multiple of L) rows; the last one holds the remaining steps, so a few graphs serve every step count.
const conceptChunk = 64

// encodeConcepts computes the conditioning of prompt with concept j at truncation truncations[j], for
// each of the sampler's timesteps (integers 0..NumTimesteps-1): keys and values [L, 77, D] of each step,
// in the pipeline's dtype, row ℓ being cross-attention layer ℓ (L layers). Each concept's placeholder must
// occur in the prompt, once or more (every occurrence gets the concept's word and bypass, as in the
// original); it is added to the tokenizer if it is not a token yet. The mappers run on the CPU
// (Concept.EmbedBatch, all rows in one call); the text encoder runs batched on the pipeline's backend,
// about conceptChunk rows (whole steps) at a time.
func (p *Pipeline) encodeConcepts(prompt string, concepts []*Concept, timesteps, truncations []int) (
	keys, values []*tensors.Tensor, err error) {
	if len(concepts) == 0 || len(timesteps) == 0 {
		return nil, nil, fmt.Errorf("neti: encode concepts: %d concepts and %d timesteps: expected at least one of each",
			len(concepts), len(timesteps))
	}
	layers := len(p.unet.CrossAttentionLayers())
	placeholders := make([]int32, len(concepts))
	for j, c := range concepts {
		if err := p.fitsModel(c); err != nil { // the base model's identity is the caller's to check
			return nil, nil, err
		}
		if placeholders[j], err = p.placeholderID(c.Placeholder); err != nil {
			return nil, nil, err
		}
	}
	ids := p.tokenizer.Encode(prompt) // [77], after the placeholders are registered
	positions, owners, err := placeholderOccurrences(ids, placeholders)
	if err != nil {
		return nil, nil, fmt.Errorf("neti: encode concepts: prompt %q: %w", prompt, err)
	}

	// Mapper outputs of every row and slot, [rows, S, D] (rows = steps·L, conditioningRows' order); a
	// concept's outputs go to each of its slots (a placeholder used twice has two slots with the same word
	// and bypass).
	ts, ls := conditioningRows(timesteps, layers) // [rows] each
	rows, d, np := len(ts), p.text.HiddenSize, len(positions)
	words, bypass := make([]float32, rows*np*d), make([]float32, rows*np*d)
	alpha := make([]float64, np)
	anyBypass := false
	for j, c := range concepts {
		w, b, err := c.EmbedBatch(ts, ls, truncations[j]) // [rows·D] each
		if err != nil {
			return nil, nil, err
		}
		for s, owner := range owners {
			if owner != j {
				continue
			}
			for r := range rows {
				copy(words[(r*np+s)*d:(r*np+s+1)*d], w[r*d:(r+1)*d])
				if b != nil {
					copy(bypass[(r*np+s)*d:(r*np+s+1)*d], b[r*d:(r+1)*d])
				}
			}
			alpha[s] = c.Alpha
		}
		anyBypass = anyBypass || b != nil
	}

	exec, err := p.conceptEncodeExec(alpha, anyBypass)
	if err != nil {
		return nil, nil, err
	}
	idsT := tensors.FromFlatDataAndDimensions(ids, 1, len(ids)) // [1, 77]
	posT := tensors.FromFlatDataAndDimensions(positions, 1, np) // [1, S]
	chunk := max(layers, conceptChunk/layers*layers)
	for start := 0; start < rows; start += chunk {
		size := min(chunk, rows-start)
		span, end := start*np*d, (start+size)*np*d
		out, err := exec.Exec(idsT, posT, tensors.FromFlatDataAndDimensions(words[span:end], size, np, d),
			tensors.FromFlatDataAndDimensions(bypass[span:end], size, np, d)) // keys, values [size, 77, D]
		if err != nil {
			return nil, nil, err
		}
		k, err := splitRows(out[0], layers) // size/L steps of [L, 77, D]
		if err != nil {
			return nil, nil, err
		}
		v, err := splitRows(out[1], layers)
		if err != nil {
			return nil, nil, err
		}
		keys, values = append(keys, k...), append(values, v...)
	}
	if len(keys) != len(timesteps) {
		return nil, nil, fmt.Errorf("neti: encode concepts: %d steps of states for %d timesteps", len(keys), len(timesteps))
	}
	return keys, values, nil
}

// conceptEncodeExec returns (building it once per pipeline) the text-encoder graph of encodeConcepts for
// concepts with bypass weights alpha (constants of the graph; no bypass at all if !anyBypass). Its inputs
// are ids [1, 77], positions [1, S] and words, bypass [chunk, S, D]; it returns keys and values
// [chunk, 77, D].
func (p *Pipeline) conceptEncodeExec(alpha []float64, anyBypass bool) (*context.Exec, error) {
	key := fmt.Sprint(alpha, anyBypass)
	if e := p.conceptEncodeExecs[key]; e != nil {
		return e, nil
	}
	np := len(alpha)
	exec, err := context.NewExec(p.backend, p.ctx.Reuse(), func(ctx *context.Context, in []*graph.Node) []*graph.Node {
		idsRow, pos, w, b := in[0], in[1], in[2], in[3] // [1, 77], [1, S], [chunk, S, D] × 2
		n := w.Shape().Dim(0)
		idsAll := graph.BroadcastToDims(idsRow, n, idsRow.Shape().Dim(1)) // [chunk, 77]
		posAll := graph.BroadcastToDims(pos, n, np)                       // [chunk, S]
		if !anyBypass {
			b = nil
		}
		k, v := encodeConditioning(ctx.In("text_encoder"), p.text, idsAll, posAll, w, b, alpha) // [chunk, 77, D] each
		return []*graph.Node{k, v}
	})
	if err != nil {
		return nil, err
	}
	if p.conceptEncodeExecs == nil {
		p.conceptEncodeExecs = make(map[string]*context.Exec)
	}
	p.conceptEncodeExecs[key] = exec
	return exec, nil
}

// splitRows splits t [S·rows, ...] along axis 0 into S tensors [rows, ...] (host copies, any dtype).
func splitRows(t *tensors.Tensor, rows int) ([]*tensors.Tensor, error) {
	dims := t.Shape().Dimensions
	if rows <= 0 || dims[0]%rows != 0 {
		return nil, fmt.Errorf("neti: splitting %v into blocks of %d rows", dims, rows)
	}
	partDims := append([]int{rows}, dims[1:]...)
	parts := make([]*tensors.Tensor, dims[0]/rows)
	var err error
	readErr := t.ConstBytes(func(src []byte) {
		size := len(src) / len(parts)
		for i := range parts {
			parts[i] = tensors.FromShape(shapes.Make(t.DType(), partDims...))
			if e := parts[i].MutableBytes(func(dst []byte) { copy(dst, src[i*size:(i+1)*size]) }); e != nil {
				err = e
			}
		}
	})
	if readErr != nil {
		return nil, readErr
	}
	return parts, err
}
