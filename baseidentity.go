package neti

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
)

// ModelIdentity identifies the base model of a concept as far as the concept depends on it: the text
// encoder, whose token-embedding space the mapper's words live in. It is cheap (no file is hashed: an
// architecture digest and 16 numbers of the loaded token-embedding table) and stable across precisions
// (a model loaded as float32, float16 or bfloat16 has one identity). Two models with the same text
// encoder (SD 1.4, SD 1.5 and fine-tunes that froze CLIP) share it, as their textual-inversion
// embeddings are shared; SD 2.x, or a fine-tune that retrained the text encoder, has another.
type ModelIdentity struct {
	// TextEncoder is a SHA-256 digest (16 bytes, hex) of the text encoder's architecture: vocabulary size,
	// width, layers, heads, MLP width, activation, positions and the tokenizer's vocabulary size.
	TextEncoder string `json:"text_encoder"`
	// TokenProbe holds the first 8 values of the token-embedding rows 0 and vocab_size-1 (the end token),
	// compared with a relative tolerance of 1 %.
	TokenProbe []float32 `json:"token_embedding_probe"`
}

// probeWidth is the number of values TokenProbe takes from each of its two rows.
const probeWidth = 8

// probeTolerance is the relative tolerance of TokenProbe's comparison: bfloat16 keeps 8 significant bits
// (0.4 %), while another model's embeddings differ entirely.
const probeTolerance = 0.01

// Identity returns the ModelIdentity of the loaded model (computed once).
func (p *Pipeline) Identity() (*ModelIdentity, error) {
	if err := p.usable("identity"); err != nil {
		return nil, err
	}
	if p.identity != nil {
		return p.identity, nil
	}
	t := p.text
	arch := fmt.Sprintf("clip-text vocab=%d width=%d layers=%d heads=%d mlp=%d act=%s positions=%d tokenizer=%d",
		t.VocabSize, t.HiddenSize, t.NumHiddenLayers, t.NumAttentionHeads, t.IntermediateSize, t.HiddenAct,
		t.MaxPositionEmbeddings, p.tokenizer.VocabSize())
	sum := sha256.Sum256([]byte(arch))
	v := p.ctx.In("text_encoder").In("text_model").In("embeddings").In("token_embedding").InspectVariableInScope("weight")
	if v == nil {
		return nil, errors.New("neti: identity: the text encoder has no token embedding table")
	}
	table, err := v.Value()
	if err != nil {
		return nil, err
	}
	rows, d := table.Shape().Dim(0), table.Shape().Dim(1)
	probe := make([]float32, 0, 2*probeWidth)
	err = table.ConstFlatData(func(flat any) {
		for _, row := range []int{0, rows - 1} {
			for i := range min(probeWidth, d) {
				probe = append(probe, float32(floatAt(flat, row*d+i)))
			}
		}
	})
	if err != nil {
		return nil, err
	}
	p.identity = &ModelIdentity{TextEncoder: hex.EncodeToString(sum[:16]), TokenProbe: probe}
	return p.identity, nil
}

// differs says how identity b differs from a: "" when they are the same model's.
func (a *ModelIdentity) differs(b *ModelIdentity) string {
	if a.TextEncoder != b.TextEncoder {
		return fmt.Sprintf("another text-encoder architecture (digest %s, this model's %s)", a.TextEncoder, b.TextEncoder)
	}
	if len(a.TokenProbe) != len(b.TokenProbe) {
		return fmt.Sprintf("another token-embedding probe (%d values, this model's %d)", len(a.TokenProbe), len(b.TokenProbe))
	}
	for i, x := range a.TokenProbe {
		y := b.TokenProbe[i]
		if !(math.Abs(float64(x-y)) <= probeTolerance*math.Max(math.Abs(float64(x)), math.Abs(float64(y)))+1e-6) { // NaN differs
			return fmt.Sprintf("the same text-encoder architecture with other weights (token-embedding probe value "+
				"%d is %.6g, this model's %.6g)", i, x, y)
		}
	}
	return ""
}

// checkBase compares the base model recorded in c with this pipeline's model. It returns a note for a
// concept that records none (an older file), an error when they differ, and nothing when they match.
func (p *Pipeline) checkBase(c *Concept) (note string, err error) {
	mine, err := p.Identity()
	if err != nil {
		return "", err
	}
	made := c.BaseModel
	if made == "" {
		made = "an unrecorded model"
	}
	if c.BaseIdentity == nil {
		return fmt.Sprintf("concept %q records no base-model identity (made by an older neti, for %s): only its "+
			"text-encoder width and layers are checked against %s", c.Placeholder, made, p.Dir), nil
	}
	if why := c.BaseIdentity.differs(mine); why != "" {
		return "", fmt.Errorf("neti: concept %q was trained on %s, and %s is another base model: %s. Its words "+
			"belong to that model's text encoder (an equal width is a coincidence) and would not mean the concept "+
			"here: train the concept on this model, or use it anyway with GenerateOptions.AllowOtherBaseModel "+
			"(neti generate --allow_other_base_model)", c.Placeholder, made, p.Dir, why)
	}
	return "", nil
}
