package neti

import (
	"fmt"
	"image"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/org/neti/diffusion/vae"
)

// Reconstruct passes images through the model's VAE: each is prepared as for training (RGB on white,
// centre-cropped, resized to resolution × resolution), encoded to its posterior mean and decoded. What a
// reconstruction loses, no generation and no concept learned through this VAE can show, so it measures the
// ceiling of the whole pipeline (the toy world's `evalgo --recon`). resolution must be a positive multiple of
// the VAE's scale factor.
func (p *Pipeline) Reconstruct(images []image.Image, resolution int) (out []*image.RGBA, err error) {
	defer recoverError("reconstruct", &err)
	if err := p.usable("reconstruct"); err != nil {
		return nil, err
	}
	if f := p.vae.ScaleFactor(); resolution <= 0 || resolution%f != 0 {
		return nil, fmt.Errorf("neti: reconstruct: resolution %d: expected a positive multiple of the VAE's scale "+
			"factor %d", resolution, f)
	}
	exec, err := context.NewExec(p.backend, p.ctx.Reuse(), func(ctx *context.Context, pixels *graph.Node) *graph.Node {
		mean, _ := vae.Encode(ctx.In("vae"), p.vae, graph.ConvertDType(pixels, p.dtype)) // [1, C, h, w]
		decoded := vae.Decode(ctx.In("vae"), p.vae, mean)                                // [1, 3, H, W]
		return graph.ConvertDType(decoded, dtypes.Float32)
	})
	if err != nil {
		return nil, err
	}
	defer exec.Finalize()
	for i, img := range images {
		if img == nil || img.Bounds().Empty() {
			return nil, fmt.Errorf("neti: reconstruct: image %d is empty", i)
		}
		pixels := vaePixels(img, resolution, false, false) // [3, resolution, resolution]
		decoded, err := exec.Exec1(tensors.FromFlatDataAndDimensions(pixels, 1, 3, resolution, resolution))
		if err != nil {
			return nil, err
		}
		out = append(out, toImages(tensors.MustCopyFlatData[float32](decoded), 1, resolution, resolution)[0])
		decoded.FinalizeAll()
	}
	return out, nil
}
