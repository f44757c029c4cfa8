package vae

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/stretchr/testify/require"

	"github.com/org/neti/internal/safetensors"
	"github.com/org/neti/internal/tensortest"
)

// referencePath is the diffusers reference output of a tiny model's VAE (tools/reference/).
func referencePath(model string) string {
	return filepath.Join(repoRoot, "testdata", "reference", model, "vae.safetensors")
}

// runVAE encodes images and decodes latents with the weights in ctx; it returns mean, logvar and decoded.
func runVAE(t *testing.T, cfg Config, ctx *context.Context, images, latents *tensors.Tensor) []*tensors.Tensor {
	t.Helper()
	be := newBackend(t)
	enc, err := context.NewExec(be, ctx.In("vae").Reuse(), func(ctx *context.Context, images *graph.Node) []*graph.Node {
		mean, logvar := Encode(ctx, cfg, images)
		return []*graph.Node{mean, logvar}
	})
	require.NoError(t, err)
	encoded, err := enc.Exec(images)
	require.NoError(t, err)
	dec, err := context.NewExec(be, ctx.In("vae").Reuse(), func(ctx *context.Context, latents *graph.Node) *graph.Node {
		return Decode(ctx, cfg, latents)
	})
	require.NoError(t, err)
	decoded, err := dec.Exec(latents)
	require.NoError(t, err)
	return append(encoded, decoded...)
}

// TestParity compares Encode and Decode of the tiny models with diffusers' AutoencoderKL.
func TestParity(t *testing.T) {
	for _, model := range []string{"tiny-sd1", "tiny-sd2"} {
		t.Run(model, func(t *testing.T) {
			cfg, ctx := loadTiny(t, model)
			numWeights := ctx.NumVariables()
			ref, _ := tensortest.LoadFixture(t, referencePath(model))
			out := runVAE(t, cfg, ctx, ref["image"], ref["latents"])
			checkClose(t, ref["latent_mean"], out[0], model+" latent_mean")
			checkClose(t, ref["latent_logvar"], out[1], model+" latent_logvar")
			checkClose(t, ref["decoded"], out[2], model+" decoded")

			sample, err := graph.NewExec(newBackend(t), Sample)
			require.NoError(t, err)
			sampled, err := sample.Exec(out[0], out[1], ref["posterior_noise"])
			require.NoError(t, err)
			checkClose(t, ref["latent_sample"], sampled[0], model+" latent_sample")
			require.Equal(t, numWeights, ctx.NumVariables(), "the graphs use only the loaded weights")
		})
	}
}

// TestLegacyCheckpoint saves tiny-sd1's VAE with the old mid-block attention names (query, key, value,
// proj_attn), loads it through LegacyName and checks the outputs still match diffusers.
func TestLegacyCheckpoint(t *testing.T) {
	const model = "tiny-sd1"
	dir := filepath.Join(repoRoot, "testdata", model, "vae")
	cfg, err := LoadConfig(filepath.Join(dir, "config.json"))
	require.NoError(t, err)
	current, _ := tensortest.LoadFixture(t, filepath.Join(dir, "diffusion_pytorch_model.safetensors"))
	oldNames := strings.NewReplacer(".to_q.", ".query.", ".to_k.", ".key.", ".to_v.", ".value.", ".to_out.0.", ".proj_attn.")
	legacy := make(map[string]*tensors.Tensor, len(current))
	renamed := 0
	for name, value := range current {
		old := name
		if strings.Contains(name, "mid_block.attentions.") {
			old = oldNames.Replace(name)
		}
		if old != name {
			renamed++
		}
		legacy[old] = value
	}
	require.Equal(t, 16, renamed, "2 attentions × 4 projections × weight and bias renamed")
	path := filepath.Join(t.TempDir(), "legacy.safetensors")
	require.NoError(t, safetensors.Write(path, legacy, nil))

	ctx := loadWeights(t, cfg, path)
	ref, _ := tensortest.LoadFixture(t, referencePath(model))
	out := runVAE(t, cfg, ctx, ref["image"], ref["latents"])
	checkClose(t, ref["latent_mean"], out[0], "legacy "+model+" latent_mean")
	checkClose(t, ref["decoded"], out[2], "legacy "+model+" decoded")
}
