package neti

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// exifJPEG encodes img as a JPEG with an APP1 EXIF segment (byte order "II" or "MM") holding orientation.
func exifJPEG(t *testing.T, img image.Image, orientation uint16, order binary.ByteOrder) []byte {
	t.Helper()
	var enc bytes.Buffer
	require.NoError(t, jpeg.Encode(&enc, img, &jpeg.Options{Quality: 100}))
	var tiff bytes.Buffer
	if order == binary.LittleEndian {
		tiff.WriteString("II")
	} else {
		tiff.WriteString("MM")
	}
	w := func(v any) { require.NoError(t, binary.Write(&tiff, order, v)) }
	w(uint16(42))
	w(uint32(8))         // IFD0 offset
	w(uint16(2))         // two entries
	w(uint16(0x010f))    // make (ASCII), ignored
	w(uint16(2))         // type ASCII
	w(uint32(4))         // count
	w([]byte("Go!\x00")) // value inline
	w(uint16(0x0112))    // orientation
	w(uint16(3))         // SHORT
	w(uint32(1))
	w(orientation)
	w(uint16(0))
	w(uint32(0)) // no next IFD
	payload := append([]byte("Exif\x00\x00"), tiff.Bytes()...)
	seg := []byte{0xff, 0xe1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	data := enc.Bytes()
	return append(append(append([]byte{}, data[:2]...), append(seg, payload...)...), data[2:]...)
}

// TestEXIFOrientation writes a 16×8 JPEG, left half red and right half blue, with orientation 6 (rotate
// 90° clockwise to display): the upright image is 8×16 with red on top. Orientation 1 and a JPEG without
// EXIF stay as stored; both byte orders are read.
func TestEXIFOrientation(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 16, 8))
	for y := range 8 {
		for x := range 16 {
			c := color.RGBA{R: 255, A: 255}
			if x >= 8 {
				c = color.RGBA{B: 255, A: 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	dir := t.TempDir()
	for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		path := filepath.Join(dir, "rotated.jpg")
		require.NoError(t, os.WriteFile(path, exifJPEG(t, img, 6, order), 0o644))
		data, err := LoadTrainImages([]string{path})
		require.NoError(t, err)
		got := data.images[0]
		require.Equal(t, image.Rect(0, 0, 8, 16), got.Bounds(), "orientation 6 swaps width and height (%v)", order)
		r, _, b, _ := got.At(4, 2).RGBA()
		assert.Greater(t, r>>8, uint32(200), "top is red (%v)", order)
		assert.Less(t, b>>8, uint32(60), "top is red (%v)", order)
		r, _, b, _ = got.At(4, 13).RGBA()
		assert.Less(t, r>>8, uint32(60), "bottom is blue (%v)", order)
		assert.Greater(t, b>>8, uint32(200), "bottom is blue (%v)", order)
	}
	var plain bytes.Buffer
	require.NoError(t, jpeg.Encode(&plain, img, nil))
	assert.Equal(t, 1, jpegOrientation(plain.Bytes()), "no EXIF")
	assert.Equal(t, 1, jpegOrientation(exifJPEG(t, img, 1, binary.BigEndian)))
	assert.Equal(t, 8, jpegOrientation(exifJPEG(t, img, 8, binary.LittleEndian)))
}

// TestOrientAll checks the eight EXIF orientations on a 3×2 image of distinct pixels against their
// definitions (where the stored corners end up).
func TestOrientAll(t *testing.T) {
	src := image.NewGray(image.Rect(0, 0, 3, 2))
	for i := range src.Pix {
		src.Pix[i] = uint8(10 * (i + 1)) // row-major: (0,0)=10 (1,0)=20 (2,0)=30 (0,1)=40 ...
	}
	at := func(img image.Image, x, y int) uint8 {
		r, _, _, _ := img.At(x, y).RGBA()
		return uint8(r >> 8)
	}
	// First row of the displayed image for each orientation.
	want := map[int][]uint8{
		1: {10, 20, 30}, 2: {30, 20, 10}, 3: {60, 50, 40}, 4: {40, 50, 60},
		5: {10, 40}, 6: {40, 10}, 7: {60, 30}, 8: {30, 60},
	}
	for o, row := range want {
		got := orient(src, o)
		var first []uint8
		for x := range got.Bounds().Dx() {
			first = append(first, at(got, x, 0))
		}
		assert.Equal(t, row, first, "orientation %d", o)
	}
}

// TestTrainPixels checks the preprocessing: transparency composited on white, greyscale and palette to
// RGB, centre crop of a non-square image (the border colour is cut off), squash keeping it, flips, and
// values in [-1, 1].
func TestTrainPixels(t *testing.T) {
	// 12×8: a 2-pixel black border left and right, white in the middle; transparent top-left pixel.
	img := image.NewNRGBA(image.Rect(0, 0, 12, 8))
	for y := range 8 {
		for x := range 12 {
			c := color.NRGBA{R: 255, G: 255, B: 255, A: 255}
			if x < 2 || x >= 10 {
				c = color.NRGBA{A: 255}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	cropped := vaePixels(img, 4, false, false) // the central 8×8 is all white
	for i, v := range cropped {
		require.InDelta(t, 1.0, v, 1e-6, "centre crop keeps only white, value %d", i)
	}
	squashed := vaePixels(img, 4, true, false)
	assert.Less(t, squashed[0], float32(0), "squash keeps the black border: %v", squashed[:4])

	transparent := image.NewNRGBA(image.Rect(0, 0, 2, 2)) // all alpha 0
	for _, v := range vaePixels(transparent, 2, false, false) {
		assert.InDelta(t, 1.0, v, 1e-6, "transparent is white")
	}
	grey := image.NewGray(image.Rect(0, 0, 2, 2))
	grey.Pix = []uint8{0, 255, 0, 255}
	g := vaePixels(grey, 2, false, false)
	require.Len(t, g, 12, "greyscale becomes 3 channels")
	assert.Equal(t, []float32{-1, 1, -1, 1}, g[8:12], "blue plane of the grey image")
	assert.Equal(t, []float32{1, -1, 1, -1}, vaePixels(grey, 2, false, true)[8:12], "mirrored")
	pal := image.NewPaletted(image.Rect(0, 0, 1, 1), color.Palette{color.RGBA{R: 255, A: 255}})
	assert.Equal(t, []float32{1, -1, -1}, vaePixels(pal, 1, false, false), "palette red")
}

// TestResizeBicubic checks the antialiased resampling: a constant image stays constant, a linear ramp
// keeps its mean, and upsampling is interpolating.
func TestResizeBicubic(t *testing.T) {
	flat := make([]float32, 30*20)
	for i := range flat {
		flat[i] = 100
	}
	for _, v := range resize(flat, 1, 30, 20, 7, 5) {
		assert.InDelta(t, 100, v, 1e-3)
	}
	ramp := make([]float32, 64)
	for i := range ramp {
		ramp[i] = float32(i)
	}
	down := resize(ramp, 1, 64, 1, 8, 1)
	for i, v := range down[2:6] {
		i += 2
		assert.InDelta(t, 8*float64(i)+3.5, v, 0.6, "box-like mean of each block of 8 (%d)", i)
	}
	up := resize([]float32{0, 100}, 1, 2, 1, 4, 1)
	assert.True(t, up[0] <= up[1] && up[1] <= up[2] && up[2] <= up[3], "monotone upsampling: %v", up)
}

// TestLoadTrainImagesErrors checks the data errors and notes, all raised before any model work.
func TestLoadTrainImagesErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := LoadTrainImages([]string{filepath.Join(dir, "missing")})
	assert.ErrorContains(t, err, "missing", "missing folder")

	empty := filepath.Join(dir, "empty")
	require.NoError(t, os.Mkdir(empty, 0o755))
	_, err = LoadTrainImages([]string{empty})
	assert.ErrorContains(t, err, "no PNG or JPEG image", "empty folder")

	_, err = LoadTrainImages(nil)
	assert.ErrorContains(t, err, "no files or folders")

	mixed := writeTestImages(t, filepath.Join(dir, "mixed"), 2)
	require.NoError(t, os.WriteFile(filepath.Join(mixed, "notes.txt"), []byte("hello"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(mixed, ".DS_Store"), []byte("x"), 0o644))
	data, err := LoadTrainImages([]string{mixed})
	require.NoError(t, err)
	assert.Len(t, data.Files, 2)
	require.Len(t, data.Notes, 1, "one note for notes.txt, hidden files ignored")
	assert.Contains(t, data.Notes[0], "notes.txt")

	// Subfolders are not read; they and the other skipped files are named in one note.
	writeTestImages(t, filepath.Join(mixed, "raw"), 1)
	require.NoError(t, os.Mkdir(filepath.Join(mixed, "old"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(mixed, "list.csv"), []byte("a,b"), 0o644))
	require.NoError(t, os.Symlink(filepath.Join(mixed, "raw"), filepath.Join(mixed, "zlink")))
	data, err = LoadTrainImages([]string{mixed})
	require.NoError(t, err)
	assert.Len(t, data.Files, 2, "the subfolders' images are not read")
	sep := string(filepath.Separator)
	assert.Equal(t, []string{"skipped 5 entries of " + mixed + ": list.csv, notes.txt (not PNG or JPEG images); old" + sep +
		", raw" + sep + ", zlink" + sep + " (subfolders: folders are not read recursively; to train on their images too, " +
		"list them with the folder, e.g. --train_data_dir " + mixed + "," + filepath.Join(mixed, "old") + ")"}, data.Notes)
	onlyFolders := filepath.Join(dir, "nested")
	writeTestImages(t, filepath.Join(onlyFolders, "a"), 1)
	_, err = LoadTrainImages([]string{onlyFolders})
	assert.ErrorContains(t, err, "no PNG or JPEG image in "+onlyFolders+" (skipped 1 entry of "+onlyFolders+": a"+sep+
		" (subfolders:", "an image-less folder's error names its subfolder")

	corrupt := writeTestImages(t, filepath.Join(dir, "corrupt"), 1)
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, image.NewGray(image.Rect(0, 0, 8, 8))))
	require.NoError(t, os.WriteFile(filepath.Join(corrupt, "broken.png"), buf.Bytes()[:buf.Len()/2], 0o644))
	_, err = LoadTrainImages([]string{corrupt})
	assert.ErrorContains(t, err, "broken.png", "a truncated PNG is named")

	mislabelled := writeTestImages(t, filepath.Join(dir, "mislabelled"), 1)
	require.NoError(t, os.WriteFile(filepath.Join(mislabelled, "fake.jpg"), []byte("not a jpeg"), 0o644))
	_, err = LoadTrainImages([]string{mislabelled})
	assert.ErrorContains(t, err, "fake.jpg")
}
