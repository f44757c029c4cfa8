package neti

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/org/neti/internal/history"
)

// Outputs are never replaced without a kept copy: a file or folder about to be replaced is kept as a
// numbered history, path + ".prev1", ".prev2", … (internal/history). SaveConcept and ExportConcept keep
// the file they replace; a new training run in a folder of an earlier one keeps that run's loss.jsonl and
// validation images; neti generate keeps the image it replaces.

// keepEarlierRun moves the loss log and validation images of an earlier run in dir aside (history.Keep)
// before a new run writes its own, and tells note what was kept where.
func keepEarlierRun(dir string, note func(string)) error {
	for _, name := range []string{lossLogName, validationDir} {
		path := filepath.Join(dir, name)
		if info, err := os.Stat(path); err == nil && !info.IsDir() && info.Size() == 0 {
			continue // an empty loss log holds nothing to keep
		}
		kept, err := history.Keep(path, true)
		if err != nil {
			return fmt.Errorf("neti: train: keeping the earlier run's %s: %w", path, err)
		}
		if kept != "" && note != nil {
			note(fmt.Sprintf("note: %s of an earlier run in %s is kept as %s", name, dir, kept))
		}
	}
	return nil
}
