package safetensors

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// FuzzOpen feeds arbitrary bytes to the reader: it must never panic, and whatever it accepts must be
// readable in full (the header validation guarantees every read stays in range) and survive a write/read
// round trip unchanged. Run with: go test ./internal/safetensors -run '^$' -fuzz FuzzOpen -fuzztime 60s
// The seed corpus is in testdata/fuzz/FuzzOpen.
func FuzzOpen(f *testing.F) {
	if seed, err := os.ReadFile("testdata/python.safetensors"); err == nil {
		f.Add(seed)
	}
	f.Add(build(`{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}`, 4))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := openBytes(data)
		if err != nil {
			return
		}
		read := make(map[string]*tensors.Tensor)
		for _, name := range file.Names() {
			info, ok := file.Info(name)
			if !ok {
				t.Fatalf("Names lists %q but Info does not find it", name)
			}
			tt, err := file.Tensor(name, info.DType)
			if err != nil {
				if info.DType == dtypes.Bool {
					continue // Bytes other than 0/1 are rejected on read.
				}
				t.Fatalf("tensor %q accepted by Open fails to read: %v", name, err)
			}
			if info.DType.IsFloat() {
				if _, _, err := file.Float32(name); err != nil {
					t.Fatalf("Float32(%q): %v", name, err)
				}
			}
			read[name] = tt
		}
		if len(read) != len(file.Names()) {
			return
		}
		path := filepath.Join(t.TempDir(), "rt.safetensors")
		if err := Write(path, read, file.Metadata()); err != nil {
			t.Fatalf("rewriting an accepted file: %v", err)
		}
		back, err := Open(path)
		if err != nil {
			t.Fatalf("reopening a rewritten file: %v", err)
		}
		defer back.Close()
		for name, want := range read {
			got, err := back.Tensor(name, want.DType())
			if err != nil {
				t.Fatalf("rewritten tensor %q: %v", name, err)
			}
			if !want.Shape().Equal(got.Shape()) {
				t.Fatalf("rewritten tensor %q: shape %s, want %s", name, got.Shape(), want.Shape())
			}
			if want.Size() == 0 {
				continue
			}
			var wb, gb []byte
			_ = want.ConstBytes(func(b []byte) { wb = bytes.Clone(b) })
			_ = got.ConstBytes(func(b []byte) { gb = bytes.Clone(b) })
			if !bytes.Equal(wb, gb) {
				t.Fatalf("rewritten tensor %q differs", name)
			}
		}
	})
}
