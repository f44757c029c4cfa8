package neti

import (
	stdcontext "context"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/neti/internal/backend"
)

// writeCutouts writes two 32×32 PNGs of a red disc on surroundings of colour bg, with alpha inside in the
// disc and outside elsewhere (the surroundings' colour is stored all the same, as PNG keeps straight
// colours).
func writeCutouts(t *testing.T, dir string, bg color.NRGBA, inside, outside uint8) string {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for i := range 2 {
		img := image.NewNRGBA(image.Rect(0, 0, 32, 32))
		for y := range 32 {
			for x := range 32 {
				c := bg
				c.A = outside
				if (x-16+4*i)*(x-16+4*i)+(y-16)*(y-16) < 64 {
					c = color.NRGBA{R: 220, G: uint8(60 * i), B: 40, A: inside}
				}
				img.SetNRGBA(x, y, c)
			}
		}
		f, err := os.Create(filepath.Join(dir, string(rune('a'+i))+".png"))
		require.NoError(t, err)
		require.NoError(t, png.Encode(f, img))
		require.NoError(t, f.Close())
	}
	return dir
}

// trainedWord trains TI for two steps on dir and returns its vector.
func trainedWord(t *testing.T, p *Pipeline, dir string, opts TrainOptions) []float32 {
	t.Helper()
	c, err := TrainConcept(stdcontext.Background(), p, []string{dir}, opts)
	require.NoError(t, err)
	word, _, err := c.Embed(500, 0)
	require.NoError(t, err)
	return word
}

// TestTrainMaskedLoss: with MaskedLoss, opaque images train as without it (the weighted mean of weights 1
// is the mean), and the same colours with half of them transparent train another vector (the mask
// counts); the weighting itself is TestMaskedMean's.
func TestTrainMaskedLoss(t *testing.T) {
	p := loadTiny(t)
	root := t.TempDir()
	opaque := writeCutouts(t, filepath.Join(root, "opaque"), color.NRGBA{G: 200, B: 30}, 255, 255)
	cutout := writeCutouts(t, filepath.Join(root, "cutout"), color.NRGBA{G: 200, B: 30}, 255, 0)
	opts := tinyTrainOptions("", 2)
	opts.Method, opts.GradientAccumulation = MethodTI, 1
	plain := trainedWord(t, p, opaque, opts)
	opts.MaskedLoss = true
	assert.InDeltaSlice(t, plain, trainedWord(t, p, opaque, opts), 1e-5, "opaque images: MaskedLoss must change nothing")
	masked := trainedWord(t, p, cutout, opts)
	assert.Greater(t, maxAbsDiff(plain, masked), 1e-4, "the transparent surroundings still counted fully")
	opts.MaskedLossBackground = 0.5
	half := trainedWord(t, p, cutout, opts)
	assert.Greater(t, maxAbsDiff(half, masked), 1e-4, "MaskedLossBackground had no effect")
}

// TestMaskedMean: the masked loss weights each latent pixel (all channels) by its weight and divides by the
// total weight.
func TestMaskedMean(t *testing.T) {
	be, err := backend.New("")
	require.NoError(t, err)
	defer be.Finalize()
	exec, err := graph.NewExec(be, maskedMean)
	require.NoError(t, err)
	sq := [][][][]float32{{{{1, 2}}, {{3, 4}}}, {{{5, 6}}, {{7, 8}}}} // [2, 2, 1, 2]
	weight := [][][][]float32{{{{1, 0}}}, {{{0.5, 0}}}}               // [2, 1, 1, 2]
	got := exec.MustExec(sq, weight)[0].Value().(float32)
	want := (1*1 + 1*3 + 0.5*5 + 0.5*7) / (2 * 1.5) // channels 2, total weight 1.5
	assert.InDelta(t, want, got, 1e-6)
}

func maxAbsDiff(a, b []float32) float64 {
	var m float64
	for i := range a {
		m = math.Max(m, math.Abs(float64(a[i]-b[i])))
	}
	return m
}

// TestTrainMaskedLossTransparentImage: an image with nothing opaque has no loss weight: an error naming
// it and the fixes, not a division by zero.
func TestTrainMaskedLossTransparentImage(t *testing.T) {
	p := loadTiny(t)
	dir := writeCutouts(t, filepath.Join(t.TempDir(), "clear"), color.NRGBA{G: 200}, 0, 0)
	opts := tinyTrainOptions("", 1)
	opts.MaskedLoss = true
	_, err := TrainConcept(stdcontext.Background(), p, []string{dir}, opts)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "a.png is fully transparent")
	assert.Contains(t, err.Error(), "MaskedLossBackground")
}

// TestMaskedLossOptions: MaskedLossBackground is a weight in [0, 1) and only means something with MaskedLoss.
func TestMaskedLossOptions(t *testing.T) {
	for _, c := range []struct {
		masked     bool
		background float64
		want       string
	}{
		{true, 1, "MaskedLossBackground is 1: expected a weight in [0, 1)"},
		{true, -0.1, "MaskedLossBackground is -0.1"},
		{true, math.NaN(), "MaskedLossBackground is NaN"},
		{false, 0.2, "MaskedLossBackground is 0.2 but MaskedLoss is off"},
	} {
		o := tinyTrainOptions("", 1)
		o.MaskedLoss, o.MaskedLossBackground = c.masked, c.background
		err := o.Validate()
		require.Error(t, err, "%+v", c)
		assert.Contains(t, err.Error(), c.want)
	}
	o := tinyTrainOptions("", 1)
	o.MaskedLoss, o.MaskedLossBackground = true, 0.2
	assert.NoError(t, o.Validate())
}

// TestMaskedPixels: straight colours under transparency, the alpha plane cropped and mirrored with the
// colours, and latent weights as patch means.
func TestMaskedPixels(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 4, 2)) // cropped to its central 2×2: columns 1 and 2
	for x := range 4 {
		img.SetNRGBA(x, 0, color.NRGBA{R: 255, A: uint8(85 * x)})
		img.SetNRGBA(x, 1, color.NRGBA{B: 255, A: 255})
	}
	px, alpha := maskedPixels(img, 2, false, false)
	assert.Equal(t, []float32{1, 1, -1, -1}, px[:4], "red kept under alpha 85 and 170")
	assert.InDeltaSlice(t, []float32{85.0 / 255, 170.0 / 255, 1, 1}, alpha, 1e-6)
	_, mirrored := maskedPixels(img, 2, false, true)
	assert.InDeltaSlice(t, []float32{170.0 / 255, 85.0 / 255, 1, 1}, mirrored, 1e-6)
	assert.InDeltaSlice(t, []float32{0.25 + 0.75*(85.0+170+255+255)/(4*255)}, latentWeights(alpha, 2, 1, 1, 0.25), 1e-6)
}
