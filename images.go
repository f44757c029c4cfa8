package neti

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"path/filepath"
	"slices"
	"strings"
)

// Image I/O, in plain Go: decoding a PNG or JPEG file with a bound on its size (decodeTrainImage, which
// LoadTrainImages calls, traindata.go), turning it upright by its EXIF orientation, and preparing it as the
// VAE's input (vaePixels: RGB on white, centre crop, PIL's antialiased bicubic resize exactly, [−1, 1]),
// which training (trainbatch.go) and Reconstruct (reconstruct.go) use.

// pngMagic and jpegMagic start every PNG and JPEG file.
var (
	pngMagic  = []byte("\x89PNG\r\n\x1a\n")
	jpegMagic = []byte{0xff, 0xd8, 0xff}
)

// imageExtensions are the names of files that must be images: one that does not decode is an error, not
// a skipped file.
var imageExtensions = []string{".png", ".jpg", ".jpeg"}

// decodeTrainImage decodes the contents of the file path (named in messages): upright, or a note for a
// file that is not an image. An image whose header declares more than maxPixels pixels is an error before
// any pixel is decoded.
func decodeTrainImage(path string, data []byte, maxPixels int64) (image.Image, string, error) {
	isPNG, isJPEG := bytes.HasPrefix(data, pngMagic), bytes.HasPrefix(data, jpegMagic)
	if !isPNG && !isJPEG {
		if slices.Contains(imageExtensions, strings.ToLower(filepath.Ext(path))) {
			return nil, "", fmt.Errorf("neti: training data: %s is named as an image but is not a PNG or JPEG file "+
				"(corrupt or mislabelled): fix or remove it", path)
		}
		return nil, fmt.Sprintf("skipped %s: not a PNG or JPEG image", path), nil
	}
	decodeConfig, decode := png.DecodeConfig, png.Decode
	if isJPEG {
		decodeConfig, decode = jpeg.DecodeConfig, jpeg.Decode
	}
	cfg, err := decodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, "", fmt.Errorf("neti: training data: %s is corrupt: %v: fix or remove it", path, err)
	}
	if cfg.Width < 1 || cfg.Height < 1 {
		return nil, "", fmt.Errorf("neti: training data: %s is empty (%dx%d): fix or remove it", path, cfg.Width, cfg.Height)
	}
	if pixels := int64(cfg.Width) * int64(cfg.Height); pixels > maxPixels {
		return nil, "", fmt.Errorf("neti: training data: %s declares %dx%d pixels (%.1f megapixels): expected at most "+
			"%.1f megapixels (%d pixels), the limit that bounds memory; downscale it (for example to 4096 pixels on "+
			"the long side: training resizes every image to the model's resolution, 512 for SD 1.x, anyway) or remove it",
			path, cfg.Width, cfg.Height, float64(pixels)/1e6, float64(maxPixels)/1e6, maxPixels)
	}
	img, err := decode(bytes.NewReader(data))
	if err != nil {
		return nil, "", fmt.Errorf("neti: training data: %s is corrupt: %v: fix or remove it", path, err)
	}
	if b := img.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return nil, "", fmt.Errorf("neti: training data: %s decodes to %dx%d but its header says %dx%d: fix or remove it",
			path, b.Dx(), b.Dy(), cfg.Width, cfg.Height)
	}
	if isJPEG {
		img = orient(img, jpegOrientation(data))
	}
	return img, "", nil
}

// jpegOrientation returns the EXIF orientation (1..8) of a JPEG file, 1 when it has none. It reads the
// APP1 "Exif" segment's TIFF header and IFD0 for tag 0x0112.
func jpegOrientation(data []byte) int {
	pos := 2 // after SOI
	for pos+4 <= len(data) {
		if data[pos] != 0xff {
			return 1
		}
		marker := data[pos+1]
		if marker == 0xda || marker == 0xd9 { // start of scan, end of image: no EXIF before the pixels
			return 1
		}
		size := int(binary.BigEndian.Uint16(data[pos+2:]))
		if size < 2 || pos+2+size > len(data) {
			return 1
		}
		segment := data[pos+4 : pos+2+size]
		if marker == 0xe1 && bytes.HasPrefix(segment, []byte("Exif\x00\x00")) {
			return tiffOrientation(segment[6:])
		}
		pos += 2 + size
	}
	return 1
}

// tiffOrientation reads the orientation tag of IFD0 in a TIFF structure (EXIF's payload).
func tiffOrientation(tiff []byte) int {
	if len(tiff) < 8 {
		return 1
	}
	var order binary.ByteOrder
	switch string(tiff[:2]) {
	case "II":
		order = binary.LittleEndian
	case "MM":
		order = binary.BigEndian
	default:
		return 1
	}
	if order.Uint16(tiff[2:]) != 42 {
		return 1
	}
	ifd := int(order.Uint32(tiff[4:]))
	if ifd < 8 || ifd+2 > len(tiff) {
		return 1
	}
	n := int(order.Uint16(tiff[ifd:]))
	for i := range n {
		e := ifd + 2 + 12*i
		if e+12 > len(tiff) {
			return 1
		}
		if order.Uint16(tiff[e:]) == 0x0112 && order.Uint16(tiff[e+2:]) == 3 { // orientation, SHORT
			if v := int(order.Uint16(tiff[e+8:])); v >= 1 && v <= 8 {
				return v
			}
			return 1
		}
	}
	return 1
}

// orient returns img displayed upright for EXIF orientation o (1: as stored; 2: mirrored; 3: rotated
// 180°; 4: flipped vertically; 5: transposed; 6: to rotate 90° clockwise; 7: transversed; 8: to rotate 90°
// counter-clockwise).
func orient(img image.Image, o int) image.Image {
	if o <= 1 || o > 8 {
		return img
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	ow, oh := w, h
	if o >= 5 {
		ow, oh = h, w
	}
	out := image.NewNRGBA64(image.Rect(0, 0, ow, oh))
	for y := range oh {
		for x := range ow {
			var sx, sy int
			switch o {
			case 2:
				sx, sy = w-1-x, y
			case 3:
				sx, sy = w-1-x, h-1-y
			case 4:
				sx, sy = x, h-1-y
			case 5:
				sx, sy = y, x
			case 6:
				sx, sy = y, h-1-x
			case 7:
				sx, sy = w-1-y, h-1-x
			case 8:
				sx, sy = w-1-y, x
			}
			out.Set(x, y, img.At(b.Min.X+sx, b.Min.Y+sy))
		}
	}
	return out
}

// vaePixels prepares an image for the VAE, as training and Reconstruct use it: RGB on white, centre-cropped
// to a square (or squashed), resized to size × size as the original's uint8 image with PIL (resize: whole
// 8-bit levels), mirrored if flip, and mapped to [−1, 1]: [3, size, size].
func vaePixels(img image.Image, size int, squash, flip bool) []float32 {
	pixels, w, h := rgbOnWhite(img)
	return toUnitRange(fitPlanes(pixels, 3, w, h, size, squash, flip))
}

// maskedPixels prepares an image for a masked loss (TrainOptions.MaskedLoss): its colours as stored,
// not composited (transparent pixels keep theirs, as kohya's alpha masks), mapped to [−1, 1] — [3, size,
// size] — and its alpha in [0, 1] — [size, size] — cropped, resized and mirrored as vaePixels does.
func maskedPixels(img image.Image, size int, squash, flip bool) (pixels, alpha []float32) {
	planes, w, h := straightRGBA(img)
	fitted := fitPlanes(planes, 4, w, h, size, squash, flip)
	alpha = fitted[3*size*size:]
	for i, v := range alpha {
		alpha[i] = v / 255
	}
	return toUnitRange(fitted[:3*size*size]), alpha
}

// fitPlanes centre-crops planes [channels, h, w] of 0..255 to a square (or squashes), resizes them to
// size × size (resize: whole 8-bit levels) and mirrors them if flip: [channels, size, size].
func fitPlanes(pixels []float32, channels, w, h, size int, squash, flip bool) []float32 {
	if !squash {
		var s int
		pixels, s = centerCropSquare(pixels, channels, w, h)
		w, h = s, s
	}
	pixels = resize(pixels, channels, w, h, size, size)
	if flip {
		for c := range channels {
			for y := range size {
				slices.Reverse(pixels[(c*size+y)*size : (c*size+y+1)*size])
			}
		}
	}
	return pixels
}

// toUnitRange maps levels 0..255 to [−1, 1].
func toUnitRange(pixels []float32) []float32 {
	out := make([]float32, len(pixels))
	for i, v := range pixels {
		out[i] = float32(float64(v)/127.5 - 1)
	}
	return out
}

// straightRGBA converts img to RGBA planes [4, h, w] in 0..255 with straight (not premultiplied) colours:
// a transparent pixel keeps the colour stored in a non-premultiplied image (PNG's), black otherwise.
func straightRGBA(img image.Image) (pixels []float32, w, h int) {
	b := img.Bounds()
	w, h = b.Dx(), b.Dy()
	pixels = make([]float32, 4*w*h)
	for y := range h {
		for x := range w {
			c := straightAt(img, b.Min.X+x, b.Min.Y+y)
			for k, v := range []uint16{c.R, c.G, c.B, c.A} {
				pixels[(k*h+y)*w+x] = float32(v) * (255.0 / 65535)
			}
		}
	}
	return pixels, w, h
}

// rgbOnWhite converts img to RGB planes [3, h, w] in 0..255, compositing transparency on white
// (greyscale and palette images become RGB).
func rgbOnWhite(img image.Image) (pixels []float32, w, h int) {
	b := img.Bounds()
	w, h = b.Dx(), b.Dy()
	pixels = make([]float32, 3*w*h)
	for y := range h {
		for x := range w {
			r, g, bl, a := img.At(b.Min.X+x, b.Min.Y+y).RGBA() // premultiplied, 0..65535
			white := float32(65535 - a)
			for c, v := range []uint32{r, g, bl} {
				pixels[(c*h+y)*w+x] = (float32(v) + white) * (255.0 / 65535)
			}
		}
	}
	return pixels, w, h
}

// straightAt is the pixel (x, y) with straight colours: as stored for non-premultiplied images (PNG
// decodes to them), else unpremultiplied (a transparent pixel is black).
func straightAt(img image.Image, x, y int) color.NRGBA64 {
	switch m := img.(type) {
	case *image.NRGBA:
		c := m.NRGBAAt(x, y)
		w := func(v uint8) uint16 { return uint16(v) * 0x101 }
		return color.NRGBA64{R: w(c.R), G: w(c.G), B: w(c.B), A: w(c.A)}
	case *image.NRGBA64:
		return m.NRGBA64At(x, y)
	}
	return color.NRGBA64Model.Convert(img.At(x, y)).(color.NRGBA64)
}

// centerCropSquare keeps the central min(w, h) square of planes [c, h, w], as diffusers' center crop:
// rows (h−s)/2 .. (h+s)/2, columns likewise (integer division).
func centerCropSquare(pixels []float32, channels, w, h int) ([]float32, int) {
	s := min(w, h)
	top, left := (h-s)/2, (w-s)/2
	out := make([]float32, channels*s*s)
	for c := range channels {
		for y := range s {
			copy(out[(c*s+y)*s:(c*s+y+1)*s], pixels[(c*h+top+y)*w+left:(c*h+top+y)*w+left+s])
		}
	}
	return out, s
}

// resize resamples planes [c, h, w] of 8-bit levels to [c, oh, ow] exactly as PIL's
// Image.resize((ow, oh), Image.BICUBIC) on the original NeTI's uint8 RGB image: the input is rounded and
// clamped to whole levels 0..255 first (the original's uint8 array), then PIL's two passes run in its
// fixed-point arithmetic, horizontal then vertical (an axis whose size does not change is not resampled),
// each rounding and clamping to 8 bits. The output holds whole levels 0..255.
//
// Why not golang.org/x/image/draw (CatmullRom: the same a = −0.5 cubic, widened the same way when
// downsampling, the same edge handling): measured against PIL on testdata/reference/resize.safetensors
// (tools/reference/ref_resize.py; TestResizePILParity), draw differs from PIL by up to 3 levels on the
// photo cases and up to 17 at the synthetic image's sharp saturated edges, with 27–33% of values off
// (mean 0.27–0.48 levels), because PIL rounds and clamps to 8 bits between its two passes (so the first
// pass's overshoot at an edge is cut before the second) while draw keeps float64 between passes and rounds
// to 16 bits then truncates to 8. A float two-pass resize with PIL's weights (this function until issue 15)
// had the same worst case: up to 2 levels on the photos, 17 on the synthetic image (mean 0.06–0.34). This
// one matches PIL on every value of the fixture.
func resize(pixels []float32, channels, w, h, ow, oh int) []float32 {
	img := make([]uint8, len(pixels))
	for i, v := range pixels {
		img[i] = uint8(math.Round(math.Min(math.Max(float64(v), 0), 255)))
	}
	if ow != w {
		img = resamplePass(img, channels*h, w, 1, ow) // rows of [c·h, w] → [c·h, ow]
	}
	if oh != h {
		img = resamplePass(img, channels, h, ow, oh) // columns of [c, h, ow] → [c, oh, ow]
	}
	out := make([]float32, len(img))
	for i, v := range img {
		out[i] = float32(v)
	}
	return out
}

// precisionBits is PIL's fixed-point precision for 8-bit resampling: 32 − 8 bits of result − 2 bits of
// headroom for the filter's negative lobes.
const precisionBits = 32 - 8 - 2

// resamplePass resamples the middle axis of src [n, in, m] to [n, out, m] as PIL's 8-bit pass
// (ImagingResampleHorizontal_8bpc / Vertical_8bpc): fixed-point weights, a rounding half added, the sum
// shifted down and clamped to 0..255.
func resamplePass(src []uint8, n, in, m, out int) []uint8 {
	starts, weights := resampleWeights(in, out)
	dst := make([]uint8, n*out*m)
	for a := range n {
		for i := range out {
			for b := range m {
				ss := int32(1) << (precisionBits - 1)
				for j, k := range weights[i] {
					ss += int32(src[(a*in+starts[i]+j)*m+b]) * k
				}
				dst[(a*out+i)*m+b] = uint8(min(max(ss>>precisionBits, 0), 255))
			}
		}
	}
	return dst
}

// resampleWeights computes, for each of out output samples along an axis of in input samples, the first
// input index and the bicubic weights, as PIL's precompute_coeffs and normalize_coeffs_8bpc: the kernel is
// widened by the scale when downsampling (antialiasing), cut at the image's edges, normalised to sum 1,
// and scaled to fixed point with precisionBits fraction bits, rounded half away from zero.
func resampleWeights(in, out int) (starts []int, weights [][]int32) {
	scale := float64(in) / float64(out)
	filterScale := max(scale, 1)
	support := 2 * filterScale
	ss := 1 / filterScale
	starts, weights = make([]int, out), make([][]int32, out)
	for i := range out {
		center := (float64(i) + 0.5) * scale
		lo := max(int(center-support+0.5), 0)
		hi := min(int(center+support+0.5), in)
		ws := make([]float64, max(hi-lo, 0))
		sum := 0.0
		for j := range ws {
			ws[j] = bicubic((float64(j+lo) - center + 0.5) * ss)
			sum += ws[j]
		}
		starts[i] = lo
		weights[i] = make([]int32, len(ws))
		for j, v := range ws {
			if sum != 0 {
				v /= sum
			}
			if v < 0 {
				weights[i][j] = int32(-0.5 + v*(1<<precisionBits))
			} else {
				weights[i][j] = int32(0.5 + v*(1<<precisionBits))
			}
		}
	}
	return starts, weights
}

// bicubic is the cubic convolution kernel with a = −0.5 (PIL's BICUBIC).
func bicubic(x float64) float64 {
	const a = -0.5
	x = math.Abs(x)
	switch {
	case x < 1:
		return ((a+2)*x-(a+3))*x*x + 1
	case x < 2:
		return (((x-5)*x+8)*x - 4) * a
	}
	return 0
}
