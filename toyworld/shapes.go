package toyworld

import (
	"math"
	"sync"
)

// shapeGeom is a shape as a closed polygon in shape units, normalised so that its area is π (an
// equivalent-circle radius of 1) and its area centroid is the origin (y points up).
type shapeGeom struct {
	xs, ys []float64
	extent float64 // the largest distance of a vertex from the origin
	// inX, inY and inR are the deepest interior point (the centre of the largest inscribed circle), where
	// the inner mark sits, and that circle's radius.
	inX, inY, inR float64
}

var (
	shapeOnce  sync.Once
	shapeTable map[string]*shapeGeom
)

// geometry returns the normalised polygon of a shape (nil for an unknown name).
func geometry(name string) *shapeGeom {
	shapeOnce.Do(func() {
		shapeTable = map[string]*shapeGeom{}
		for _, s := range Shapes {
			xs, ys := rawShape(s)
			shapeTable[s] = normalise(xs, ys)
		}
	})
	return shapeTable[name]
}

// rawShape returns the un-normalised polygon (counter-clockwise) of each shape.
func rawShape(name string) (xs, ys []float64) {
	add := func(x, y float64) { xs, ys = append(xs, x), append(ys, y) }
	polar := func(deg, r float64) { add(r*math.Cos(deg*math.Pi/180), r*math.Sin(deg*math.Pi/180)) }
	switch name {
	case "circle":
		for i := range 96 {
			polar(float64(i)*360/96, 1)
		}
	case "square":
		add(1, 1)
		add(-1, 1)
		add(-1, -1)
		add(1, -1)
	case "triangle":
		for _, a := range []float64{90, 210, 330} {
			polar(a, 1)
		}
	case "star":
		for i := range 10 {
			r := 1.0
			if i%2 == 1 {
				r = 0.45
			}
			polar(90+float64(i)*36, r)
		}
	case "heart":
		// The classic parametric heart x = 16 sin³t, y = 13 cos t − 5 cos 2t − 2 cos 3t − cos 4t.
		for i := range 72 {
			t := float64(i) * 2 * math.Pi / 72
			s := math.Sin(t)
			add(-16*s*s*s, 13*math.Cos(t)-5*math.Cos(2*t)-2*math.Cos(3*t)-math.Cos(4*t))
		}
	case "cross":
		const w = 0.33
		pts := [][2]float64{{w, w}, {w, 1}, {-w, 1}, {-w, w}, {-1, w}, {-1, -w}, {-w, -w}, {-w, -1}, {w, -1}, {w, -w}, {1, -w}, {1, w}}
		for _, p := range pts {
			add(p[0], p[1])
		}
	case "diamond":
		add(0.7, 0)
		add(0, 1)
		add(-0.7, 0)
		add(0, -1)
	case "moon":
		// The unit circle minus a circle of radius r2 centred at (d, 0), turned so that it opens up-right.
		const r2, d = 0.75, 0.55
		x0 := (d*d + 1 - r2*r2) / (2 * d)
		y0 := math.Sqrt(1 - x0*x0)
		t0 := math.Atan2(y0, x0)
		p0 := math.Atan2(y0, x0-d)
		const n = 40
		rot := func(x, y float64) {
			c, s := math.Cos(math.Pi/6), math.Sin(math.Pi/6)
			add(c*x-s*y, s*x+c*y)
		}
		for i := range n + 1 {
			t := t0 + (2*math.Pi-2*t0)*float64(i)/n
			rot(math.Cos(t), math.Sin(t))
		}
		for i := 1; i < n; i++ {
			p := 2*math.Pi - p0 - (2*math.Pi-2*p0)*float64(i)/n
			rot(d+r2*math.Cos(p), r2*math.Sin(p))
		}
	}
	return xs, ys
}

// normalise scales a polygon to area π and moves its area centroid to the origin (shoelace formulas).
func normalise(xs, ys []float64) *shapeGeom {
	var a, cx, cy float64
	n := len(xs)
	for i := range n {
		j := (i + 1) % n
		cr := xs[i]*ys[j] - xs[j]*ys[i]
		a += cr
		cx += (xs[i] + xs[j]) * cr
		cy += (ys[i] + ys[j]) * cr
	}
	a /= 2
	cx /= 6 * a
	cy /= 6 * a
	s := math.Sqrt(math.Pi / math.Abs(a))
	g := &shapeGeom{xs: make([]float64, n), ys: make([]float64, n)}
	for i := range n {
		g.xs[i], g.ys[i] = (xs[i]-cx)*s, (ys[i]-cy)*s
		g.extent = math.Max(g.extent, math.Hypot(g.xs[i], g.ys[i]))
	}
	// Grid search for the deepest point, then a finer search around it.
	step, span := 0.02, g.extent
	cx, cy = 0, 0
	for pass := 0; pass < 2; pass++ {
		bx, by, best := cx, cy, -g.sdf(cx, cy)
		for y := cy - span; y <= cy+span; y += step {
			for x := cx - span; x <= cx+span; x += step {
				if d := -g.sdf(x, y); d > best+1e-12 {
					bx, by, best = x, y, d
				}
			}
		}
		cx, cy, span, step = bx, by, 2*step, step/20
	}
	g.inX, g.inY, g.inR = cx, cy, -g.sdf(cx, cy)
	return g
}

// sdf is the signed distance from (x, y) to the polygon's boundary, negative inside (crossing-number
// inside test; the distance is the smallest distance to an edge segment).
func (g *shapeGeom) sdf(x, y float64) float64 {
	n := len(g.xs)
	best := math.Inf(1)
	inside := false
	for i, j := 0, n-1; i < n; j, i = i, i+1 {
		ax, ay, bx, by := g.xs[j], g.ys[j], g.xs[i], g.ys[i]
		if (ay > y) != (by > y) && x < ax+(y-ay)*(bx-ax)/(by-ay) {
			inside = !inside
		}
		ex, ey := bx-ax, by-ay
		t := ((x-ax)*ex + (y-ay)*ey) / (ex*ex + ey*ey)
		t = max(0, min(1, t))
		dx, dy := x-ax-t*ex, y-ay-t*ey
		best = min(best, dx*dx+dy*dy)
	}
	d := math.Sqrt(best)
	if inside {
		return -d
	}
	return d
}
