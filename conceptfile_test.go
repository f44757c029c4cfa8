package neti

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/neti/internal/safetensors"
)

// sampleConcept is a default-size (width 768) concept with every metadata field set.
func sampleConcept(t testing.TB, seed uint64) *Concept {
	t.Helper()
	c, err := NewConcept(DefaultMapperConfig(768, 0.3891, seed))
	require.NoError(t, err)
	c.Placeholder, c.SuperCategory, c.BaseModel = "<cat-toy>", "toy", "runwayml/stable-diffusion-v1-5"
	c.Alpha, c.Truncation = 0.25, 64
	c.LayerNames = []string{"IN01", "IN02", "IN04", "IN05", "IN07", "IN08", "MID", "OUT03", "OUT04", "OUT05",
		"OUT06", "OUT07", "OUT08", "OUT09", "OUT10", "OUT11"}
	c.Training = json.RawMessage(`{"steps":1000,"lr":0.008}`)
	return c
}

// TestConceptRoundTrip saves and loads a default-size concept: metadata, weights and W come back
// bit-identical, Embed agrees, the file is under 2.5 MB, and a second save keeps the first as .prev1.
func TestConceptRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cat.safetensors")
	c := sampleConcept(t, 11)
	require.NoError(t, SaveConcept(path, c))
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.LessOrEqual(t, info.Size(), int64(2_500_000), "concept file size")
	assert.NoFileExists(t, path+".prev1", "no previous file on the first save")

	back, err := LoadConcept(path)
	require.NoError(t, err)
	assert.Equal(t, c.Mapper, back.Mapper)
	assert.Equal(t, c.Placeholder, back.Placeholder)
	assert.Equal(t, c.SuperCategory, back.SuperCategory)
	assert.Equal(t, c.BaseModel, back.BaseModel)
	assert.Equal(t, c.Alpha, back.Alpha)
	assert.Equal(t, c.Truncation, back.Truncation)
	assert.Equal(t, c.LayerNames, back.LayerNames)
	assert.JSONEq(t, string(c.Training), string(back.Training))
	want, got := c.Weights(), back.Weights()
	require.Len(t, got, len(want))
	for name, w := range want {
		require.Contains(t, got, name)
		assert.Equal(t, tensors.MustCopyFlatData[float32](w), tensors.MustCopyFlatData[float32](got[name]), name)
	}
	w1, b1, err := c.Embed(981, 15)
	require.NoError(t, err)
	w2, b2, err := back.Embed(981, 15)
	require.NoError(t, err)
	assert.Equal(t, w1, w2, "Embed after the round trip")
	assert.Equal(t, b1, b2, "Embed after the round trip")

	first, err := os.ReadFile(path)
	require.NoError(t, err)
	c2 := sampleConcept(t, 12)
	require.NoError(t, SaveConcept(path, c2))
	prev, err := os.ReadFile(path + ".prev1")
	require.NoError(t, err)
	assert.Equal(t, first, prev, ".prev1 holds the previous file")
	again, err := LoadConcept(path)
	require.NoError(t, err)
	assert.Equal(t, uint64(12), again.Mapper.Seed, "the new file replaced the old")
}

// TestLoadConceptErrors checks that bad files give errors that say what is wrong.
func TestLoadConceptErrors(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.safetensors")
	c := sampleConcept(t, 1)
	c.Mapper.Hidden, c.Mapper.NumFourier, c.Truncation = 16, 32, 16 // small file
	c.weights = initMapperWeights(c.Mapper)
	require.NoError(t, SaveConcept(good, c))
	f, err := safetensors.Open(good)
	require.NoError(t, err)
	meta := f.Metadata()
	ts := make(map[string]*tensors.Tensor)
	for _, name := range f.Names() {
		ts[name], err = f.Tensor(name, 0)
		require.NoError(t, err)
	}
	require.NoError(t, f.Close())

	write := func(name string, ts map[string]*tensors.Tensor, md map[string]string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, safetensors.Write(p, ts, md))
		return p
	}
	with := func(key, value string) map[string]string {
		md := make(map[string]string)
		for k, v := range meta {
			md[k] = v
		}
		md[key] = value
		return md
	}
	without := func(drop string) map[string]*tensors.Tensor {
		out := make(map[string]*tensors.Tensor)
		for k, v := range ts {
			if k != drop {
				out[k] = v
			}
		}
		return out
	}
	extra := without("")
	extra["net.3.weight"] = tensors.FromFlatDataAndDimensions([]float32{1}, 1)
	wrongShape := without("net.1.bias")
	wrongShape["net.1.bias"] = tensors.FromFlatDataAndDimensions(make([]float32, 3), 3)
	var cfg map[string]any
	require.NoError(t, json.Unmarshal([]byte(meta["concept"]), &cfg))
	cfg["truncation"] = 99
	badTrunc, _ := json.Marshal(cfg)

	for _, tc := range []struct {
		path, want string
	}{
		{write("format.safetensors", ts, with("format", "other")), "not a neti concept file"},
		{write("version.safetensors", ts, with("format_version", "2")), "newer than this build"},
		{write("version0.safetensors", ts, with("format_version", "x")), "format_version"},
		{write("method.safetensors", ts, with("method", "ti")), `expected "neti"`},
		{write("json.safetensors", ts, with("concept", "{")), "not valid JSON"},
		{write("missing.safetensors", without(EncoderWeightName), meta), "missing encoder.w"},
		{write("extra.safetensors", extra, meta), "unexpected tensors net.3.weight"},
		{write("shape.safetensors", wrongShape, meta), "net.1.bias has shape [3]"},
		{write("trunc.safetensors", ts, with("concept", string(badTrunc))), "Truncation is 99"},
		{filepath.Join(dir, "absent.safetensors"), "absent.safetensors"},
	} {
		_, err := LoadConcept(tc.path)
		if assert.Error(t, err, tc.path) {
			assert.Contains(t, err.Error(), tc.want, tc.path)
		}
	}
	_, err = LoadConcept(good)
	assert.NoError(t, err, "the unmodified file loads")
}

// FuzzLoadConcept checks that LoadConcept returns an error, never panics, on corrupted concept files
// (seeded with a valid small file and truncations of it, and the files of testdata/fuzz/FuzzLoadConcept:
// NaN and Inf weights, a huge header length, metadata declaring a huge mapper); whatever loads must
// validate, so its weights are finite.
func FuzzLoadConcept(f *testing.F) {
	dir := f.TempDir()
	path := filepath.Join(dir, "seed.safetensors")
	cfg := smallConfig(1)
	cfg.NumFourier, cfg.Hidden, cfg.TextWidth = 4, 4, 4
	c, err := NewConcept(cfg)
	require.NoError(f, err)
	c.Truncation = 4
	require.NoError(f, SaveConcept(path, c))
	data, err := os.ReadFile(path)
	require.NoError(f, err)
	f.Add(data)
	f.Add(data[:len(data)/2])
	f.Add([]byte{})
	p := filepath.Join(dir, "c.safetensors") // one file per fuzzing process, whose inputs run one at a time
	f.Fuzz(func(t *testing.T, data []byte) {
		require.NoError(t, os.WriteFile(p, data, 0o644))
		got, err := LoadConcept(p)
		if err == nil {
			assert.NoError(t, got.Validate())
		}
	})
}
