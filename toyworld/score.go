package toyworld

import (
	"image"
	"math"
)

// Fidelity weights: how much each fine-appearance component counts (they sum to 1).
const (
	fidelityColor   = 0.30
	fidelityOutline = 0.20
	fidelityPattern = 0.20
	fidelityMark    = 0.15
	fidelityShape   = 0.15
)

// FidelityParts are the component similarities of Fidelity, each in [0, 1].
type FidelityParts struct {
	Color   float64 `json:"color"`
	Outline float64 `json:"outline"`
	Pattern float64 `json:"pattern"`
	Mark    float64 `json:"mark"`
	Shape   float64 `json:"shape"`
	Total   float64 `json:"total"`
}

// Fidelity is the closeness in [0, 1] of the object in img to a concept's appearance (FidelityDetail's
// Total).
func Fidelity(img image.Image, c Concept) float64 { return FidelityDetail(img, c).Total }

// FidelityDetail compares the measured object with a reference: the concept rendered in the image's own
// context (the size, position and background that Classify reads from img; the concept's own first
// background if that one is the concept's colour), measured the same way, so that measurement biases
// cancel. Generated images are soft, so the reference is both the sharp render and its 3×3 box blur
// (BoxBlur), and each component takes the better of its two scores. Components (ΔE is Lab ΔE76):
//   - Color   = exp(−ΔE(colour, reference colour)/15);
//   - Outline = exp(−|Δwidth|) · (exp(−ΔE(outline colours)/25) when both widths ≥ 0.5, else 1);
//   - Pattern = 1 if both are plain; 0 if exactly one is; otherwise 0.5·[same pattern class]
//   - 0.25·exp(−|ln(density/reference density)|/0.4) + 0.25·exp(−|Δtone|/20), tone being the pattern's
//     L* offset (lighter or darker than the object);
//   - Mark    = [same mark class] · (0.5 + 0.5·[same tone] when both have a mark);
//   - Shape   = [same shape class] · exp(−RMS(Δ radial signature)/0.15) (rotation-sensitive);
//   - Total   = 0.30·Color + 0.20·Outline + 0.20·Pattern + 0.15·Mark + 0.15·Shape.
//
// An image without an object scores 0.
func FidelityDetail(img image.Image, c Concept) FidelityParts {
	m := Measure(img)
	if !m.Found {
		return FidelityParts{}
	}
	a := ClassifyMeasurement(m)
	ctx := Attributes{Size: a.Size, Position: a.Position, Background: a.Background}
	if ctx.Background == c.Scene.Color {
		ctx.Background = c.Scene.Background
	}
	sharp := Render(c.Scene.WithContext(ctx))
	f := compareFine(m, a, Measure(sharp))
	soft := compareFine(m, a, Measure(BoxBlur(sharp)))
	f.Color, f.Outline = math.Max(f.Color, soft.Color), math.Max(f.Outline, soft.Outline)
	f.Pattern, f.Mark, f.Shape = math.Max(f.Pattern, soft.Pattern), math.Max(f.Mark, soft.Mark), math.Max(f.Shape, soft.Shape)
	f.Total = fidelityColor*f.Color + fidelityOutline*f.Outline + fidelityPattern*f.Pattern + fidelityMark*f.Mark + fidelityShape*f.Shape
	return f
}

// compareFine scores a measurement (classified as a) against a reference measurement.
func compareFine(m Measurement, a Attributes, ref Measurement) FidelityParts {
	refA := ClassifyMeasurement(ref)
	var f FidelityParts
	f.Color = math.Exp(-DeltaE(m.Color, ref.Color) / 15)
	f.Outline = math.Exp(-math.Abs(m.OutlineWidth - ref.OutlineWidth))
	if m.OutlineWidth >= 0.5 && ref.OutlineWidth >= 0.5 {
		f.Outline *= math.Exp(-DeltaE(m.OutlineColor, ref.OutlineColor) / 25)
	}
	if m.PatternContrast < plainContrast && ref.PatternContrast < plainContrast {
		f.Pattern = 1
	} else {
		near := func(d, scale float64) float64 { return math.Exp(-math.Abs(d) / scale) }
		ratio := math.Max(m.PatternDensity, 1e-3) / math.Max(ref.PatternDensity, 1e-3)
		f.Pattern = 0.25*near(m.PatternContrast-ref.PatternContrast, 8) + 0.2*near(m.PatternC2-ref.PatternC2, 0.3) +
			0.1*near(m.PatternC4-ref.PatternC4, 0.3) + 0.15*near(math.Log(ratio), 0.4) + 0.3*near(m.PatternTone-ref.PatternTone, 15)
	}
	switch {
	case m.Mark == ref.Mark:
		f.Mark = 1
		if m.Mark != "none" && m.MarkTone != ref.MarkTone {
			f.Mark = 0.5
		}
	case m.Mark != "none" && ref.Mark != "none":
		f.Mark = 0.5
	}
	if a.Shape == refA.Shape {
		var ss float64
		for i := range m.Signature {
			d := m.Signature[i] - ref.Signature[i]
			ss += d * d
		}
		f.Shape = math.Exp(-math.Sqrt(ss/float64(len(m.Signature))) / 0.15)
	}
	return f
}

// MeanFidelity is the mean Fidelity of images against a concept (0 for no images).
func MeanFidelity(imgs []image.Image, c Concept) float64 {
	if len(imgs) == 0 {
		return 0
	}
	var s float64
	for _, img := range imgs {
		s += Fidelity(img, c)
	}
	return s / float64(len(imgs))
}

// Editability is the fraction in [0, 1] of the requested (non-empty) attributes that Classify finds in
// img: it measures whether a prompt's context (background, size, position, …) appears. Nothing
// requested scores 1.
func Editability(img image.Image, requested Attributes) float64 {
	return EditabilityOf(Classify(img), requested)
}

// EditabilityOf is Editability on already classified attributes.
func EditabilityOf(got, requested Attributes) float64 {
	n, hit := 0, 0
	gf := got.fields()
	for k, f := range requested.fields() {
		if *f.v == "" {
			continue
		}
		n++
		if *gf[k].v == *f.v {
			hit++
		}
	}
	if n == 0 {
		return 1
	}
	return float64(hit) / float64(n)
}

// MeanEditability is the mean Editability of images against the attributes each was asked for
// (requested[i] for imgs[i]); 0 for no images or lengths that differ.
func MeanEditability(imgs []image.Image, requested []Attributes) float64 {
	if len(imgs) == 0 || len(imgs) != len(requested) {
		return 0
	}
	var s float64
	for i, img := range imgs {
		s += Editability(img, requested[i])
	}
	return s / float64(len(imgs))
}
