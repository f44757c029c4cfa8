package toymodel_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/neti"
	model "github.com/org/neti/models/toymodel"
)

// TestTrimpathBuildFindsModel builds a small program (testdata/whereis: prints toymodel.DirErr) with
// -trimpath, as a downstream module or a release build would, and runs four copies at once in a folder
// outside the repository with an empty $NETI_CACHE: the source folder is unknown to such a build, so each
// must extract the embedded model, all to the same folder under the cache, named by content hash, with no
// temporary folder left; neti.LoadPipeline then loads it. (scripts/downstream-check.sh does the same
// for a whole downstream module that generates an image.)
func TestTrimpathBuildFindsModel(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	exe := filepath.Join(t.TempDir(), "whereis")
	build := exec.Command(goTool, "build", "-trimpath", "-o", exe, "./testdata/whereis")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)

	cache, work := t.TempDir(), t.TempDir()
	dirs := make([]string, 4)
	errs := make([]error, 4)
	var wg sync.WaitGroup
	for i := range dirs {
		wg.Go(func() {
			run := exec.Command(exe)
			run.Dir = work
			run.Env = append(os.Environ(), "NETI_CACHE="+cache)
			var stdout []byte
			stdout, errs[i] = run.Output()
			dirs[i] = strings.TrimSpace(string(stdout))
		})
	}
	wg.Wait()
	for i := range dirs {
		require.NoError(t, errs[i])
		assert.Equal(t, dirs[0], dirs[i])
	}
	dir := dirs[0]
	assert.Equal(t, filepath.Join(cache, "toymodel"), filepath.Dir(dir), "extracted under $NETI_CACHE/toymodel")
	assert.Regexp(t, `^[0-9a-f]{16}$`, filepath.Base(dir), "named by content hash")
	entries, err := os.ReadDir(filepath.Join(cache, "toymodel"))
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary folder left")

	p, err := neti.LoadPipeline(dir, neti.LoadOptions{})
	require.NoError(t, err)
	defer p.Close()
	assert.NotEqual(t, model.Dir(), dir, "this test binary itself uses the source folder")
}
