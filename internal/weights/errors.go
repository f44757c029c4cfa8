package weights

import (
	"fmt"
	"strings"
)

// maxListed is how many entries of each list Error.Error prints before "... and N more".
const maxListed = 20

// Error lists every disagreement between a weights file and the variables a model expects. Names are the
// model's dotted names (after Options.Rename).
type Error struct {
	// File is the safetensors file; Scope the context scope loaded into.
	File, Scope string
	// Missing are expected variables absent from the file.
	Missing []string
	// Unexpected are file tensors the model does not have.
	Unexpected []string
	// Mismatched are tensors in both whose shapes (or dtype kinds) differ: "name: file F32 [..] vs model [..]".
	Mismatched []string
}

// Error returns a multi-line report, each list capped at 20 lines.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "weights: %s does not match the model (scope %q): %d missing, %d unexpected, %d mismatched",
		e.File, e.Scope, len(e.Missing), len(e.Unexpected), len(e.Mismatched))
	section := func(title string, items []string) {
		if len(items) == 0 {
			return
		}
		fmt.Fprintf(&b, "\n  %s (%d):", title, len(items))
		for _, item := range capList(items, maxListed) {
			b.WriteString("\n    " + item)
		}
	}
	section("missing from the file", e.Missing)
	section("in the file but not in the model", e.Unexpected)
	section("shape mismatch", e.Mismatched)
	if len(e.Missing) > 0 && len(e.Unexpected) > 0 {
		b.WriteString("\n  hint: if the names differ only by a prefix, load into the component's scope " +
			"(ctx.In(\"unet\") etc.) or map them with Options.Rename; the file may also be another model's")
	}
	return b.String()
}
