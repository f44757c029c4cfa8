package diffusion

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

var negInf = math.Inf(-1)

// PyFloat is a float64 that also reads the strings "Infinity", "-Infinity" and "NaN", which is what the
// bare Python tokens in diffusers' JSON become after [ParseSchedulerConfig]'s pre-pass. JSON null leaves it
// unchanged (the default).
type PyFloat float64

// UnmarshalJSON implements json.Unmarshaler.
func (f *PyFloat) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		return nil
	}
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		switch s {
		case "Infinity":
			*f = PyFloat(math.Inf(1))
		case "-Infinity":
			*f = PyFloat(math.Inf(-1))
		case "NaN":
			*f = PyFloat(math.NaN())
		default:
			return fmt.Errorf("float value %q: expected a number, Infinity, -Infinity or NaN", s)
		}
		return nil
	}
	v, err := strconv.ParseFloat(string(data), 64)
	if err != nil {
		return fmt.Errorf("float value %s: %w", data, err)
	}
	*f = PyFloat(v)
	return nil
}

// MarshalJSON implements json.Marshaler, writing non-finite values as strings.
func (f PyFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	switch {
	case math.IsInf(v, 1):
		return []byte(`"Infinity"`), nil
	case math.IsInf(v, -1):
		return []byte(`"-Infinity"`), nil
	case math.IsNaN(v):
		return []byte(`"NaN"`), nil
	}
	return strconv.AppendFloat(nil, v, 'g', -1, 64), nil
}

// quotePythonFloats turns the bare tokens NaN, Infinity and -Infinity that Python's json module writes
// (outside strings) into JSON strings, so encoding/json accepts the document.
func quotePythonFloats(data []byte) []byte {
	var out bytes.Buffer
	out.Grow(len(data))
	inString, escaped := false, false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inString {
			out.WriteByte(c)
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		if c == '"' {
			inString = true
			out.WriteByte(c)
			continue
		}
		replaced := false
		for _, tok := range []string{"-Infinity", "Infinity", "NaN"} {
			if bytes.HasPrefix(data[i:], []byte(tok)) {
				out.WriteString(`"` + tok + `"`)
				i += len(tok) - 1
				replaced = true
				break
			}
		}
		if !replaced {
			out.WriteByte(c)
		}
	}
	return out.Bytes()
}
