//go:build slow

package toyworld_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	model "github.com/org/neti/models/toyworld"
	"github.com/org/neti/toyworld"
)

// TestHeldOutPromptFollowing is the model card's measurement: every held-out prompt with seeds 0–3,
// Steps DPM-Solver++(2M) steps, guidance GuidanceScale; shape, colour and background must all be as
// requested (toyworld.Classify) in at least FullBar of the images.
func TestHeldOutPromptFollowing(t *testing.T) {
	rate, misses := followRate(t, []uint64{0, 1, 2, 3}, model.Steps)
	t.Logf("held-out prompt following (%d prompts × 4 seeds): %.3f; misses: %v", len(toyworld.HeldOutPrompts()), rate, misses)
	assert.GreaterOrEqual(t, rate, FullBar, "misses: %v", misses)
}
