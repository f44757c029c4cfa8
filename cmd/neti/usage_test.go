package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestVersion: neti version and neti --version print the module version line and the default backend on
// stdout and succeed.
func TestVersion(t *testing.T) {
	for _, arg := range []string{"version", "--version"} {
		stdout, stderr, err := runCLI(t, arg)
		require.NoError(t, err, arg)
		assert.Empty(t, stderr)
		lines := strings.Split(strings.TrimSpace(stdout), "\n")
		require.Len(t, lines, 2, stdout)
		assert.Regexp(t, `^neti \S+.* go1\.\d+`, lines[0], arg)
		assert.Regexp(t, `^default backend: (auto: (XLA on the CPU|go)|.*from \$GOMLX_BACKEND)`, lines[1], arg)
	}
	t.Setenv("GOMLX_BACKEND", "go")
	stdout, _, err := runCLI(t, "version")
	require.NoError(t, err)
	assert.Contains(t, stdout, "default backend: go (from $GOMLX_BACKEND)")
}

// TestHelpOnStdout: --help of neti and of every command (toyworld and train included) prints the usage on
// stdout, nothing on stderr, and succeeds (exit 0).
func TestHelpOnStdout(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"help"}, {"train", "--help"}, {"train", "-h"}, {"toyworld", "--help"},
		{"toyworld", "render", "--help"}, {"generate", "--help"}, {"export", "--help"}, {"inspect", "--help"},
		{"bench", "--help"}, {"quickstart", "--help"}} {
		stdout, stderr, err := runCLI(t, args...)
		require.NoError(t, err, "%v", args)
		assert.Empty(t, stderr, "%v", args)
		assert.Contains(t, strings.ToLower(stdout), "usage", "%v", args)
	}
	stdout, _, _ := runCLI(t, "train", "--help")
	assert.True(t, strings.HasPrefix(stdout, "usage: neti train "), stdout)
	assert.Contains(t, stdout, "-max_train_steps")
	stdout, _, _ = runCLI(t, "toyworld", "--help")
	assert.True(t, strings.HasPrefix(stdout, "usage: neti toyworld "), stdout)
	assert.Contains(t, stdout, "-out string")
}

// TestFlagErrorsAreShort: a bad flag or argument is one error line and a one-line hint to --help, with no
// usage dump on stderr.
func TestFlagErrorsAreShort(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "--bogus"}, "train: flag provided but not defined: -bogus\nrun \"neti train --help\" for its flags"},
		{[]string{"train", "--max_train_steps", "x"}, "train: invalid value \"x\" for flag -max_train_steps: parse error\n" +
			"run \"neti train --help\" for its flags"},
		{[]string{"train", "extra"}, "train takes flags only; got arguments [\"extra\"]\nrun \"neti train --help\" for its flags"},
		{[]string{"generate", "a", "b"}, "generate takes one prompt (quote it); got 2 arguments\nrun \"neti generate --help\" for its flags"},
		{[]string{"toyworld", "nope"}, "toyworld: unknown subcommand \"nope\": expected dataset, concepts, render, measure or vocab\n" +
			"run \"neti toyworld --help\" for its flags"},
		{[]string{"toyworld", "render", "--x"}, "toyworld: flag provided but not defined: -x\nrun \"neti toyworld --help\" for its flags"},
	} {
		stdout, stderr, err := runCLI(t, tc.args...)
		require.Error(t, err, "%v", tc.args)
		assert.Equal(t, tc.want, err.Error(), "%v", tc.args)
		assert.Empty(t, stderr, "%v: no usage dump", tc.args)
		assert.Empty(t, stdout, "%v", tc.args)
	}
}
