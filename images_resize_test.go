package neti

import (
	"fmt"
	"image"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/org/neti/internal/safetensors"
	"github.com/stretchr/testify/require"
	"golang.org/x/image/draw"
)

// resizeCase is one resize of testdata/reference/resize.safetensors (tools/reference/ref_resize.py):
// an 8-bit RGB input and PIL's Image.resize(…, BICUBIC) of it, both [h, w, 3].
type resizeCase struct {
	name     string
	in, want []uint8
	w, h     int
	ow, oh   int
}

// loadResizeCases reads the fixture's seven resizes.
func loadResizeCases(t *testing.T) []resizeCase {
	t.Helper()
	f, err := safetensors.Open(filepath.Join("testdata", "reference", "resize.safetensors"))
	require.NoError(t, err)
	defer f.Close()
	read := func(name string) ([]uint8, int, int) {
		info, ok := f.Info(name)
		require.True(t, ok, name)
		require.Len(t, info.Shape, 3, name)
		require.EqualValues(t, 3, info.Shape[2], name)
		tt, err := f.Tensor(name, dtypes.Uint8)
		require.NoError(t, err, name)
		return tensors.MustCopyFlatData[uint8](tt), int(info.Shape[1]), int(info.Shape[0])
	}
	var cases []resizeCase
	for _, name := range f.Names() {
		base, size, _ := strings.Cut(name, "/")
		if size == "input" {
			continue
		}
		var ow, oh int
		_, err := fmt.Sscanf(size, "%dx%d", &ow, &oh)
		require.NoError(t, err, name)
		in, w, h := read(base + "/input")
		want, gw, gh := read(name)
		require.Equal(t, []int{ow, oh}, []int{gw, gh}, name)
		cases = append(cases, resizeCase{name: name, in: in, want: want, w: w, h: h, ow: ow, oh: oh})
	}
	require.Len(t, cases, 7, "cases in the fixture")
	return cases
}

// rgbaOf is an [h, w, 3] image as an opaque image.RGBA.
func rgbaOf(pix []uint8, w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range w * h {
		copy(img.Pix[4*i:4*i+3], pix[3*i:3*i+3])
		img.Pix[4*i+3] = 255
	}
	return img
}

// handResize is neti's path: rgbOnWhite, resize on float planes, rounded and clamped as vaePixels does;
// [oh, ow, 3].
func handResize(c resizeCase) []uint8 {
	planes, w, h := rgbOnWhite(rgbaOf(c.in, c.w, c.h))
	r := resize(planes, 3, w, h, c.ow, c.oh)
	out := make([]uint8, 3*c.ow*c.oh)
	for ch := range 3 {
		for i := range c.ow * c.oh {
			out[3*i+ch] = uint8(math.Round(math.Min(math.Max(float64(r[ch*c.ow*c.oh+i]), 0), 255)))
		}
	}
	return out
}

// xdrawResize is golang.org/x/image/draw's CatmullRom.Scale, image.RGBA to image.RGBA; [oh, ow, 3].
func xdrawResize(c resizeCase) []uint8 {
	dst := image.NewRGBA(image.Rect(0, 0, c.ow, c.oh))
	draw.CatmullRom.Scale(dst, dst.Bounds(), rgbaOf(c.in, c.w, c.h), image.Rect(0, 0, c.w, c.h), draw.Src, nil)
	out := make([]uint8, 3*c.ow*c.oh)
	for i := range c.ow * c.oh {
		copy(out[3*i:3*i+3], dst.Pix[4*i:4*i+3])
	}
	return out
}

// levelDiff is the max and mean absolute difference in 8-bit levels, and the share of values that differ.
func levelDiff(got, want []uint8) (maxd int, mean, differ float64) {
	sum, n := 0, 0
	for i := range got {
		d := int(got[i]) - int(want[i])
		if d < 0 {
			d = -d
		}
		maxd = max(maxd, d)
		sum += d
		if d != 0 {
			n++
		}
	}
	return maxd, float64(sum) / float64(len(got)), float64(n) / float64(len(got))
}

// resizeTolerance is how far, in 8-bit levels, neti's resize may differ from PIL's: none. resize
// reproduces PIL's fixed-point passes, so any difference is a bug (a float two-pass resize with the same
// weights differed by up to 17 levels at sharp saturated edges, 2 on the photo).
const resizeTolerance = 0

// TestResizePILParity checks resize, and vaePixels's squash path through it, against PIL's
// Image.resize(…, BICUBIC) on the fixture's images (down to 64 and to 512 columns, non-integer ratios,
// up), and measures golang.org/x/image/draw's CatmullRom on the same cases: the reason images.go keeps its
// own resize is that draw does not match PIL (up to 17 levels on the fixture); if it ever does, use it.
func TestResizePILParity(t *testing.T) {
	xdrawMax := 0
	for _, c := range loadResizeCases(t) {
		got := handResize(c)
		m, mean, differ := levelDiff(got, c.want)
		xm, xmean, xdiffer := levelDiff(xdrawResize(c), c.want)
		xdrawMax = max(xdrawMax, xm)
		t.Logf("%-17s neti: max %d mean %.4f differ %.4f   x/image/draw: max %2d mean %.4f differ %.4f",
			c.name, m, mean, differ, xm, xmean, xdiffer)
		require.LessOrEqual(t, m, resizeTolerance, "%s: levels off PIL (mean %.4f, %.2f%% of values)", c.name, mean, 100*differ)
		if c.ow == c.oh {
			// vaePixels's squash path: the same levels, mapped to [−1, 1].
			px := vaePixels(rgbaOf(c.in, c.w, c.h), c.ow, true, false)
			for ch := range 3 {
				for i := range c.ow * c.oh {
					level := math.Round((float64(px[ch*c.ow*c.oh+i]) + 1) * 127.5)
					require.InDelta(t, float64(c.want[3*i+ch]), level, resizeTolerance, "%s: vaePixels channel %d pixel %d", c.name, ch, i)
				}
			}
		}
	}
	require.Greater(t, xdrawMax, resizeTolerance+1,
		"x/image/draw's CatmullRom now matches PIL within a level: replace resize with it (issue 15 item 6)")
}
