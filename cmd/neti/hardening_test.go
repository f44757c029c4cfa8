package main

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/neti/internal/safetensors"
)

// hugePNG is a valid 8×8 PNG whose header is rewritten to declare a w×h image (its CRC fixed): a
// decompression bomb's header on a file of under 100 bytes.
func hugePNG(t *testing.T, w, h uint32) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, image.NewGray(image.Rect(0, 0, 8, 8))))
	data := buf.Bytes()
	const ihdr = 8 + 4 // signature, then the IHDR chunk's length; its type and data follow
	require.Equal(t, "IHDR", string(data[ihdr:ihdr+4]))
	binary.BigEndian.PutUint32(data[ihdr+4:], w)
	binary.BigEndian.PutUint32(data[ihdr+8:], h)
	binary.BigEndian.PutUint32(data[ihdr+4+13:], crc32.ChecksumIEEE(data[ihdr:ihdr+4+13]))
	return data
}

// TestTrainRefusesDecompressionBomb: neti train on a folder holding a PNG that declares 40000×40000
// pixels fails before the model loads (the model path does not exist), naming the file, its size, the
// limit and the fix.
func TestTrainRefusesDecompressionBomb(t *testing.T) {
	images := writeImages(t)
	bomb := filepath.Join(images, "bomb.png")
	require.NoError(t, os.WriteFile(bomb, hugePNG(t, 40000, 40000), 0o644))
	_, _, err := runCLI(t, "train", "--pretrained_model_name_or_path", "/nonexistent/model",
		"--train_data_dir", images, "--placeholder_token", "<toy>")
	require.Error(t, err)
	for _, want := range []string{bomb, "40000x40000 pixels", "at most 64.0 megapixels", "downscale it"} {
		assert.Contains(t, err.Error(), want)
	}
	assert.NotContains(t, err.Error(), "/nonexistent/model", "refused before the model is looked up")
}

// TestGenerateRefusesNonFiniteConcept: a concept file whose net.1.weight holds a NaN is refused by neti
// generate before the model loads (the model path does not exist), naming the file and the tensor.
func TestGenerateRefusesNonFiniteConcept(t *testing.T) {
	good := conceptFile(t, "<tiny-toy>")
	f, err := safetensors.Open(good)
	require.NoError(t, err)
	meta := f.Metadata()
	ts := make(map[string]*tensors.Tensor)
	for _, name := range f.Names() {
		ts[name], err = f.Tensor(name, 0)
		require.NoError(t, err)
	}
	require.NoError(t, f.Close())
	values := tensors.MustCopyFlatData[float32](ts["net.1.weight"])
	values[5] = float32(math.NaN())
	ts["net.1.weight"] = tensors.FromFlatDataAndDimensions(values, ts["net.1.weight"].Shape().Dimensions...)
	bad := filepath.Join(t.TempDir(), "nan.safetensors")
	require.NoError(t, safetensors.Write(bad, ts, meta))

	_, _, err = runCLI(t, "generate", "--pretrained_model_name_or_path", "/nonexistent/model", "--concept", bad,
		"a photo of <tiny-toy>")
	require.Error(t, err)
	for _, want := range []string{bad, "tensor net.1.weight holds 1 non-finite values", "at index 5, is NaN"} {
		assert.Contains(t, err.Error(), want)
	}
	assert.NotContains(t, err.Error(), "/nonexistent/model", "refused before the model is looked up")
}
