package neti

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pngChunk encodes one PNG chunk: length, type, data and the CRC of type and data.
func pngChunk(kind string, data []byte) []byte {
	out := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	out = append(append(out, kind...), data...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(append([]byte(kind), data...)))
}

// bombPNG is a small PNG whose header declares a w×h 8-bit RGBA image, followed by a compressed stream
// of zeros for its first rows only (a decoder that trusts the header allocates 4·w·h bytes first).
func bombPNG(t testing.TB, w, h uint32) []byte {
	t.Helper()
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0) // bit depth 8, colour type RGBA, deflate, filter 0, no interlace
	var idat bytes.Buffer
	z := zlib.NewWriter(&idat)
	_, err := z.Write(make([]byte, 64<<10))
	require.NoError(t, err)
	require.NoError(t, z.Close())
	out := append([]byte{}, pngMagic...)
	out = append(out, pngChunk("IHDR", ihdr)...)
	out = append(out, pngChunk("IDAT", idat.Bytes())...)
	return append(out, pngChunk("IEND", nil)...)
}

// bombJPEG is a small baseline JPEG whose frame header (SOF0) is rewritten to declare a w×h image.
func bombJPEG(t testing.TB, w, h uint16) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 16, 16)), nil))
	data := buf.Bytes()
	sof := bytes.Index(data, []byte{0xff, 0xc0})
	require.Positive(t, sof, "the encoder writes a baseline frame header")
	binary.BigEndian.PutUint16(data[sof+5:], h) // marker, length (2), precision (1), then height and width
	binary.BigEndian.PutUint16(data[sof+7:], w)
	return data
}

// TestTrainImagePixelLimit: a 1 KB PNG (or JPEG) declaring a 40000×40000 (65000×65000) image is refused
// from its header, before decoding: the error names the file, its size, the limit and the fix, and almost
// nothing is allocated. An image at the limit's scale of everyday photos still loads.
func TestTrainImagePixelLimit(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, size string
		data       []byte
	}{
		{"bomb.png", "40000x40000 pixels (1600.0 megapixels)", bombPNG(t, 40000, 40000)},
		{"bomb.jpg", "65000x65000 pixels (4225.0 megapixels)", bombJPEG(t, 65000, 65000)},
		{"wide.png", "9000x8000 pixels (72.0 megapixels)", bombPNG(t, 9000, 8000)}, // just over the limit
	} {
		require.Less(t, len(tc.data), 2000, "%s is a small file", tc.name)
		path := filepath.Join(dir, tc.name)
		require.NoError(t, os.WriteFile(path, tc.data, 0o644))
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := LoadTrainImages([]string{path})
		runtime.ReadMemStats(&after)
		require.Error(t, err, tc.name)
		for _, want := range []string{path, tc.size, "at most 64.0 megapixels", "downscale it"} {
			assert.Contains(t, err.Error(), want, tc.name)
		}
		assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(16<<20),
			"%s: refused from the header, without allocating its pixels", tc.name)
	}

	// A 61 MP camera's 9504×6336 passes the header check (the pixel data is missing, so it is reported
	// corrupt, not too large).
	path := filepath.Join(dir, "camera.png")
	require.NoError(t, os.WriteFile(path, bombPNG(t, 9504, 6336), 0o644))
	_, err := LoadTrainImages([]string{path})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is corrupt")
	assert.NotContains(t, err.Error(), "megapixels")

	// The limit is checked from the header of a real image too.
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, image.NewGray(image.Rect(0, 0, 30, 20))))
	_, _, err = decodeTrainImage("small.png", buf.Bytes(), 599)
	assert.ErrorContains(t, err, "small.png declares 30x20 pixels")
	img, _, err := decodeTrainImage("small.png", buf.Bytes(), 600)
	require.NoError(t, err)
	assert.Equal(t, image.Rect(0, 0, 30, 20), img.Bounds())
}

// fuzzTrainImageLimit keeps the fuzzer's images small (256×256), so that every input runs fast and in
// bounded memory.
const fuzzTrainImageLimit = 1 << 16

// FuzzTrainImage feeds arbitrary bytes to the training-image decoder: it never panics; an image it
// returns is within the pixel limit, and prepares to finite pixels in [-1, 1]; an error or a note names the
// file. Seeds: testdata/fuzz/FuzzTrainImage and the images built here.
func FuzzTrainImage(f *testing.F) {
	var buf bytes.Buffer
	rgba := image.NewNRGBA(image.Rect(0, 0, 5, 3))
	for i := range rgba.Pix {
		rgba.Pix[i] = uint8(37 * i)
	}
	require.NoError(f, png.Encode(&buf, rgba))
	f.Add(bytes.Clone(buf.Bytes()))
	buf.Reset()
	require.NoError(f, jpeg.Encode(&buf, rgba, nil))
	f.Add(bytes.Clone(buf.Bytes()))
	f.Add(bombPNG(f, 300, 300))
	f.Add(bombJPEG(f, 300, 300))
	f.Add([]byte("not an image"))
	f.Fuzz(func(t *testing.T, data []byte) {
		const name = "fuzz.img"
		img, note, err := decodeTrainImage(name, data, fuzzTrainImageLimit)
		if err != nil {
			assert.Contains(t, err.Error(), name)
			return
		}
		if note != "" {
			assert.Contains(t, note, name)
			return
		}
		b := img.Bounds()
		require.Positive(t, b.Dx())
		require.Positive(t, b.Dy())
		require.LessOrEqual(t, int64(b.Dx())*int64(b.Dy()), int64(fuzzTrainImageLimit))
		pixels := vaePixels(img, 8, false, true)
		require.Len(t, pixels, 3*8*8)
		for _, v := range pixels {
			require.False(t, math.IsNaN(float64(v)), "pixel is NaN")
			require.True(t, v >= -1 && v <= 1, "pixel %g outside [-1, 1]", v)
		}
	})
}

// TestTrainImageColorModels: the header check accepts every PNG colour model the decoder does (16-bit,
// palette, grey with alpha), so the limit costs no valid image.
func TestTrainImageColorModels(t *testing.T) {
	for name, img := range map[string]image.Image{
		"rgba64":  image.NewNRGBA64(image.Rect(0, 0, 3, 2)),
		"palette": image.NewPaletted(image.Rect(0, 0, 3, 2), color.Palette{color.Black, color.White}),
		"gray16":  image.NewGray16(image.Rect(0, 0, 3, 2)),
	} {
		var buf bytes.Buffer
		require.NoError(t, png.Encode(&buf, img))
		got, note, err := decodeTrainImage(name+".png", buf.Bytes(), MaxTrainImagePixels)
		require.NoError(t, err, name)
		assert.Empty(t, note, name)
		assert.Equal(t, image.Rect(0, 0, 3, 2), got.Bounds(), name)
	}
}
