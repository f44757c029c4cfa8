package safetensors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
)

// MaxHeaderSize is the largest JSON header accepted (100 MB), so that a corrupt length field cannot make us
// allocate gigabytes.
const MaxHeaderSize = 100 << 20

// metadataKey is the reserved header key holding the free-form string metadata.
const metadataKey = "__metadata__"

// Info describes one tensor of a safetensors file.
type Info struct {
	// DType is the tensor's dtype in the file.
	DType dtypes.DType
	// Shape holds the dimensions, row-major; empty for a scalar.
	Shape []int
	// Offsets are the [begin, end) byte offsets of the data, relative to the start of the data section
	// (just after the header).
	Offsets [2]int64
}

// Size returns the number of bytes of the tensor's data.
func (info Info) Size() int64 { return info.Offsets[1] - info.Offsets[0] }

// NumElements returns the product of the dimensions (1 for a scalar).
func (info Info) NumElements() int {
	n := 1
	for _, d := range info.Shape {
		n *= d
	}
	return n
}

// rawEntry is a tensor entry as it appears in the JSON header; pointers detect missing fields.
type rawEntry struct {
	DType       *string  `json:"dtype"`
	Shape       *[]int64 `json:"shape"`
	DataOffsets *[]int64 `json:"data_offsets"`
}

// header is a parsed and validated header.
type header struct {
	infos    map[string]Info
	names    []string // Sorted.
	metadata map[string]string
}

// parseHeader parses and validates the JSON header against the size of the data section. Errors are
// phrased without the file name; the caller prefixes it.
func parseHeader(text []byte, dataSize int64) (*header, error) {
	if !utf8.Valid(text) {
		return nil, fmt.Errorf("header is not valid UTF-8")
	}
	if len(text) == 0 || text[0] != '{' {
		return nil, fmt.Errorf("header must be a JSON object starting with '{'")
	}
	h := &header{infos: make(map[string]Info)}
	dec := json.NewDecoder(bytes.NewReader(text))
	if _, err := dec.Token(); err != nil { // The opening '{', checked above.
		return nil, fmt.Errorf("header is not valid JSON: %w", err)
	}
	seen := make(map[string]bool)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("header is not valid JSON: %w", err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("header is not valid JSON: expected a key, got %v", tok)
		}
		if seen[key] {
			return nil, fmt.Errorf("header has the key %q twice", key)
		}
		seen[key] = true
		if key == metadataKey {
			if err := dec.Decode(&h.metadata); err != nil {
				return nil, fmt.Errorf("%s must map strings to strings: %w", metadataKey, err)
			}
			continue
		}
		var raw rawEntry
		if err := dec.Decode(&raw); err != nil {
			var syntaxErr *json.SyntaxError
			if errors.As(err, &syntaxErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, fmt.Errorf("header is not valid JSON (at tensor %q): %w", key, err)
			}
			return nil, fmt.Errorf("tensor %q: invalid entry (want {\"dtype\", \"shape\", \"data_offsets\"}): %w",
				key, err)
		}
		info, err := checkEntry(raw, dataSize)
		if err != nil {
			return nil, fmt.Errorf("tensor %q: %w", key, err)
		}
		h.infos[key] = info
	}
	if _, err := dec.Token(); err != nil { // The closing '}'.
		return nil, fmt.Errorf("header is not valid JSON: %w", err)
	}
	if tok, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("header has trailing data after the JSON object (%v, %v)", tok, err)
	}
	if h.metadata == nil {
		h.metadata = make(map[string]string)
	}
	for name := range h.infos {
		h.names = append(h.names, name)
	}
	slices.Sort(h.names)
	if err := checkLayout(h, dataSize); err != nil {
		return nil, err
	}
	return h, nil
}

// checkEntry validates one tensor entry: known dtype, non-negative dimensions, offsets in range, and a byte
// size equal to dtype size × number of elements.
func checkEntry(raw rawEntry, dataSize int64) (Info, error) {
	var info Info
	if raw.DType == nil || raw.Shape == nil || raw.DataOffsets == nil {
		return info, fmt.Errorf("entry needs \"dtype\", \"shape\" and \"data_offsets\"")
	}
	dtype, ok := dtypeNames[*raw.DType]
	if !ok {
		return info, fmt.Errorf("dtype %q is not supported (supported: %s)", *raw.DType,
			strings.Join(supportedNames, ", "))
	}
	info.DType = dtype
	offsets := *raw.DataOffsets
	if len(offsets) != 2 {
		return info, fmt.Errorf("data_offsets must be [begin, end], got %v", offsets)
	}
	begin, end := offsets[0], offsets[1]
	if begin < 0 || end < begin {
		return info, fmt.Errorf("data_offsets [%d, %d] must satisfy 0 <= begin <= end", begin, end)
	}
	if end > dataSize {
		return info, fmt.Errorf("data_offsets [%d, %d] go past the end of the data section (%d bytes)",
			begin, end, dataSize)
	}
	info.Offsets = [2]int64{begin, end}
	shape := *raw.Shape
	info.Shape = make([]int, len(shape))
	elements := int64(1)
	zero := false
	for i, d := range shape {
		if d < 0 {
			return info, fmt.Errorf("shape %s has a negative dimension", formatShape(shape))
		}
		if d == 0 {
			zero = true
		}
		info.Shape[i] = int(d)
	}
	elementSize := int64(dtype.Size())
	var need int64
	if !zero {
		for _, d := range shape {
			if elements > dataSize/d { // elements·d > dataSize: larger than any possible data section.
				return info, fmt.Errorf("shape %s %s needs more bytes than the data section has (%d)",
					formatShape(shape), *raw.DType, dataSize)
			}
			elements *= d
		}
		need = elements * elementSize
	}
	if need != end-begin {
		return info, fmt.Errorf("shape %s %s needs %d bytes, data_offsets [%d, %d] give %d",
			formatShape(shape), *raw.DType, need, begin, end, end-begin)
	}
	return info, nil
}

// checkLayout checks that the tensors tile the data section exactly: no overlap, no gap, and the last one
// ends where the file ends.
func checkLayout(h *header, dataSize int64) error {
	names := slices.Clone(h.names)
	slices.SortStableFunc(names, func(a, b string) int {
		ia, ib := h.infos[a], h.infos[b]
		if c := compareInt64(ia.Offsets[0], ib.Offsets[0]); c != 0 {
			return c
		}
		return compareInt64(ia.Offsets[1], ib.Offsets[1])
	})
	var prevEnd int64
	prevName := ""
	for _, name := range names {
		o := h.infos[name].Offsets
		switch {
		case o[0] < prevEnd:
			return fmt.Errorf("tensor %q: data_offsets [%d, %d] overlap tensor %q, which ends at %d",
				name, o[0], o[1], prevName, prevEnd)
		case o[0] > prevEnd && prevName == "":
			return fmt.Errorf("tensor %q: data starts at %d, leaving %d unused bytes at the start of the data section",
				name, o[0], o[0])
		case o[0] > prevEnd:
			return fmt.Errorf("tensor %q: data starts at %d, leaving a gap after tensor %q, which ends at %d",
				name, o[0], prevName, prevEnd)
		}
		prevEnd, prevName = o[1], name
	}
	if prevEnd != dataSize {
		return fmt.Errorf("the data section has %d bytes but the tensors cover %d: the file is truncated or has "+
			"trailing bytes", dataSize, prevEnd)
	}
	return nil
}

func compareInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// formatShape formats dimensions as "[2, 3]".
func formatShape(dims []int64) string {
	parts := make([]string, len(dims))
	for i, d := range dims {
		parts[i] = strconv.FormatInt(d, 10)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
