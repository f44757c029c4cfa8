package toyworld

import (
	"image"
	"math"
	"sync"
)

// Classification thresholds (pixels of a 64×64 image), tuned on rendered scenes (seeds other than the
// tests'), sharp, blurred and noisy.
const (
	// smallMediumRadius and mediumLargeRadius split the measured equivalent radius between sizes: the
	// geometric means of the measured ranges (small ≈ 6.4–7.4, medium ≈ 9.3–10.5, large ≈ 12.6–14.2).
	smallMediumRadius = 8.3
	mediumLargeRadius = 11.5
	// centerTolerance: an object whose centroid is within this many pixels of the frame centre along
	// both axes is "center"; otherwise the axis with the larger offset names the side.
	centerTolerance = 3.5
	// plainContrast: a pattern contrast (Measurement.PatternContrast) below it, or fewer than
	// minPatternPixels pattern pixels, reads as "plain".
	plainContrast    = 10
	minPatternPixels = 6
	// stripeC2 and checkerC4: C2 above stripeC2 is "striped"; else C4 above checkerC4 is "checkered";
	// else "dotted".
	stripeC2  = 0.6
	checkerC4 = 0.25
)

// Classify measures an image and returns the nearest named value of every coarse attribute.
func Classify(img image.Image) Attributes { return ClassifyMeasurement(Measure(img)) }

// ClassifyMeasurement names the coarse attributes of a measurement:
//   - color and background: the named colour whose centre (colorTable) is nearest in Lab (ΔE76);
//   - shape: the nearest prototype (shapeFeatures distance) among renders of every shape at rotations
//     −25°…25° (step 10°) and the three sizes, white on black, plain;
//   - size: Radius against smallMediumRadius and mediumLargeRadius;
//   - position: centroid against centerTolerance;
//   - pattern: the thresholds above.
//
// An image without an object gets only its background.
func ClassifyMeasurement(m Measurement) Attributes {
	a := Attributes{Background: nearestColor(m.Background)}
	if !m.Found {
		return a
	}
	a.Color = nearestColor(m.Color)
	a.Shape = nearestShape(m)
	switch {
	case m.Radius < smallMediumRadius:
		a.Size = "small"
	case m.Radius < mediumLargeRadius:
		a.Size = "medium"
	default:
		a.Size = "large"
	}
	dx, dy := m.CX-ImageSize/2, m.CY-ImageSize/2
	switch {
	case math.Abs(dx) < centerTolerance && math.Abs(dy) < centerTolerance:
		a.Position = "center"
	case math.Abs(dx) >= math.Abs(dy) && dx < 0:
		a.Position = "left"
	case math.Abs(dx) >= math.Abs(dy):
		a.Position = "right"
	case dy < 0:
		a.Position = "top"
	default:
		a.Position = "bottom"
	}
	a.Pattern = classifyPattern(m)
	return a
}

// classifyPattern names the pattern from the pattern statistics.
func classifyPattern(m Measurement) string {
	switch {
	case m.PatternPixels < minPatternPixels || m.PatternContrast < plainContrast:
		return "plain"
	case m.PatternC2 > stripeC2:
		return "striped"
	case m.PatternC4 > checkerC4:
		return "checkered"
	}
	return "dotted"
}

// nearestColor returns the named colour whose centre is nearest in Lab.
func nearestColor(c Lab) string {
	best, bestD := "", math.Inf(1)
	for _, name := range Colors {
		if d := DeltaE(c, colorTable[name].base.Lab()); d < bestD {
			best, bestD = name, d
		}
	}
	return best
}

// shapeFeatures is the rotation-invariant shape descriptor: the 8 signature harmonics divided by 0.02
// and the solidity divided by 0.03 (so that a unit step is a typical within-shape spread).
func shapeFeatures(m Measurement) []float64 {
	f := make([]float64, 0, 9)
	for _, h := range m.Harmonics {
		f = append(f, h/0.02)
	}
	return append(f, m.Solidity/0.03)
}

type shapePrototype struct {
	shape    string
	features []float64
}

var (
	protoOnce  sync.Once
	prototypes []shapePrototype
)

// shapePrototypes renders and measures the prototypes once.
func shapePrototypes() []shapePrototype {
	protoOnce.Do(func() {
		for _, sh := range Shapes {
			for _, size := range Sizes {
				for rot := -25.0; rot <= 25; rot += 10 {
					s := Scene{Shape: sh, Color: "white", Pattern: "plain", Size: size, Position: "center", Background: "black",
						Fine: Fine{Rotation: rot, Scale: 1, Outline: "none", Mark: "none", MarkColor: "black"}}
					prototypes = append(prototypes, shapePrototype{sh, shapeFeatures(Measure(Render(s)))})
				}
			}
		}
	})
	return prototypes
}

// nearestShape returns the shape of the nearest prototype (Euclidean distance of shapeFeatures).
func nearestShape(m Measurement) string {
	f := shapeFeatures(m)
	best, bestD := "", math.Inf(1)
	for _, p := range shapePrototypes() {
		var d float64
		for i := range f {
			d += (f[i] - p.features[i]) * (f[i] - p.features[i])
		}
		if d < bestD {
			best, bestD = p.shape, d
		}
	}
	return best
}
