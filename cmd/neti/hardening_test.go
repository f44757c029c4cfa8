package main

import (
	"bytes"
	"encoding/binary"
	"flag"
	"hash/crc32"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
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

// TestExplicitZeroFlags: a count given as 0 on the command line (which the library would read as "the
// default") is refused before any model loads, naming the command, the flag and its help; so is a negative
// count. Left out, the same flags take their defaults.
func TestExplicitZeroFlags(t *testing.T) {
	model := []string{"--pretrained_model_name_or_path", "/nonexistent/model"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "--max_train_steps", "0"}, "train: --max_train_steps is 0: expected a positive number; leave the flag out to use its default (--max_train_steps: optimizer steps (default 1000"},
		{[]string{"train", "--train_batch_size", "0"}, "train: --train_batch_size is 0"},
		{[]string{"train", "--train_batch_size", "-2"}, "train: --train_batch_size is -2: expected a positive number"},
		{[]string{"train", "--gradient_accumulation_steps", "0"}, "train: --gradient_accumulation_steps is 0"},
		{[]string{"train", "--learning_rate", "0"}, "train: --learning_rate is 0"},
		{[]string{"train", "--resolution", "0"}, "train: --resolution is 0"},
		{[]string{"train", "--checkpointing_steps", "0"}, "train: --checkpointing_steps is 0: expected a positive number, or a negative one where its help gives that a meaning; leave the flag out to use its default (--checkpointing_steps: steps between checkpoints (default 250, or the preset's; negative: none))"},
		{[]string{"train", "--checkpoints_total_limit", "0"}, "train: --checkpoints_total_limit is 0"},
		{[]string{"generate", "--num_inference_steps", "0", "a cat"}, "generate: --num_inference_steps is 0: expected a positive number; leave the flag out to use its default (--num_inference_steps: denoising steps)"},
		{[]string{"generate", "--num_images_per_prompt", "0", "a cat"}, "generate: --num_images_per_prompt is 0"},
		{[]string{"generate", "--width", "0", "a cat"}, "generate: --width is 0"},
		{[]string{"generate", "--height", "-64", "a cat"}, "generate: --height is -64"},
		{[]string{"generate", "--truncation", "0", "a cat"}, "generate: --truncation is 0"},
		{[]string{"bench", "--max_train_steps", "0"}, "bench: --max_train_steps is 0"},
		{[]string{"bench", "--num_inference_steps", "0"}, "bench: --num_inference_steps is 0"},
		{[]string{"bench", "--seeds", "0"}, "bench: --seeds is 0"},
		{[]string{"bench", "--resolution", "0"}, "bench: --resolution is 0"},
		{[]string{"bench", "--train_batch_size", "-1"}, "bench: --train_batch_size is -1"},
		{[]string{"quickstart", "--max_train_steps", "0"}, "quickstart: --max_train_steps is 0"},
		{[]string{"quickstart", "--num_inference_steps", "0"}, "quickstart: --num_inference_steps is 0"},
		{[]string{"export", "--steps", "0"}, "export: --steps is 0"},
		{[]string{"export", "--truncation", "0"}, "export: --truncation is 0"},
	} {
		args := append([]string{tc.args[0]}, model...)
		if tc.args[0] == "export" {
			args = args[:1] // export takes no model
		}
		args = append(args, tc.args[1:]...)
		_, _, err := runCLI(t, args...)
		if assert.Error(t, err, "%v", tc.args) {
			assert.Contains(t, err.Error(), tc.want, "%v", tc.args)
			assert.NotContains(t, err.Error(), "/nonexistent/model", "%v: refused before the model is looked up", tc.args)
		}
	}
}

// TestCheckNumbers: flags left out or given a usable value pass; a negative value passes where it has a
// meaning (nonZero); non-numeric flags are not looked at.
func TestCheckNumbers(t *testing.T) {
	parse := func(args ...string) *flag.FlagSet {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		fs.Int("steps", 0, "steps (default 100)")
		fs.Int("every", 0, "period (default 10; negative: never)")
		fs.Float64("lr", 0, "learning rate (default 1e-3)")
		fs.String("name", "", "a name")
		require.NoError(t, fs.Parse(args))
		return fs
	}
	check := func(fs *flag.FlagSet) error {
		return checkNumbers("x", fs, []string{"steps", "lr", "name"}, []string{"every"})
	}
	assert.NoError(t, check(parse()), "nothing given")
	assert.NoError(t, check(parse("--steps", "3", "--every", "-1", "--lr", "1e-4", "--name", "0")))
	assert.EqualError(t, check(parse("--lr", "0")),
		"x: --lr is 0: expected a positive number; leave the flag out to use its default (--lr: learning rate (default 1e-3))")
	assert.EqualError(t, check(parse("--lr", "-0.5")), "x: --lr is -0.5: expected a positive number (--lr: learning rate (default 1e-3))")
	assert.ErrorContains(t, check(parse("--every", "0")), "x: --every is 0: expected a positive number, or a negative one")
}

// TestGenerateOutputFolderChecked: neti generate with --output in a missing folder, in a path under a file,
// or naming a folder fails before the model loads (the model path does not exist), naming the flag and the
// folder; nothing is left behind in a good folder.
func TestGenerateOutputFolderChecked(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "renders", "today")
	file := filepath.Join(dir, "notes.txt")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o644))
	folder := filepath.Join(dir, "grid.png")
	require.NoError(t, os.Mkdir(folder, 0o755))
	for _, tc := range []struct {
		output string
		want   []string
	}{
		{filepath.Join(missing, "a.png"), []string{"generate: --output", "the folder " + missing + " does not exist", "mkdir -p " + missing}},
		{filepath.Join(file, "a.png"), []string{"generate: --output", file + " is a file, not a folder"}},
		{folder, []string{"generate: --output", "is a folder: expected a file name in it"}},
	} {
		_, _, err := runCLI(t, "generate", "--pretrained_model_name_or_path", "/nonexistent/model", "--output", tc.output, "a cat")
		if assert.Error(t, err, tc.output) {
			for _, want := range tc.want {
				assert.Contains(t, err.Error(), want)
			}
			assert.NotContains(t, err.Error(), "/nonexistent/model", "refused before the model is looked up")
		}
	}
	assert.NoDirExists(t, missing, "the folder is not created behind the user's back")

	// A good folder passes the check (the model error comes next) and keeps no probe file.
	_, _, err := runCLI(t, "generate", "--pretrained_model_name_or_path", "/nonexistent/model", "--output",
		filepath.Join(dir, "ok.png"), "a cat")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "/nonexistent/model")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.ElementsMatch(t, []string{"notes.txt", "grid.png"}, names, "no probe file left")
}

// TestGenerateLongPromptNote: neti generate with a 500-word prompt draws from its first 75 tokens and says
// so in one line on stderr: how many tokens were dropped.
func TestGenerateLongPromptNote(t *testing.T) {
	caption := strings.Fields("a happy day for the best art in the land") // single tokens of tiny-sd1
	words := make([]string, 500)
	for i := range words {
		words[i] = caption[i%len(caption)]
	}
	out := filepath.Join(t.TempDir(), "long.png")
	_, stderr, err := runCLI(t, "generate", "--pretrained_model_name_or_path", tinyModel, "--num_inference_steps", "1",
		"--output", out, strings.Join(words, " "))
	require.NoError(t, err, stderr)
	assert.FileExists(t, out)
	var notes []string
	for _, line := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(line, "note:") {
			notes = append(notes, line)
		}
	}
	require.Len(t, notes, 1, stderr)
	assert.Contains(t, notes[0], "note: the prompt is 500 tokens but the text encoder reads 75: the last 425 tokens were dropped")

	_, stderr, err = runCLI(t, "generate", "--pretrained_model_name_or_path", tinyModel, "--num_inference_steps", "1",
		"--output", filepath.Join(filepath.Dir(out), "short.png"), "a happy day") // a new file: no kept-copy note
	require.NoError(t, err, stderr)
	assert.NotContains(t, stderr, "note:", "a short prompt gets no note")
}
