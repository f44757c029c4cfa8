package neti

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Outputs are never replaced without a kept copy: a file or folder about to be replaced is kept as a
// numbered history, path + ".prev1", ".prev2", … (the highest number the most recent; existing history is
// never renamed or removed). SaveConcept keeps the concept it replaces; a new training run in a folder of
// an earlier one keeps that run's loss.jsonl and validation images.

// historySuffix starts the name of a kept earlier version: path + ".prev" + N.
const historySuffix = ".prev"

// nextHistoryPath returns path + ".prevN" for N one more than the highest such file or folder there.
func nextHistoryPath(path string) (string, error) {
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		return "", err
	}
	prefix := filepath.Base(path) + historySuffix
	highest := 0
	for _, e := range entries {
		if n, err := strconv.Atoi(strings.TrimPrefix(e.Name(), prefix)); err == nil && n > 0 &&
			strings.HasPrefix(e.Name(), prefix) {
			highest = max(highest, n)
		}
	}
	return path + historySuffix + strconv.Itoa(highest+1), nil
}

// keepHistory keeps the file or folder at path, if there is one, as its next history path (see
// nextHistoryPath) and returns that path ("" when path does not exist). With move, path is renamed (the
// caller then writes a new one); otherwise a file is hard-linked or copied and stays in place (an atomic
// write then replaces it).
func keepHistory(path string, move bool) (string, error) {
	if _, err := os.Lstat(path); errors.Is(err, os.ErrNotExist) {
		return "", nil
	} else if err != nil {
		return "", err
	}
	kept, err := nextHistoryPath(path)
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

// keepEarlierRun moves the loss log and validation images of an earlier run in dir aside (keepHistory)
// before a new run writes its own, and tells note what was kept where.
func keepEarlierRun(dir string, note func(string)) error {
	for _, name := range []string{lossLogName, validationDir} {
		path := filepath.Join(dir, name)
		if info, err := os.Stat(path); err == nil && !info.IsDir() && info.Size() == 0 {
			continue // an empty loss log holds nothing to keep
		}
		kept, err := keepHistory(path, true)
		if err != nil {
			return fmt.Errorf("neti: train: keeping the earlier run's %s: %w", path, err)
		}
		if kept != "" && note != nil {
			note(fmt.Sprintf("note: %s of an earlier run in %s is kept as %s", name, dir, kept))
		}
	}
	return nil
}
