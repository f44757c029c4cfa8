package bench

import (
	"fmt"
	"image"
	"image/color"
	"path/filepath"

	"github.com/org/neti/toyworld"
)

// writeCutouts writes the concept's training images (dir/NN.png, toyworld.Concept.File's names) into out
// with their object's coverage (toyworld.Coverage) as alpha: the cut-outs that a masked loss
// (neti.TrainOptions.MaskedLoss) trains on. The colours stay as stored (PNG keeps them under
// transparency). An image that is not its scene's render is an error: its mask would not fit it.
func writeCutouts(c toyworld.Concept, dir, out string) error {
	for i, s := range c.TrainingScenes() {
		name := fmt.Sprintf("%02d.png", i+1)
		img, err := toyworld.ReadPNG(filepath.Join(dir, name))
		if err != nil {
			return fmt.Errorf("bench: cut-outs of %s: %w", c.Name, err)
		}
		want := toyworld.Render(s)
		if img.Bounds() != want.Bounds() {
			return fmt.Errorf("bench: cut-outs of %s: %s is %v: expected the %v render of its scene in concept.json",
				c.Name, name, img.Bounds().Size(), want.Bounds().Size())
		}
		alpha := toyworld.Coverage(s)
		cut := image.NewNRGBA(want.Bounds())
		for y := range want.Bounds().Dy() {
			for x := range want.Bounds().Dx() {
				r, g, b, _ := img.At(x, y).RGBA()
				if got := want.RGBAAt(x, y); uint8(r>>8) != got.R || uint8(g>>8) != got.G || uint8(b>>8) != got.B {
					return fmt.Errorf("bench: cut-outs of %s: %s differs from the render of its scene at (%d, %d): "+
						"rewrite the concepts (toyworld.WriteConcepts) or train without the masked loss", c.Name, name, x, y)
				}
				cut.SetNRGBA(x, y, color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: alpha.AlphaAt(x, y).A})
			}
		}
		if err := toyworld.WritePNG(filepath.Join(out, name), cut); err != nil {
			return fmt.Errorf("bench: cut-outs of %s: %w", c.Name, err)
		}
	}
	return nil
}
