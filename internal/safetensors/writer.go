package safetensors

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// Named is a tensor with its name, for writing tensors in a chosen order.
type Named struct {
	Name   string
	Tensor *tensors.Tensor
}

// Write writes the tensors, in name order, and the metadata (may be nil) to path. See WriteList.
func Write(path string, ts map[string]*tensors.Tensor, metadata map[string]string) error {
	list := make([]Named, 0, len(ts))
	for _, name := range slices.Sorted(maps.Keys(ts)) {
		list = append(list, Named{name, ts[name]})
	}
	return WriteList(path, list, metadata)
}

// WriteList writes the tensors, in the given order, and the metadata (may be nil) to path.
//
// The write is atomic: the data goes to a temporary file in the same folder, which is synced and then
// renamed over path, so a failure leaves any previous file at path untouched. The header is padded with
// spaces to a multiple of 8 bytes, as the Python implementation does.
func WriteList(path string, ts []Named, metadata map[string]string) error {
	hdr, err := buildHeader(ts, metadata)
	if err != nil {
		return fmt.Errorf("safetensors: write %s: %w", path, err)
	}
	if err := writeAtomic(path, func(w *bufio.Writer) error {
		var lenBuf [8]byte
		binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(hdr)))
		if _, err := w.Write(lenBuf[:]); err != nil {
			return err
		}
		if _, err := w.Write(hdr); err != nil {
			return err
		}
		for _, nt := range ts {
			if nt.Tensor.Size() == 0 {
				continue
			}
			var writeErr error
			if err := nt.Tensor.ConstBytes(func(data []byte) { _, writeErr = w.Write(data) }); err != nil {
				return fmt.Errorf("tensor %q: %w", nt.Name, err)
			}
			if writeErr != nil {
				return writeErr
			}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("safetensors: write %s: %w", path, err)
	}
	return nil
}

// buildHeader returns the padded JSON header for ts, in order, with data offsets packed back to back.
func buildHeader(ts []Named, metadata map[string]string) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	first := true
	writeKey := func(key string) {
		if !first {
			buf.WriteByte(',')
		}
		first = false
		k, _ := json.Marshal(key) // Marshaling a string cannot fail.
		buf.Write(k)
		buf.WriteByte(':')
	}
	if metadata != nil {
		writeKey(metadataKey)
		m, err := json.Marshal(metadata) // Keys come out sorted.
		if err != nil {
			return nil, err
		}
		buf.Write(m)
	}
	seen := make(map[string]bool, len(ts))
	var offset int64
	for _, nt := range ts {
		switch {
		case nt.Name == metadataKey:
			return nil, fmt.Errorf("%q is reserved and cannot name a tensor", metadataKey)
		case seen[nt.Name]:
			return nil, fmt.Errorf("tensor %q given twice", nt.Name)
		case nt.Tensor == nil:
			return nil, fmt.Errorf("tensor %q is nil", nt.Name)
		}
		seen[nt.Name] = true
		shape := nt.Tensor.Shape()
		name := DTypeName(shape.DType)
		if name == "" || shape.IsTuple() {
			return nil, fmt.Errorf("tensor %q: shape %s cannot be stored in safetensors", nt.Name, shape)
		}
		size := int64(shape.Memory())
		dims := shape.Dimensions
		if dims == nil {
			dims = []int{}
		}
		entry, err := json.Marshal(map[string]any{
			"dtype": name, "shape": dims, "data_offsets": [2]int64{offset, offset + size}})
		if err != nil {
			return nil, err
		}
		writeKey(nt.Name)
		buf.Write(entry)
		offset += size
	}
	buf.WriteByte('}')
	for buf.Len()%8 != 0 {
		buf.WriteByte(' ')
	}
	return buf.Bytes(), nil
}

// writeAtomic writes a temporary file next to path with fill, syncs it and renames it to path. On any
// error the temporary file is removed and path is left as it was.
func writeAtomic(path string, fill func(w *bufio.Writer) error) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	w := bufio.NewWriterSize(tmp, 1<<20)
	if err = fill(w); err != nil {
		return err
	}
	if err = w.Flush(); err != nil {
		return err
	}
	if err = tmp.Chmod(0o644); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	// Persist the rename itself; not every platform can sync a folder, so this is best effort.
	if d, dirErr := os.Open(dir); dirErr == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
