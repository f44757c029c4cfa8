// Package history keeps outputs that are about to be replaced as a numbered history: path + ".prev1",
// ".prev2", … (the highest number the most recent; existing history is never renamed or removed). It is
// shared by package neti (concept files, exports, the files of an earlier training run) and the neti
// command (generated images).
package history

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Suffix starts the name of a kept earlier version: path + Suffix + N.
const Suffix = ".prev"

// Next returns path + ".prevN" for N one more than the highest such file or folder next to path.
func Next(path string) (string, error) {
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		return "", err
	}
	prefix := filepath.Base(path) + Suffix
	highest := 0
	for _, e := range entries {
		if n, err := strconv.Atoi(strings.TrimPrefix(e.Name(), prefix)); err == nil && n > 0 &&
			strings.HasPrefix(e.Name(), prefix) {
			highest = max(highest, n)
		}
	}
	return path + Suffix + strconv.Itoa(highest+1), nil
}

// Keep keeps the file or folder at path, if there is one, as its next history path (see Next) and returns
// that path ("" when path does not exist). With move, path is renamed (the caller then writes a new one);
// otherwise a file is hard-linked or copied and stays in place (an atomic write then replaces it).
func Keep(path string, move bool) (string, error) {
	if _, err := os.Lstat(path); errors.Is(err, os.ErrNotExist) {
		return "", nil
	} else if err != nil {
		return "", err
	}
	kept, err := Next(path)
	if err != nil {
		return "", err
	}
	if move {
		return kept, os.Rename(path, kept)
	}
	if os.Link(path, kept) == nil {
		return kept, nil
	}
	src, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer src.Close()
	dst, err := os.OpenFile(kept, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(dst, src); err != nil {
		_ = dst.Close()
		_ = os.Remove(kept)
		return "", err
	}
	if err := dst.Sync(); err != nil {
		_ = dst.Close()
		_ = os.Remove(kept)
		return "", err
	}
	return kept, dst.Close()
}
