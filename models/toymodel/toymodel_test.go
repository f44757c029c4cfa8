package toymodel_test

import (
	stdcontext "context"
	"encoding/json"
	"fmt"
	"image"
	"path/filepath"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/neti"
	"github.com/org/neti/clip"
	"github.com/org/neti/internal/tensortest"
	model "github.com/org/neti/models/toymodel"
	"github.com/org/neti/toyworld"
)

// fixture loads parity/pipeline.safetensors (tools/toyworld/parity.py) and its prompt list.
func fixture(t *testing.T) (map[string]*tensors.Tensor, []string, int, float64) {
	ref, meta := tensortest.LoadFixture(t, filepath.Join(model.Dir(), "parity", "pipeline.safetensors"))
	var prompts []string
	require.NoError(t, json.Unmarshal([]byte(meta["prompts"]), &prompts))
	var steps int
	var guidance float64
	require.NoError(t, json.Unmarshal([]byte(meta["steps"]), &steps))
	require.NoError(t, json.Unmarshal([]byte(meta["guidance"]), &guidance))
	require.NotEmpty(t, prompts)
	return ref, prompts, steps, guidance
}

// TestTokenizerMatchesTransformers: clip.LoadTokenizer on the model's tokenizer folder gives transformers'
// ids for the fixture prompts, and every toy-world word is a single token.
func TestTokenizerMatchesTransformers(t *testing.T) {
	ref, prompts, _, _ := fixture(t)
	tok, err := clip.LoadTokenizer(filepath.Join(model.Dir(), "tokenizer"))
	require.NoError(t, err)
	defer tok.Close()
	for k, p := range prompts {
		want := tensors.MustCopyFlatData[int32](ref[fmt.Sprintf("p%d.ids", k)])
		assert.Equal(t, want, tok.Encode(p), "prompt %q", p)
	}
	for _, w := range toyworld.Vocabulary() {
		ids := tok.Encode(w)
		assert.Equal(t, tok.EOS(), ids[2], "word %q: expected [BOS, word, EOS, ...], got %v", w, ids[:4])
	}
}

// TestGenerateMatchesDiffusers runs the Go pipeline from the fixture's initial latents (DPM-Solver++(2M),
// guidance and steps of the fixture) and compares the 8-bit images with diffusers' float images: only
// rounding to 8 bits may differ. The fixture was computed from the stored float16 weights upcast to
// float32, as the Go loader does, so both sides use identical numbers.
func TestGenerateMatchesDiffusers(t *testing.T) {
	ref, prompts, steps, guidance := fixture(t)
	p, err := neti.LoadPipeline(model.Dir(), neti.LoadOptions{})
	require.NoError(t, err)
	defer p.Close()
	for k, prompt := range prompts {
		imgs, err := p.Generate(stdcontext.Background(), prompt, neti.GenerateOptions{
			Steps: steps, GuidanceScale: guidance, Sampler: "dpm++2m",
			InitialLatents: tensors.MustCopyFlatData[float32](ref[fmt.Sprintf("p%d.latents_init", k)]),
		})
		require.NoError(t, err, prompt)
		require.Len(t, imgs, 1)
		want := tensors.MustCopyFlatData[float32](ref[fmt.Sprintf("p%d.image", k)]) // [1, 64, 64, 3]
		img := imgs[0]
		b := img.Bounds()
		require.Equal(t, 64*64*3, len(want))
		require.Equal(t, image.Rect(0, 0, 64, 64), b)
		worst := 0.0
		for y := range 64 {
			for x := range 64 {
				c := img.RGBAAt(x, y)
				for ch, v := range []uint8{c.R, c.G, c.B} {
					d := float64(v)/255 - float64(want[(y*64+x)*3+ch])
					worst = max(worst, d, -d)
				}
			}
		}
		t.Logf("prompt %q: max |8-bit/255 − diffusers| = %.6f (rounding alone: ≤ %.6f)", prompt, worst, 0.5/255)
		assert.LessOrEqual(t, worst, 0.5/255+1e-4, "prompt %q: 8-bit image vs diffusers' float image", prompt)
	}
}
