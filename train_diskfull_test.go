//go:build linux || darwin

package neti

import (
	stdcontext "context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// diskFullEnv names the folder a child test process trains in with its file size limited.
const diskFullEnv = "NETI_TRAIN_DISK_FULL_DIR"

// diskFullLimit is the file size limit (bytes) the child sets after step 3: smaller than a checkpoint's
// concept file, so step 4's checkpoint fails part-way through its first file, as on a full disk.
const diskFullLimit = 1500

// TestTrainDiskFullChild is the child process of TestTrainDiskFullKeepsCheckpoint: with
// NETI_TRAIN_DISK_FULL_DIR set it trains 4 steps (checkpoints every 2) in that folder, limits the size of
// the files it may write (RLIMIT_FSIZE, SIGXFSZ ignored, so writes fail with EFBIG) after step 3, and prints
// TrainConcept's error. Without the variable it does nothing.
func TestTrainDiskFullChild(t *testing.T) {
	dir := os.Getenv(diskFullEnv)
	if dir == "" {
		return
	}
	p := loadTiny(t)
	opts := resumeTrainOptions(filepath.Join(dir, "out"), 4)
	opts.OnStep = func(pr TrainProgress) {
		if pr.Step != 3 {
			return
		}
		signal.Ignore(syscall.SIGXFSZ)
		var lim syscall.Rlimit
		if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
			panic(err)
		}
		lim.Cur = diskFullLimit
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
			panic(err)
		}
	}
	_, err := TrainConcept(stdcontext.Background(), p, []string{filepath.Join(dir, "images")}, opts)
	fmt.Printf("TRAIN ERROR: %v\n", err)
}

// TestTrainDiskFullKeepsCheckpoint: when the disk fills while a checkpoint is written, TrainConcept returns
// an error naming that checkpoint, the previous checkpoint survives whole (no half-written folder, no
// temporary left behind, no final concept), and training resumes from it to the same concept as an
// uninterrupted run.
func TestTrainDiskFullKeepsCheckpoint(t *testing.T) {
	dir := t.TempDir()
	child := filepath.Join(dir, "full")
	images := writeTestImages(t, filepath.Join(child, "images"), 3)
	cmd := exec.Command(os.Args[0], "-test.run=^TestTrainDiskFullChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), diskFullEnv+"="+child)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "child output: %s", out)
	out4 := filepath.Join(child, "out", "checkpoint-4")
	require.Contains(t, string(out), "TRAIN ERROR: neti: train: writing checkpoint "+out4, "child output: %s", out)
	assert.Contains(t, string(out), "file too large", "the write failed on the size limit")

	steps, err := checkpoints(filepath.Join(child, "out"))
	require.NoError(t, err)
	assert.Equal(t, []int{2}, steps, "the step-2 checkpoint survives; step 4's was not left half-written")
	entries, err := os.ReadDir(filepath.Join(child, "out"))
	require.NoError(t, err)
	for _, e := range entries {
		assert.False(t, strings.HasSuffix(e.Name(), ".tmp"), "temporary %s left behind", e.Name())
	}
	assert.NoFileExists(t, FinalConceptPath(filepath.Join(child, "out"), "<toy>"), "no final concept from a failed run")
	_, err = LoadConcept(filepath.Join(child, "out", "checkpoint-2", checkpointConcept))
	require.NoError(t, err, "the surviving checkpoint's concept loads")

	// Resume from the survivor (disk space back) and compare with 4 uninterrupted steps.
	p := loadTiny(t)
	ctx := stdcontext.Background()
	o := resumeTrainOptions(filepath.Join(child, "out"), 4)
	o.ResumeFrom = "latest"
	_, err = TrainConcept(ctx, p, []string{images}, o)
	require.NoError(t, err)
	ref := filepath.Join(dir, "straight")
	_, err = TrainConcept(ctx, p, []string{images}, resumeTrainOptions(ref, 4))
	require.NoError(t, err)
	got, _, _ := checkpointFiles(t, out4)
	want, _, _ := checkpointFiles(t, filepath.Join(ref, "checkpoint-4"))
	assert.Equal(t, want, got, "resumed after the failed save vs uninterrupted")
}
