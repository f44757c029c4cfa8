package toyworld

import "math"

// RGB is an 8-bit sRGB colour; it serialises to JSON as {"r":..,"g":..,"b":..}.
type RGB struct {
	R uint8 `json:"r"`
	G uint8 `json:"g"`
	B uint8 `json:"b"`
}

// Lab is a CIE L*a*b* colour (D65 white): L in [0, 100], a and b roughly in [-128, 127].
type Lab struct {
	L, A, B float64
}

// rgbF is an sRGB colour with float channels in [0, 1], used while rendering and measuring.
type rgbF struct{ r, g, b float64 }

func (c RGB) f() rgbF { return rgbF{float64(c.R) / 255, float64(c.G) / 255, float64(c.B) / 255} }

func (c rgbF) rgb() RGB {
	q := func(v float64) uint8 { return uint8(math.Round(clamp01(v) * 255)) }
	return RGB{q(c.r), q(c.g), q(c.b)}
}

// mix returns (1-t)·c + t·d, channel by channel in sRGB.
func (c rgbF) mix(d rgbF, t float64) rgbF {
	return rgbF{c.r + (d.r-c.r)*t, c.g + (d.g-c.g)*t, c.b + (d.b-c.b)*t}
}

func clamp01(v float64) float64 { return math.Min(1, math.Max(0, v)) }

// linear undoes the sRGB transfer curve.
func linear(v float64) float64 {
	if v <= 0.04045 {
		return v / 12.92
	}
	return math.Pow((v+0.055)/1.055, 2.4)
}

// lab converts sRGB to CIE Lab (D65): linearise, multiply by the sRGB→XYZ matrix, then
// L = 116·f(Y/Yn) − 16, a = 500·(f(X/Xn) − f(Y/Yn)), b = 200·(f(Y/Yn) − f(Z/Zn)),
// f(t) = t^(1/3) above (6/29)³ and t/(3·(6/29)²) + 4/29 below.
func (c rgbF) lab() Lab {
	r, g, b := linear(c.r), linear(c.g), linear(c.b)
	x := (0.4124*r + 0.3576*g + 0.1805*b) / 0.95047
	y := 0.2126*r + 0.7152*g + 0.0722*b
	z := (0.0193*r + 0.1192*g + 0.9505*b) / 1.08883
	f := func(t float64) float64 {
		const d = 6.0 / 29
		if t > d*d*d {
			return math.Cbrt(t)
		}
		return t/(3*d*d) + 4.0/29
	}
	fx, fy, fz := f(x), f(y), f(z)
	return Lab{116*fy - 16, 500 * (fx - fy), 200 * (fy - fz)}
}

// Lab returns the colour in CIE Lab.
func (c RGB) Lab() Lab { return c.f().lab() }

// DeltaE is the CIE76 colour difference: the Euclidean distance in Lab.
func DeltaE(p, q Lab) float64 {
	dl, da, db := p.L-q.L, p.A-q.A, p.B-q.B
	return math.Sqrt(dl*dl + da*da + db*db)
}

// hsl converts sRGB to hue (degrees in [0, 360)), saturation and lightness in [0, 1].
func (c rgbF) hsl() (h, s, l float64) {
	mx := math.Max(c.r, math.Max(c.g, c.b))
	mn := math.Min(c.r, math.Min(c.g, c.b))
	l = (mx + mn) / 2
	d := mx - mn
	if d == 0 {
		return 0, 0, l
	}
	s = d / (1 - math.Abs(2*l-1))
	switch mx {
	case c.r:
		h = math.Mod((c.g-c.b)/d, 6)
	case c.g:
		h = (c.b-c.r)/d + 2
	default:
		h = (c.r-c.g)/d + 4
	}
	h *= 60
	if h < 0 {
		h += 360
	}
	return h, s, l
}

// fromHSL converts hue (degrees), saturation and lightness (in [0, 1], clamped) to sRGB.
func fromHSL(h, s, l float64) rgbF {
	s, l = clamp01(s), clamp01(l)
	h = math.Mod(h, 360)
	if h < 0 {
		h += 360
	}
	c := (1 - math.Abs(2*l-1)) * s
	x := c * (1 - math.Abs(math.Mod(h/60, 2)-1))
	m := l - c/2
	var r, g, b float64
	switch {
	case h < 60:
		r, g, b = c, x, 0
	case h < 120:
		r, g, b = x, c, 0
	case h < 180:
		r, g, b = 0, c, x
	case h < 240:
		r, g, b = 0, x, c
	case h < 300:
		r, g, b = x, 0, c
	default:
		r, g, b = c, 0, x
	}
	return rgbF{r + m, g + m, b + m}
}
