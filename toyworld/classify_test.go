package toyworld

import (
	"fmt"
	"image"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
)

// classificationRates classifies n random scenes (seed fixed, independent of the prototypes), each
// degraded by degrade, and returns the share classified correctly per attribute.
func classificationRates(n int, seed uint64, degrade func(image.Image, *rand.Rand) image.Image) (map[string]float64, map[string]int) {
	rng := rand.New(rand.NewPCG(seed, 99))
	noise := rand.New(rand.NewPCG(seed, 100))
	ok := map[string]float64{}
	errs := map[string]int{}
	for range n {
		s := RandomScene(rng)
		got, want := Classify(degrade(Render(s), noise)), s.Attributes()
		gf := got.fields()
		for k, f := range want.fields() {
			if *gf[k].v == *f.v {
				ok[f.name]++
			} else {
				errs[fmt.Sprintf("%s %s→%s", f.name, *f.v, *gf[k].v)]++
			}
		}
	}
	for k := range ok {
		ok[k] /= float64(n)
	}
	return ok, errs
}

func topErrors(errs map[string]int) []string {
	var out []string
	for k, v := range errs {
		out = append(out, fmt.Sprintf("%s ×%d", k, v))
	}
	slices.Sort(out)
	return out
}

// TestClassifyRandomScenes: the renderer's own random scenes are classified correctly, sharp and with
// mild degradations (the test logs every rate; the thresholds are asserted).
func TestClassifyRandomScenes(t *testing.T) {
	sharp := func(img image.Image, _ *rand.Rand) image.Image { return img }
	cases := []struct {
		name    string
		n       int
		degrade func(image.Image, *rand.Rand) image.Image
		min     map[string]float64
	}{
		{"sharp", 500, sharp, map[string]float64{"shape": 0.98, "color": 0.98, "background": 0.98, "size": 0.98, "position": 0.98, "pattern": 0.8}},
		{"noise σ=8", 200, func(img image.Image, r *rand.Rand) image.Image { return AddNoise(img, r, 8) },
			map[string]float64{"shape": 0.97, "color": 0.97, "background": 0.98, "size": 0.97, "position": 0.98, "pattern": 0.7}},
		{"box blur 3×3", 200, func(img image.Image, _ *rand.Rand) image.Image { return BoxBlur(img) },
			map[string]float64{"shape": 0.97, "color": 0.96, "background": 0.98, "size": 0.97, "position": 0.98, "pattern": 0.45}},
		{"blur + noise σ=8", 200, func(img image.Image, r *rand.Rand) image.Image { return AddNoise(BoxBlur(img), r, 8) },
			map[string]float64{"shape": 0.97, "color": 0.96, "background": 0.98, "size": 0.97, "position": 0.98, "pattern": 0.35}},
	}
	for _, c := range cases {
		rates, errs := classificationRates(c.n, 2024, c.degrade)
		t.Logf("%-17s n=%d shape %.3f color %.3f pattern %.3f size %.3f position %.3f background %.3f", c.name, c.n,
			rates["shape"], rates["color"], rates["pattern"], rates["size"], rates["position"], rates["background"])
		t.Logf("%-17s errors: %v", c.name, topErrors(errs))
		for k, lo := range c.min {
			assert.GreaterOrEqual(t, rates[k], lo, "%s: %s classification rate", c.name, k)
		}
	}
}

func TestClassifyEmptyImage(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, ImageSize, ImageSize))
	c := ColorRGB("blue", HSLJitter{})
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, 255
	}
	m := Measure(img)
	assert.False(t, m.Found)
	assert.Equal(t, Attributes{Background: "blue"}, Classify(img))
}

func TestClassifyOtherSizes(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for i := range 10 {
		s := RandomScene(rng)
		img := Render(s)
		big := image.NewRGBA(image.Rect(0, 0, 128, 128))
		for y := range 128 {
			for x := range 128 {
				big.Set(x, y, img.At(x/2, y/2))
			}
		}
		assert.Equal(t, Classify(img), Classify(big), "scene %d rendered at 64 and enlarged to 128", i)
	}
}
