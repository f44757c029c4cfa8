// Package safetensors reads and writes the safetensors format: an 8-byte little-endian header length, a JSON
// header {name: {"dtype", "shape", "data_offsets"}, "__metadata__": {string: string}}, then the raw
// little-endian tensor data.
//
// Open validates the whole header up front (dtypes, shapes, offsets, layout), so that later reads can only
// fail on I/O. Tensors are read straight from the file into the destination tensor's memory, one at a time.
package safetensors

import (
	"encoding/binary"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
)

// File is an open safetensors file. Its methods are safe for concurrent use (reads use ReadAt), except Close.
type File struct {
	path      string
	r         io.ReaderAt
	closer    io.Closer
	dataStart int64
	h         *header
}

// Open opens a safetensors file and validates its header. The file stays open until Close.
func Open(path string) (*File, error) {
	osFile, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	stat, err := osFile.Stat()
	if err != nil {
		_ = osFile.Close()
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	f, err := newFile(path, osFile, stat.Size())
	if err != nil {
		_ = osFile.Close()
		return nil, err
	}
	f.closer = osFile
	return f, nil
}

// newFile reads and validates the header of size bytes of r; path is only used in messages.
func newFile(path string, r io.ReaderAt, size int64) (*File, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("safetensors: %s: "+format, append([]any{path}, args...)...)
	}
	if !hostIsLittleEndian {
		return nil, fail("big-endian hosts are not supported")
	}
	if size < 8 {
		return nil, fail("file has %d bytes, too short for the 8-byte header length", size)
	}
	var lenBuf [8]byte
	if _, err := r.ReadAt(lenBuf[:], 0); err != nil {
		return nil, fail("reading the header length: %v", err)
	}
	headerLen := binary.LittleEndian.Uint64(lenBuf[:])
	if headerLen > MaxHeaderSize {
		return nil, fail("header length %d exceeds the %d bytes limit: not a safetensors file, or corrupt",
			headerLen, MaxHeaderSize)
	}
	if int64(headerLen) > size-8 {
		return nil, fail("header length %d exceeds the %d bytes left in the file: truncated or not a "+
			"safetensors file", headerLen, size-8)
	}
	text := make([]byte, headerLen)
	if _, err := r.ReadAt(text, 8); err != nil && headerLen > 0 {
		return nil, fail("reading the header: %v", err)
	}
	dataStart := 8 + int64(headerLen)
	h, err := parseHeader(text, size-dataStart)
	if err != nil {
		return nil, fail("%v", err)
	}
	return &File{path: path, r: r, dataStart: dataStart, h: h}, nil
}

// Path returns the path the file was opened with.
func (f *File) Path() string { return f.path }

// Names returns the tensor names, sorted.
func (f *File) Names() []string { return slices.Clone(f.h.names) }

// Info returns the description of the named tensor, and whether it exists.
func (f *File) Info(name string) (Info, bool) {
	info, ok := f.h.infos[name]
	if !ok {
		return Info{}, false
	}
	info.Shape = slices.Clone(info.Shape)
	return info, true
}

// Metadata returns a copy of the header's "__metadata__" (empty if absent).
func (f *File) Metadata() map[string]string { return maps.Clone(f.h.metadata) }

// Close closes the underlying file.
func (f *File) Close() error {
	if f.closer == nil {
		return nil
	}
	err := f.closer.Close()
	f.closer = nil
	return err
}

// lookup returns the info of name or an error naming the file.
func (f *File) lookup(name string) (Info, error) {
	info, ok := f.h.infos[name]
	if !ok {
		return Info{}, fmt.Errorf("safetensors: %s: no tensor %q (the file has %d tensors)", f.path, name,
			len(f.h.names))
	}
	return info, nil
}
