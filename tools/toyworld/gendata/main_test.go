package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/neti/toyworld"
)

// TestIndividualExamples: every individual is shown equally often (the remainder to the first ones), in a
// seeded order.
func TestIndividualExamples(t *testing.T) {
	inds, err := toyworld.Individuals(7, 0)
	require.NoError(t, err)
	who := individualExamples(inds, 0, 100, 30)
	require.Len(t, who, 30)
	count := make([]int, len(inds))
	for _, k := range who {
		count[k]++
	}
	assert.Equal(t, []int{5, 5, 4, 4, 4, 4, 4}, count)
	assert.Equal(t, who, individualExamples(inds, 0, 100, 30), "seeded")
	assert.NotEqual(t, who, individualExamples(inds, 1, 100, 30))
	assert.Nil(t, individualExamples(nil, 0, 100, 30))
}
