package toyworld

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"
)

// BoxBlur returns img filtered by a 3×3 box (the mean over the neighbours inside the image), the mild
// blur that tests and Fidelity use to mimic soft generated images.
func BoxBlur(img image.Image) *image.RGBA {
	b := img.Bounds()
	src := toRGBAImage(img)
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := range b.Dy() {
		for x := range b.Dx() {
			var s [3]float64
			n := 0.0
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					xx, yy := x+dx, y+dy
					if xx < 0 || yy < 0 || xx >= b.Dx() || yy >= b.Dy() {
						continue
					}
					c := src.RGBAAt(xx, yy)
					s[0], s[1], s[2] = s[0]+float64(c.R), s[1]+float64(c.G), s[2]+float64(c.B)
					n++
				}
			}
			out.SetRGBA(x, y, color.RGBA{uint8(math.Round(s[0] / n)), uint8(math.Round(s[1] / n)), uint8(math.Round(s[2] / n)), 255})
		}
	}
	return out
}

// AddNoise returns img plus independent Gaussian noise of standard deviation sigma (in 0..255 units)
// on every colour channel, drawn from rng and clamped.
func AddNoise(img image.Image, rng *rand.Rand, sigma float64) *image.RGBA {
	src := toRGBAImage(img)
	out := image.NewRGBA(src.Rect)
	for i, v := range src.Pix {
		if i%4 == 3 {
			out.Pix[i] = 255
			continue
		}
		out.Pix[i] = uint8(math.Round(math.Min(255, math.Max(0, float64(v)+rng.NormFloat64()*sigma))))
	}
	return out
}

// toRGBAImage copies img into an RGBA image with origin (0, 0).
func toRGBAImage(img image.Image) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := range b.Dy() {
		for x := range b.Dx() {
			out.Set(x, y, img.At(b.Min.X+x, b.Min.Y+y))
		}
	}
	return out
}
