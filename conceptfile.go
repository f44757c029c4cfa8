package neti

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/org/neti/internal/history"
	"github.com/org/neti/internal/safetensors"
)

// A concept file (spec §13 #8) is a safetensors file holding the mapper's float32 tensors under their
// state-dict names (net.0.weight ... output_layer.0.bias, as the original mapper's state dict, so importing
// an original checkpoint is a rename) plus W as encoder.w [NumFourier, 2] (already scaled by σ_t, σ_ℓ), and
// string metadata:
//
//	format          "neti-concept"
//	format_version  "1"
//	method          "neti"
//	concept         JSON of conceptMeta: placeholder, super-category, bypass α, truncation, base model,
//	                layer names, training options, and the mapper configuration (text width, hidden size,
//	                layers, timesteps, time anchors, Fourier size, σ_t, σ_ℓ, bypass, normalisation mode,
//	                target norm, seed).
//
// The default concept at width 768 is 565,664 floats, about 2.26 MB.

// Concept file identification.
const (
	conceptFormat        = "neti-concept"
	conceptFormatVersion = 1
	conceptMethod        = "neti"
)

// conceptMeta is the JSON metadata of a concept file.
type conceptMeta struct {
	Placeholder   string          `json:"placeholder"`
	SuperCategory string          `json:"super_category"`
	Alpha         float64         `json:"bypass_alpha"`
	Truncation    int             `json:"truncation"`
	BaseModel     string          `json:"base_model"`
	BaseIdentity  *ModelIdentity  `json:"base_identity,omitempty"`
	LayerNames    []string        `json:"layer_names"`
	Mapper        MapperConfig    `json:"mapper"`
	Training      json.RawMessage `json:"training,omitempty"`
}

// SaveConcept writes c to path (conventionally *.safetensors). The write is atomic (a temporary file
// renamed over path); an existing file at path is kept as path + ".prev1" (".prev2", … when earlier ones
// are there: a numbered history, nothing is replaced).
func SaveConcept(path string, c *Concept) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("neti: save concept %s: %w", path, err)
	}
	meta, err := json.Marshal(conceptMeta{
		Placeholder: c.Placeholder, SuperCategory: c.SuperCategory, Alpha: c.Alpha, Truncation: c.Truncation,
		BaseModel: c.BaseModel, BaseIdentity: c.BaseIdentity, LayerNames: c.LayerNames, Mapper: c.Mapper,
		Training: c.Training,
	})
	if err != nil {
		return fmt.Errorf("neti: save concept %s: %w", path, err)
	}
	if _, err := history.Keep(path, false); err != nil {
		return fmt.Errorf("neti: save concept %s: keeping the previous file: %w", path, err)
	}
	return safetensors.Write(path, c.Weights(), map[string]string{
		"format":         conceptFormat,
		"format_version": strconv.Itoa(conceptFormatVersion),
		"method":         conceptMethod,
		"concept":        string(meta),
	})
}

// LoadConcept reads a concept file written by SaveConcept. It checks the format, version and method, the
// configuration, and that the file holds exactly the mapper's tensors with their shapes.
func LoadConcept(path string) (*Concept, error) {
	f, err := safetensors.Open(path)
	if err != nil {
		return nil, fmt.Errorf("neti: load concept: %w", err)
	}
	defer f.Close()
	fail := func(format string, args ...any) (*Concept, error) {
		return nil, fmt.Errorf("neti: load concept %s: "+format, append([]any{path}, args...)...)
	}
	md := f.Metadata()
	if md["format"] != conceptFormat {
		return fail("metadata format is %q: expected %q; this is not a neti concept file "+
			"(an original NeTI mapper-*.pt must be converted first)", md["format"], conceptFormat)
	}
	version, err := strconv.Atoi(md["format_version"])
	if err != nil || version < 1 {
		return fail("metadata format_version is %q: expected a positive integer", md["format_version"])
	}
	if version > conceptFormatVersion {
		return fail("format version %d is newer than this build reads (up to %d): update neti", version, conceptFormatVersion)
	}
	if md["method"] != conceptMethod {
		return fail("method is %q: expected %q", md["method"], conceptMethod)
	}
	var meta conceptMeta
	if err := json.Unmarshal([]byte(md["concept"]), &meta); err != nil {
		return fail("metadata concept is not valid JSON: %v", err)
	}
	c := &Concept{
		Mapper: meta.Mapper, Placeholder: meta.Placeholder, SuperCategory: meta.SuperCategory, Alpha: meta.Alpha,
		Truncation: meta.Truncation, BaseModel: meta.BaseModel, BaseIdentity: meta.BaseIdentity,
		LayerNames: meta.LayerNames, Training: meta.Training,
	}
	if err := c.Mapper.Validate(); err != nil {
		return fail("%v", err)
	}
	expected := expectedShapes(c.Mapper)
	var unexpected []string
	ts := make(map[string]*tensors.Tensor)
	for _, name := range f.Names() {
		if _, ok := expected[name]; !ok {
			unexpected = append(unexpected, name)
			continue
		}
		info, _ := f.Info(name)
		if !info.DType.IsFloat() {
			return fail("tensor %s has dtype %s: expected float32", name, info.DType)
		}
		t, err := f.Tensor(name, dtypes.Float32)
		if err != nil {
			return fail("%v", err)
		}
		ts[name] = t
	}
	if len(unexpected) > 0 {
		slices.Sort(unexpected)
		return fail("unexpected tensors %s for the configured mapper (bypass %v, width %d)",
			strings.Join(unexpected, ", "), c.Mapper.Bypass, c.Mapper.TextWidth)
	}
	if err := c.SetWeights(ts); err != nil {
		return fail("%v", err)
	}
	if err := c.Validate(); err != nil {
		return fail("%v", err)
	}
	return c, nil
}
