package toyworld

import (
	"image"
	"image/color"
	"math"
)

// ImageSize is the width and height of every rendered image.
const ImageSize = 64

// supersample is the number of samples per pixel along each axis (16 samples per pixel, box-filtered).
const supersample = 4

// placement is where and how large the object is drawn.
type placement struct {
	cx, cy float64 // centre (the shape's area centroid) in pixels, y down
	scale  float64 // pixels per shape unit = equivalent-circle radius in pixels
	cos    float64 // cosine and sine of the rotation
	sin    float64
	geom   *shapeGeom
}

// place computes the object's placement: the radius is sizeRadius·Scale; the centre is the frame centre
// moved toward the named side by min(16, 32 − extent − 2.5) pixels (extent = the shape's farthest vertex,
// so the object never leaves the frame), plus (DX, DY).
func place(s Scene) placement {
	g := geometry(s.Shape)
	if g == nil {
		g = geometry("circle")
	}
	scale := sizeRadius[s.Size] * s.Fine.Scale
	if scale <= 0 {
		scale = sizeRadius["medium"]
	}
	off := math.Min(16, ImageSize/2-g.extent*scale-2.5)
	cx, cy := ImageSize/2+s.Fine.DX, ImageSize/2+s.Fine.DY
	switch s.Position {
	case "left":
		cx -= off
	case "right":
		cx += off
	case "top":
		cy -= off
	case "bottom":
		cy += off
	}
	r := s.Fine.Rotation * math.Pi / 180
	return placement{cx, cy, scale, math.Cos(r), math.Sin(r), g}
}

// Render draws a scene at 64×64: every pixel is the mean of 4×4 samples. Each sample, in the shape's
// frame (rotated by Fine.Rotation, y up, in pixels), is
//   - background outside the polygon (signed distance d > 0);
//   - the outline colour where −OutlineWidth < d ≤ 0 (outlines lie inside the shape);
//   - the mark colour on the inner mark: a dot of radius max(0.22·ρ, 1.5) or a ring of radius
//     max(0.36·ρ, 2.3) and width 1.4 around the deepest interior point, ρ the inscribed radius in pixels;
//   - otherwise the object colour, or the pattern colour on the pattern's marks, except in a clear disc
//     around a mark (radius dot + 1 or ring + 1.5) so that marks never touch the pattern.
//
// Patterns, in coordinates (p, q) rotated by PatternAngle from the shape frame, scaled by 1/PatternPeriod
// and shifted by PatternPhase: stripes where frac(p) < 0.4; dots where the distance to the nearest
// integer point is < 0.28; checkers on the unit cells with an even index sum, inset by 10%.
func Render(s Scene) *image.RGBA { return render(s, jittered(s.Background, s.Fine.BackgroundJitter)) }

// Coverage is the fraction of each pixel of Render(s) that the object covers, 0 (background) to 255 (all
// object, anti-aliased edges between): the object's alpha mask, read from the scene rendered on black and
// on white (a pixel is coverage·object + (1 − coverage)·background).
func Coverage(s Scene) *image.Alpha {
	onBlack, onWhite := render(s, rgbF{}), render(s, rgbF{1, 1, 1})
	a := image.NewAlpha(onBlack.Rect)
	for i := range a.Pix {
		var d int
		for c := range 3 {
			d += int(onWhite.Pix[4*i+c]) - int(onBlack.Pix[4*i+c])
		}
		a.Pix[i] = uint8(255 - min(765, max(0, d))/3)
	}
	return a
}

// render draws s on the background colour bg.
func render(s Scene, bg rgbF) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, ImageSize, ImageSize))
	pl := place(s)
	obj := jittered(s.Color, s.Fine.ColorJitter)
	out := outlineColor(obj, s.Fine.Outline)
	pat := patternColor(obj, s.Fine.PatternTone)
	mark := markColor(s.Fine.MarkColor)
	rho := pl.geom.inR * pl.scale
	dotR, ringR := markRadii(rho)
	clearR := markClearRadius(s.Fine.Mark, dotR, ringR)
	mx, my := pl.geom.inX*pl.scale, pl.geom.inY*pl.scale
	pa := s.Fine.PatternAngle * math.Pi / 180
	pc, ps := math.Cos(pa), math.Sin(pa)
	reach := pl.geom.extent*pl.scale + 1
	const n = supersample * supersample
	for py := range ImageSize {
		for px := range ImageSize {
			if math.Abs(float64(px)+0.5-pl.cx) > reach+1 || math.Abs(float64(py)+0.5-pl.cy) > reach+1 {
				img.SetRGBA(px, py, toRGBA(bg))
				continue
			}
			// The signed distance is 1-Lipschitz, so a pixel whose centre lies more than 0.75 pixel from
			// every region boundary (the shape's edge, the outline's inner edge) is in one region for all
			// its samples: only pixels near a boundary evaluate the distance per sample.
			cxp, cyp := float64(px)+0.5-pl.cx, pl.cy-(float64(py)+0.5)
			dc := pl.geom.sdf((pl.cos*cxp+pl.sin*cyp)/pl.scale, (-pl.sin*cxp+pl.cos*cyp)/pl.scale) * pl.scale
			exact := math.Abs(dc) < 0.75 || (hasOutline(s) && math.Abs(dc+s.Fine.OutlineWidth) < 0.75)
			if dc > 0.75 {
				img.SetRGBA(px, py, toRGBA(bg))
				continue
			}
			var acc rgbF
			for sy := range supersample {
				for sx := range supersample {
					x := float64(px) + (float64(sx)+0.5)/supersample - pl.cx
					y := pl.cy - (float64(py) + (float64(sy)+0.5)/supersample)
					// Into the shape frame: rotate by −Rotation.
					u, v := pl.cos*x+pl.sin*y, -pl.sin*x+pl.cos*y
					d := dc
					if exact {
						d = pl.geom.sdf(u/pl.scale, v/pl.scale) * pl.scale
					}
					c := sample(s, d, u, v, bg, obj, out, pat, mark, mx, my, dotR, ringR, clearR, pc, ps)
					acc.r, acc.g, acc.b = acc.r+c.r, acc.g+c.g, acc.b+c.b
				}
			}
			img.SetRGBA(px, py, toRGBA(rgbF{acc.r / n, acc.g / n, acc.b / n}))
		}
	}
	return img
}

// markRadii returns the dot and ring radii (pixels) for an inscribed radius ρ (pixels).
func markRadii(rho float64) (dot, ring float64) {
	return math.Max(0.22*rho, 1.5), math.Max(0.36*rho, 2.3)
}

// ringWidth is the width in pixels of ring marks.
const ringWidth = 1.4

// markClearRadius is the radius of the pattern-free disc around a mark (0 without a mark).
func markClearRadius(mark string, dotR, ringR float64) float64 {
	switch mark {
	case "dot":
		return dotR + 1
	case "ring":
		return ringR + ringWidth/2 + 0.8
	}
	return 0
}

func hasOutline(s Scene) bool { return s.Fine.Outline != "none" && s.Fine.Outline != "" }

// sample returns the colour at (u, v) pixels in the shape frame, at signed distance d from the edge.
func sample(s Scene, d, u, v float64, bg, obj, out, pat, mark rgbF, mx, my, dotR, ringR, clearR, pc, ps float64) rgbF {
	if d > 0 {
		return bg
	}
	if hasOutline(s) && d > -s.Fine.OutlineWidth {
		return out
	}
	r := math.Hypot(u-mx, v-my)
	switch s.Fine.Mark {
	case "dot":
		if r < dotR {
			return mark
		}
	case "ring":
		if math.Abs(r-ringR) < ringWidth/2 {
			return mark
		}
	}
	if r < clearR || s.Pattern == "plain" || s.Fine.PatternPeriod <= 0 {
		return obj
	}
	p := (pc*u+ps*v)/s.Fine.PatternPeriod + s.Fine.PatternPhase
	q := (-ps*u+pc*v)/s.Fine.PatternPeriod + s.Fine.PatternPhase
	if inPattern(s.Pattern, p, q) {
		return pat
	}
	return obj
}

// inPattern reports whether pattern coordinates (p, q) fall on a mark of the pattern.
func inPattern(pattern string, p, q float64) bool {
	frac := func(x float64) float64 { return x - math.Floor(x) }
	switch pattern {
	case "striped":
		return frac(p) < 0.4
	case "dotted":
		dp, dq := frac(p)-0.5, frac(q)-0.5
		return dp*dp+dq*dq < 0.28*0.28
	case "checkered":
		const cell = 1.0
		i, j := math.Floor(p/cell), math.Floor(q/cell)
		if int(i+j)%2 != 0 {
			return false
		}
		fp, fq := frac(p/cell), frac(q/cell)
		return fp > 0.1 && fp < 0.9 && fq > 0.1 && fq < 0.9
	}
	return false
}

func toRGBA(c rgbF) color.RGBA {
	q := c.rgb()
	return color.RGBA{q.R, q.G, q.B, 255}
}
