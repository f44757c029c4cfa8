package neti

import (
	"fmt"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/org/neti/clip"
)

// DefaultBypassAlpha is the weight α of the textual bypass (the original hard-codes 0.2; spec §5.2, §13 #4).
const DefaultBypassAlpha = 0.2

// The conditioning graph works on R rows, one per (prompt, t, ℓ) combination the caller wants states for
// (e.g. 16 layers × B samples in training, 50 steps × 16 layers for one prompt at inference). Each row
// holds P placeholders (P ≥ 1), each with its own concept: positions [R, P] int32 is the token position of
// placeholder j in row r, or -1 where the row has no such placeholder (its states are then those of plain
// CLIP at that slot).

// placeholderOneHot returns the one-hot positions [R, P, L] (dtype) of positions [R, P] over length L;
// -1 (or any position outside 0..L-1) gives a zero row.
func placeholderOneHot(positions *graph.Node, length int, dtype dtypes.DType) *graph.Node {
	positions.AssertRank(2)
	return graph.OneHot(graph.ConvertDType(positions, dtypes.Int32), length, dtype)
}

// InjectWords replaces the input token embeddings of the placeholders by the mappers' word outputs
// (spec §5.1): tokenEmbeds [R, L, D] (clip.TokenEmbeddings), positions [R, P], words [R, P, D] → [R, L, D].
// Other positions are passed through exactly.
func InjectWords(tokenEmbeds, positions, words *graph.Node) *graph.Node {
	tokenEmbeds.AssertRank(3)
	words.AssertRank(3)
	onehot := placeholderOneHot(positions, tokenEmbeds.Shape().Dim(1), tokenEmbeds.DType()) // [R, P, L]
	hit := graph.ReduceSum(onehot, 1)                                                       // [R, L]: 1 at placeholders
	// The condition [R, L] is a prefix of [R, L, D]: Where broadcasts it over D.
	kept := graph.Where(graph.GreaterThan(hit, graph.ScalarZero(hit.Graph(), hit.DType())),
		graph.ZerosLike(tokenEmbeds), tokenEmbeds) // [R, L, D]
	// Σ_j onehot[r, j, l] · words[r, j, :] → [R, L, D]
	return graph.Add(kept, graph.Einsum("rjl,rjd->rld", onehot, words))
}

// TextualBypass applies NeTI's textual bypass (paper §3.3; spec §5.2) to the encoder's last states before
// the final layer norm: for each placeholder j at p with state h = H[p] and bypass vector b,
// h′ = h + α_j · b/‖b‖ · ‖h‖. states [R, L, D], positions [R, P], bypass [R, P, D], alpha one weight per
// placeholder (len P) → [R, L, D], equal to states except at the placeholders. A zero bypass vector (a
// concept without bypass) or position -1 leaves the row unchanged.
func TextualBypass(states, positions, bypass *graph.Node, alpha []float64) *graph.Node {
	states.AssertRank(3)
	bypass.AssertRank(3)
	p := positions.Shape().Dim(1)
	if len(alpha) != p || bypass.Shape().Dim(1) != p {
		panic(fmt.Sprintf("neti.TextualBypass: %d placeholder positions, %d bypass vectors and %d alphas: expected "+
			"one of each per placeholder", p, bypass.Shape().Dim(1), len(alpha)))
	}
	dtype := states.DType()
	work := states
	if dtype == dtypes.Float16 || dtype == dtypes.BFloat16 { // norms in float32; the round trip is exact
		work = graph.ConvertDType(states, dtypes.Float32)
	}
	wt := work.DType()
	onehot := placeholderOneHot(positions, states.Shape().Dim(1), wt) // [R, P, L]
	h := graph.Einsum("rjl,rld->rjd", onehot, work)                   // [R, P, D]: H at each placeholder
	hNorm := safeNorm(h)                                              // [R, P, 1]
	unit := graph.L2Normalize(graph.ConvertDType(bypass, wt), -1)     // [R, P, D]; zero stays zero
	weights := graph.Reshape(graph.ConvertDType(graph.Const(states.Graph(), alpha), wt), 1, p, 1)
	delta := graph.Mul(graph.Mul(unit, hNorm), weights)                 // [R, P, D]: α·b̂
	out := graph.Add(work, graph.Einsum("rjl,rjd->rld", onehot, delta)) // [R, L, D]
	return graph.ConvertDType(out, dtype)
}

// safeNorm is ‖x‖ over the last axis, kept as an axis of size 1, with a zero (not NaN) gradient where
// x is all zeros (empty placeholder slots).
func safeNorm(x *graph.Node) *graph.Node {
	sq := graph.ReduceAndKeep(graph.Square(x), graph.ReduceSum, -1)
	empty := graph.IsZero(sq)
	root := graph.Sqrt(graph.Where(empty, graph.OnesLike(sq), sq))
	return graph.Where(empty, graph.ZerosLike(sq), root)
}

// EncodeConditioning runs the text encoder with the placeholders' word embeddings injected and returns the
// cross-attention keys and values states of each row (spec §5.1–5.2): ids [R, L] int32, positions [R, P],
// words [R, P, D]; bypass [R, P, D] with alpha (len P), or nil for no bypass. keys = FinalNorm(H) and
// values = FinalNorm(TextualBypass(H)), both [R, L, D]; without bypass values is keys. textCtx is the text
// encoder's component scope (the one holding text_model).
func EncodeConditioning(textCtx *context.Context, textCfg *clip.Config, ids, positions, words, bypass *graph.Node,
	alpha []float64) (keys, values *graph.Node) {
	tokens := clip.TokenEmbeddings(textCtx, textCfg, ids)                              // [R, L, D]
	tokens = InjectWords(tokens, positions, graph.ConvertDType(words, tokens.DType())) // [R, L, D]
	last, _ := clip.Encoder(textCtx, textCfg, clip.Embeddings(textCtx, textCfg, tokens), clip.EncoderOptions{})
	keys = clip.FinalNorm(textCtx, textCfg, last) // [R, L, D]
	if bypass == nil {
		return keys, keys
	}
	bypassed := TextualBypass(last, positions, graph.ConvertDType(bypass, last.DType()), alpha)
	return keys, clip.FinalNorm(textCtx, textCfg, bypassed)
}

// MapperSlot is the concept of one placeholder slot in a conditioning graph: the scope of its mapper's
// variables, its configuration and its bypass weight α.
type MapperSlot struct {
	Ctx    *context.Context
	Config *MapperConfig
	Alpha  float64
}

// ConceptConditioning is the whole NeTI conditioning in one batched graph (spec §5, §13 #5): every slot's
// mapper runs on the R (t, ℓ) pairs, its word output replaces its placeholder's input embedding, the text
// encoder runs once over all R rows, and the bypass gives the values. ids [R, L] int32, positions [R, P]
// (P = len(slots)), timesteps and layers [R] float (the mapper's dtype), keep [R, P] int32 nested-dropout
// truncations (nil: keep all) → keys, values [R, L, D]. Use SplitLayers to hand them to unet.PerLayer.
func ConceptConditioning(textCtx *context.Context, textCfg *clip.Config, ids, positions, timesteps, layers, keep *graph.Node,
	slots []MapperSlot) (keys, values *graph.Node) {
	if len(slots) == 0 || positions.Shape().Dim(1) != len(slots) {
		panic(fmt.Sprintf("neti.ConceptConditioning: positions %s for %d concept slots: expected [rows, slots] with "+
			"at least one slot", positions.Shape(), len(slots)))
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
		word, bypass := Mapper(s.Ctx, s.Config, timesteps, layers, k) // [R, D] each
		if bypass == nil {
			bypass = graph.ZerosLike(word)
		} else {
			anyBypass = true
		}
		words, bypasses, alpha[j] = append(words, word), append(bypasses, bypass), s.Alpha
	}
	var bypass *graph.Node
	if anyBypass {
		bypass = graph.Stack(bypasses, 1) // [R, P, D]
	}
	return EncodeConditioning(textCtx, textCfg, ids, positions, graph.Stack(words, 1), bypass, alpha)
}

// SplitLayers splits states [numLayers·B, L, D] whose rows are layer-major (row ℓ·B + b is sample b at
// layer ℓ, as LayerMajorRows lays them out) into numLayers nodes [B, L, D], the argument of unet.PerLayer.
func SplitLayers(states *graph.Node, numLayers int) []*graph.Node {
	rows := states.Shape().Dim(0)
	if numLayers <= 0 || rows%numLayers != 0 {
		panic(fmt.Sprintf("neti.SplitLayers: %d rows cannot be split into %d layers", rows, numLayers))
	}
	b := rows / numLayers
	out := make([]*graph.Node, numLayers)
	for l := range out {
		out[l] = graph.Slice(states, graph.AxisRange(l*b, (l+1)*b)) // [B, L, D]
	}
	return out
}

// LayerMajorRows lays out the (t, ℓ) inputs of B samples at every layer: timesteps [B] (one per sample,
// shared by its layers as in training, spec §2.2) → t, l [numLayers·B] with row ℓ·B + b = (timesteps[b], ℓ).
func LayerMajorRows(timesteps []float32, numLayers int) (t, l []float32) {
	b := len(timesteps)
	t, l = make([]float32, numLayers*b), make([]float32, numLayers*b)
	for layer := range numLayers {
		for i, ts := range timesteps {
			t[layer*b+i], l[layer*b+i] = ts, float32(layer)
		}
	}
	return t, l
}

// PlaceholderPositions finds each placeholder id in one prompt's token ids: ids [L] → positions [P] (one
// per placeholder, in the order of placeholderIDs). Each placeholder must occur exactly once, as in the
// training captions; prompts for generation may repeat a placeholder (PlaceholderOccurrences).
func PlaceholderPositions(ids []int32, placeholderIDs []int32) ([]int32, error) {
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

// PlaceholderOccurrences finds every occurrence of each placeholder id in one prompt's token ids, as the
// original NeTI injects a concept's word embedding and textual bypass wherever its placeholder token is
// ("a <c> next to a <c>" has two slots of one concept). ids [L] → positions [S] and owners [S]: slot s is
// at token positions[s] and belongs to placeholderIDs[owners[s]]; slots are ordered by placeholder, then
// by position. Each placeholder must occur at least once.
func PlaceholderOccurrences(ids []int32, placeholderIDs []int32) (positions []int32, owners []int, err error) {
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

// conceptChunk bounds the rows EncodeConcepts runs through the text encoder at a time (the activations'
// memory): chunks hold whole steps (a multiple of the number of layers L), max(L, 64 rounded down to a
// multiple of L) rows; the last one holds the remaining steps, so a few graphs serve every step count.
const conceptChunk = 64

// EncodeConcepts computes the NeTI conditioning of prompt for sampling (spec §5, §7, §13 #5): for each
// timestep of the sampler and each cross-attention layer, the keys and values states of the prompt with
// every concept's placeholder replaced by its mapper's word (at the concept's Truncation) and its bypass
// applied. It returns keys and values [len(timesteps)·L, 77, D] in the pipeline's dtype, step-major: row
// s·L + ℓ is step s at layer ℓ (L = number of cross-attention layers).
//
// Each concept's placeholder must occur in the prompt, once or more (every occurrence gets the concept's
// word and bypass, as in the original); it is added to the tokenizer if it is not a token yet. The mappers run on the CPU (Concept.EmbedBatch, all rows in one call); the text encoder
// runs batched on the pipeline's backend, about conceptChunk rows (whole steps) at a time.
func (p *Pipeline) EncodeConcepts(prompt string, concepts []*Concept, timesteps []int) (keys, values *tensors.Tensor, err error) {
	defer recoverError("encode concepts", &err)
	if err := p.usable("encode concepts"); err != nil {
		return nil, nil, err
	}
	truncations := make([]int, len(concepts))
	for j, c := range concepts {
		if c == nil {
			return nil, nil, fmt.Errorf("neti: encode concepts: concept %d is nil", j)
		}
		if err := p.CheckConcept(c); err != nil {
			return nil, nil, err
		}
		truncations[j] = c.Truncation
	}
	keyParts, valueParts, rows, err := p.encodeConcepts(prompt, concepts, timesteps, truncations)
	if err != nil {
		return nil, nil, err
	}
	if keys, err = concatRows(keyParts, rows); err != nil {
		return nil, nil, err
	}
	values, err = concatRows(valueParts, rows)
	return keys, values, err
}

// encodeConcepts is EncodeConcepts with concept j at truncation truncations[j], returning the encoder's
// chunks of keys and values ([chunk, 77, D] each, whole steps: chunk is a multiple of the number of layers)
// and the number of rows, len(timesteps)·layers; their concatenation is EncodeConcepts' result.
func (p *Pipeline) encodeConcepts(prompt string, concepts []*Concept, timesteps, truncations []int) (keyParts, valueParts []*tensors.Tensor, rows int, err error) {
	if len(concepts) == 0 || len(timesteps) == 0 {
		return nil, nil, 0, fmt.Errorf("neti: encode concepts: %d concepts and %d timesteps: expected at least one of each",
			len(concepts), len(timesteps))
	}
	layers := len(p.unet.CrossAttentionLayers())
	placeholders := make([]int32, len(concepts))
	for j, c := range concepts {
		if err := p.fitsModel(c); err != nil { // the base model's identity is the caller's to check
			return nil, nil, 0, err
		}
		if placeholders[j], err = p.placeholderID(c.Placeholder); err != nil {
			return nil, nil, 0, err
		}
	}
	ids := p.tokenizer.Encode(prompt) // [77], after the placeholders are registered
	positions, owners, err := PlaceholderOccurrences(ids, placeholders)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("neti: encode concepts: prompt %q: %w", prompt, err)
	}

	// Mapper outputs of every row and slot, [rows, S, D], step-major; a concept's outputs go to each of its
	// slots (a placeholder used twice has two slots with the same word and bypass).
	rows = len(timesteps) * layers
	chunk := max(layers, conceptChunk/layers*layers)
	ts, ls := make([]int, rows), make([]int, rows)
	for r := range rows {
		ts[r], ls[r] = timesteps[r/layers], r%layers
	}
	d, np := p.text.HiddenSize, len(positions)
	words, bypass := make([]float32, rows*np*d), make([]float32, rows*np*d)
	alpha := make([]float64, np)
	anyBypass := false
	for j, c := range concepts {
		w, b, err := c.EmbedBatch(ts, ls, truncations[j])
		if err != nil {
			return nil, nil, 0, err
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
		return nil, nil, 0, err
	}
	idsT := tensors.FromFlatDataAndDimensions(ids, 1, len(ids))
	posT := tensors.FromFlatDataAndDimensions(positions, 1, np)
	for start := 0; start < rows; start += chunk {
		size := min(chunk, rows-start)
		span := start * np * d
		end := (start + size) * np * d
		out, err := exec.Exec(idsT, posT, tensors.FromFlatDataAndDimensions(words[span:end], size, np, d),
			tensors.FromFlatDataAndDimensions(bypass[span:end], size, np, d))
		if err != nil {
			return nil, nil, 0, err
		}
		keyParts, valueParts = append(keyParts, out[0]), append(valueParts, out[1])
	}
	return keyParts, valueParts, rows, nil
}

// conceptEncodeExec returns (building it once per pipeline) the text-encoder graph of EncodeConcepts for
// concepts with bypass weights alpha (constants of the graph; no bypass at all if !anyBypass). Its inputs
// are ids [1, 77], positions [1, P] and words, bypass [chunk, P, D]; it returns keys and values
// [chunk, 77, D].
func (p *Pipeline) conceptEncodeExec(alpha []float64, anyBypass bool) (*context.Exec, error) {
	key := fmt.Sprint(alpha, anyBypass)
	if e := p.conceptEncodeExecs[key]; e != nil {
		return e, nil
	}
	np := len(alpha)
	exec, err := context.NewExec(p.backend, p.ctx.Reuse(), func(ctx *context.Context, in []*graph.Node) []*graph.Node {
		idsRow, pos, w, b := in[0], in[1], in[2], in[3] // [1, 77], [1, P], [chunk, P, D] × 2
		n := w.Shape().Dim(0)
		idsAll := graph.BroadcastToDims(idsRow, n, idsRow.Shape().Dim(1)) // [chunk, 77]
		posAll := graph.BroadcastToDims(pos, n, np)                       // [chunk, P]
		if !anyBypass {
			b = nil
		}
		k, v := EncodeConditioning(ctx.In("text_encoder"), p.text, idsAll, posAll, w, b, alpha)
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

// concatRows concatenates [chunk, ...] tensors along axis 0 and keeps the first rows rows.
func concatRows(parts []*tensors.Tensor, rows int) (*tensors.Tensor, error) {
	dims := append([]int{rows}, parts[0].Shape().Dimensions[1:]...)
	out := tensors.FromShape(shapes.Make(parts[0].DType(), dims...))
	var err error
	outErr := out.MutableBytes(func(dst []byte) {
		offset := 0
		for _, part := range parts {
			if e := part.ConstBytes(func(src []byte) { offset += copy(dst[offset:], src) }); e != nil {
				err = e
			}
		}
	})
	if outErr != nil {
		return nil, outErr
	}
	return out, err
}
