package malloc

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestTrim: on Linux with cgo (glibc), Trim finds malloc_trim; elsewhere it says it could not.
func TestTrim(t *testing.T) {
	t.Setenv("NETI_NO_TRIM", "1")
	assert.False(t, Trim(), "NETI_NO_TRIM turns it off")
	t.Setenv("NETI_NO_TRIM", "")
	got := Trim()
	if runtime.GOOS != "linux" {
		assert.False(t, got)
		return
	}
	assert.True(t, got, "glibc's malloc_trim on this Linux machine")
}
