package toyworld

import (
	"image"
	"math"
	"sync"
)

// Thresholds of ClassifyFine on measurements (pixels of a 64×64 image), set on renders of random scenes
// and their round trips through the v1 model's VAE: the measured outline width of a true 1–1.3 px
// outline has median 1.4–2.1 on blurred renders and 1.24 through the VAE, of a true ≥ 1.8 px one 3.0 and
// 2.16; the measured pattern period (a checker's divided by √2) has median 5.2–5.3 for true periods
// of 4.5–5.5 px and 7.2–7.3 for 6.5–7.5 px on sharp renders.
const (
	measuredThickOutline = 2.2
	measuredFinePeriod   = 6.0
	measuredNoOutline    = 0.5
)

// ClassifyFine measures an image and names its fine appearance: Fine of ClassifyFineMeasurement.
func ClassifyFine(img image.Image) Attributes { return ClassifyFineMeasurement(Measure(img)) }

// ClassifyFineMeasurement names the coarse attributes (ClassifyMeasurement) and, in Fine, the nearest
// fine word of every fine attribute:
//   - Hue, Shade: the nearest in Lab of the object's named colour shifted by ±0.7 of its hue and
//     lightness ranges, at the ends and middle of its saturation range — the shifts' directions name the
//     words (no hue for white and black). A colour always reads as one word of each, as the words'
//     ranges leave a gap around the named colour's centre;
//   - Outline: "none" when the measured width is below 0.5 px, else the nearest in Lab of black, white
//     and the named colour darkened; OutlineWidth "thick" from a measured 2.2 px, else "thin";
//   - Mark, MarkColor: the measured mark and its tone;
//   - Tilt, TiltAmount (not for circles): the rotation whose turned prototype signature (the shape
//     rendered upright at the measured size) is nearest to the measured one, searched over ±25°;
//   - PatternTone, PatternScale (patterned objects): the sign of the measured tone; "fine" below a
//     measured period of 6 px (a checker's period divided by √2, as its strongest frequency is diagonal).
//
// Words whose ranges leave gaps (OutlineWidth, TiltAmount, PatternScale) get the nearer word, so a
// value in a gap reads as one of them.
func ClassifyFineMeasurement(m Measurement) Attributes {
	a := ClassifyMeasurement(m)
	if !m.Found {
		return a
	}
	f := &a.Fine
	f.Hue, f.Shade = classifyColourLean(m.Color, a.Color)
	if m.OutlineWidth < measuredNoOutline {
		f.Outline = "none"
	} else {
		base := jittered(a.Color, HSLJitter{})
		best := math.Inf(1)
		for _, o := range []string{"black", "white", "dark"} {
			if d := DeltaE(m.OutlineColor, outlineColor(base, o).lab()); d < best {
				best, f.Outline = d, o
			}
		}
		f.OutlineWidth = either(m.OutlineWidth >= measuredThickOutline, "thick", "thin")
	}
	f.Mark = m.Mark
	if m.Mark != "none" {
		f.MarkColor = either(m.MarkTone > 0, "white", "black")
	}
	if a.Shape != "circle" {
		f.Tilt, f.TiltAmount = tiltWords(measureRotation(m, a))
	}
	if a.Pattern != "plain" {
		f.PatternTone = either(m.PatternTone > 0, "light", "dark")
		period := m.PatternPeriod
		if a.Pattern == "checkered" {
			period /= math.Sqrt2
		}
		f.PatternScale = either(period < measuredFinePeriod, "fine", "coarse")
	}
	return a
}

// classifyColourLean names the hue lean and shade of a measured colour within its named colour.
func classifyColourLean(c Lab, name string) (hue, shade string) {
	nc, ok := colorTable[name]
	if !ok {
		return "", ""
	}
	h0, _, _ := nc.base.f().hsl()
	warmSign := 1.0
	if hueDistance(h0+nc.dh, warmHue) > hueDistance(h0, warmHue) {
		warmSign = -1
	}
	hues := []float64{-1, 1}
	if name == "white" || name == "black" {
		hues = []float64{0}
	}
	best, bh, bl := math.Inf(1), 0.0, 0.0
	for _, h := range hues {
		for _, l := range []float64{-1, 1} {
			for _, ds := range []float64{nc.ds0, (nc.ds0 + nc.ds1) / 2, nc.ds1} {
				j := HSLJitter{DH: 0.7 * h * nc.dh, DS: ds, DL: 0.7 * l * nc.dl}
				if d := DeltaE(c, jittered(name, j).lab()); d < best {
					best, bh, bl = d, h, l
				}
			}
		}
	}
	switch {
	case bh*warmSign > 0:
		hue = "warm"
	case bh*warmSign < 0:
		hue = "cool"
	}
	switch {
	case bl > 0:
		shade = "light"
	case bl < 0:
		shade = "dark"
	}
	return hue, shade
}

var (
	uprightMu  sync.Mutex
	uprightSig = map[[2]string][]float64{}
)

// uprightSignature is the radial signature of a shape rendered upright (white on black, plain, centred)
// at a size, cached.
func uprightSignature(shape, size string) []float64 {
	uprightMu.Lock()
	defer uprightMu.Unlock()
	k := [2]string{shape, size}
	if s, ok := uprightSig[k]; ok {
		return s
	}
	s := Scene{Shape: shape, Color: "white", Pattern: "plain", Size: size, Position: "center", Background: "black",
		Fine: Fine{Scale: 1, Outline: "none", Mark: "none", MarkColor: "black"}}
	sig := Measure(Render(s)).Signature
	uprightSig[k] = sig
	return sig
}

// measureRotation estimates the shape's rotation (degrees counter-clockwise, in [−25, 25]): the turn of
// the upright prototype signature, circularly shifted with linear interpolation, nearest (RMS) to the
// measured signature.
func measureRotation(m Measurement, a Attributes) float64 {
	ref := uprightSignature(a.Shape, a.Size)
	n := len(ref)
	if len(m.Signature) != n || n == 0 {
		return 0
	}
	best, bestR := math.Inf(1), 0.0
	for r := -25.0; r <= 25; r += 0.5 {
		shift := r / 360 * float64(n) // rays the prototype turns by
		var ss float64
		for i := range n {
			x := float64(i) - shift
			x0 := math.Floor(x)
			t := x - x0
			i0 := ((int(x0) % n) + n) % n
			v := ref[i0]*(1-t) + ref[(i0+1)%n]*t
			d := m.Signature[i] - v
			ss += d * d
		}
		if ss < best {
			best, bestR = ss, r
		}
	}
	return bestR
}
