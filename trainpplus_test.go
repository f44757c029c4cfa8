package neti

import (
	"bytes"
	stdcontext "context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/neti/internal/safetensors"
)

// TestPPlusHeadMaps: the head of given vectors reproduces them, and the head's gradient maps back to the
// vectors' (∂L/∂W = Gᵀ·H → G), to float32 precision; dependent features are refused.
func TestPPlusHeadMaps(t *testing.T) {
	const layers, hidden, width = 16, 128, 32
	rng := rand.New(rand.NewPCG(1, 2))
	h := &pplusHead{layers: layers, hidden: hidden, width: width, features: make([]float64, layers*hidden),
		bias: make([]float32, width)}
	for i := range h.features {
		h.features[i] = rng.NormFloat64()
	}
	for i := range h.bias {
		h.bias[i] = float32(rng.NormFloat64())
	}
	var err error
	h.pinv, err = pseudoInverse(h.features, layers, hidden)
	require.NoError(t, err)

	v := make([]float32, layers*width)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	assert.InDeltaSlice(t, v, h.vectors(h.weight(v)), 1e-5, "vectors(weight(V)) = V")

	g := make([]float32, layers*width)
	for i := range g {
		g[i] = float32(rng.NormFloat64())
	}
	gw := make([]float32, width*hidden) // ∂L/∂W[d][j] = Σ_ℓ g_ℓ[d]·h_ℓ[j]
	for d := range width {
		for j := range hidden {
			s := 0.0
			for l := range layers {
				s += float64(g[l*width+d]) * h.features[l*hidden+j]
			}
			gw[d*hidden+j] = float32(s)
		}
	}
	assert.InDeltaSlice(t, g, h.gradient(gw), 1e-4, "gradient(Gᵀ·H) = G")

	copy(h.features[3*hidden:4*hidden], h.features[5*hidden:6*hidden]) // layer 3's features = layer 5's
	_, err = pseudoInverse(h.features, layers, hidden)
	assert.ErrorContains(t, err, "depends on the earlier ones")
	_, err = pseudoInverse(h.features, hidden+1, hidden)
	assert.ErrorContains(t, err, "cannot be independent")
}

// TestTrainPPlusStepSize: P+ updates each layer's vector as TI updates its one vector — AdamW's first step
// moves every element by about the learning rate — and not by the learning rate times the features' sum,
// as training the stored output head directly did.
func TestTrainPPlusStepSize(t *testing.T) {
	p := loadTiny(t)
	images := writeTestImages(t, filepath.Join(t.TempDir(), "images"), 2)
	init, err := p.tokenEmbedding("good")
	require.NoError(t, err)
	opts := tinyTrainOptions("", 1)
	opts.Method, opts.GradientAccumulation, opts.LearningRate = MethodPPlus, 1, 5e-3
	c, err := TrainConcept(stdcontext.Background(), p, []string{images}, opts)
	require.NoError(t, err)
	lr := c.trainedLR(t)
	for l := range c.Mapper.NumLayers {
		word, _, err := c.Embed(0, l)
		require.NoError(t, err)
		moved := 0.0
		for i := range word {
			d := math.Abs(float64(word[i] - init[i]))
			moved = math.Max(moved, d)
		}
		// AdamW's first step: |Δ| = lr·|g|/(|g| + ε) ≤ lr, plus the weight decay lr·λ·|p| (λ = 1e-2) and float32 rounding.
		assert.LessOrEqual(t, moved, lr*1.01+1e-6, "layer %d: largest element step", l)
		assert.Greater(t, moved, lr*0.5, "layer %d: the vector moved", l)
	}
}

// trainedLR is the effective learning rate recorded in the concept's training record.
func (c *Concept) trainedLR(t *testing.T) float64 {
	t.Helper()
	var record trainRecord
	require.NoError(t, json.Unmarshal(c.Training, &record))
	require.Positive(t, record.EffectiveLR)
	return record.EffectiveLR
}

// TestTrainPPlusResume: a P+ run resumed from its checkpoint ends where the straight run ends, bit for bit
// (the vectors are checkpointed with their moments), and a P+ checkpoint without them is refused.
func TestTrainPPlusResume(t *testing.T) {
	p := loadTiny(t)
	dir := t.TempDir()
	images := writeTestImages(t, filepath.Join(dir, "images"), 3)
	ctx := stdcontext.Background()
	options := func(out string, steps int) TrainOptions {
		o := resumeTrainOptions(out, steps)
		o.Method = MethodPPlus
		return o
	}
	ref := filepath.Join(dir, "straight")
	_, err := TrainConcept(ctx, p, []string{images}, options(ref, 4))
	require.NoError(t, err)
	refConcept, refMoments, _ := checkpointFiles(t, filepath.Join(ref, "checkpoint-4"))

	out := filepath.Join(dir, "resumed")
	_, err = TrainConcept(ctx, p, []string{images}, options(out, 2))
	require.NoError(t, err)
	o := options(out, 4)
	o.ResumeFrom = "latest"
	_, err = TrainConcept(ctx, p, []string{images}, o)
	require.NoError(t, err)
	concept, moments, _ := checkpointFiles(t, filepath.Join(out, "checkpoint-4"))
	assert.Equal(t, refConcept, concept, "concept after 2 + 2 resumed steps vs 4 straight")
	assert.True(t, bytes.Equal(refMoments, moments), "vectors and AdamW moments after 2 + 2 resumed steps vs 4 straight")

	// A checkpoint of the earlier P+ (the head trained directly) has no vectors: refused, not restarted.
	old := filepath.Join(dir, "old")
	_, err = TrainConcept(ctx, p, []string{images}, options(old, 2))
	require.NoError(t, err)
	writeStateWithout(t, filepath.Join(old, "checkpoint-2", checkpointTensors), pplusVectorsName)
	o = options(old, 4)
	o.ResumeFrom = "latest"
	_, err = TrainConcept(ctx, p, []string{images}, o)
	assert.ErrorContains(t, err, "a P+ checkpoint of an earlier version")
	_, statErr := os.Stat(filepath.Join(old, "checkpoint-4"))
	assert.True(t, os.IsNotExist(statErr), "nothing trained")
}

// writeStateWithout rewrites a checkpoint's state.safetensors without the tensor drop.
func writeStateWithout(t *testing.T, path, drop string) {
	t.Helper()
	f, err := safetensors.Open(path)
	require.NoError(t, err)
	kept := make(map[string]*tensors.Tensor)
	for _, name := range f.Names() {
		if name == drop {
			continue
		}
		values, dims, err := f.Float32(name)
		require.NoError(t, err)
		kept[name] = tensors.FromFlatDataAndDimensions(values, dims...)
	}
	metadata := f.Metadata()
	require.NoError(t, f.Close())
	require.Len(t, kept, len(f.Names())-1, "%s held %s", path, drop)
	require.NoError(t, safetensors.Write(path, kept, metadata))
}
