package toymodel

import (
	"crypto/sha256"
	"embed"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
)

// files are the model's files: what neti.LoadPipeline reads. Not the tests, the model card, its pictures
// or the parity fixtures. (A directory pattern leaves out names starting with "." or "_";
// TestEmbedMatchesSource checks that nothing of the model is left out.)
//
//go:embed model_index.json scheduler text_encoder tokenizer unet vae
var files embed.FS

// FS returns the model's files as embedded in the program, rooted at the model folder (model_index.json,
// unet/config.json, …).
func FS() fs.FS { return files }

// Dir returns the absolute path of a folder holding the model, for neti.LoadPipeline:
//
//   - the package's source folder (models/toymodel of a clone, or of the module cache) when it exists and
//     holds the model's files; a damaged file there is not replaced (LoadPipeline's error names it);
//   - else the embedded files, extracted once into the cache folder
//     ${NETI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/neti}/toymodel/<hash>, where <hash> is a digest of the
//     files' names and contents (a new model never reuses an old extraction). Extraction writes a temporary
//     folder next to it and renames it into place, so no process ever sees part of a model; an existing
//     extraction is reused once its files are checked (names and sizes), and replaced when one is missing
//     or of the wrong size.
//
// The source folder is found when the program was built without -trimpath on a machine holding it; a
// -trimpath build, or a binary run elsewhere, uses the cache.
//
// If the model can be neither found nor extracted (no home folder, an unwritable cache), Dir returns the
// folder it would have extracted to, which does not exist, so that LoadPipeline's error names it; DirErr
// returns the reason.
func Dir() string {
	dir, _ := DirErr()
	return dir
}

// DirErr is Dir with the reason when the model can be neither found nor extracted; the path is then the
// folder extraction was meant to create (or "" when no cache folder could be named).
func DirErr() (string, error) {
	if dir := sourceDir(); dir != "" {
		return dir, nil
	}
	root, err := cacheRoot()
	if err != nil {
		return "", fmt.Errorf("toymodel: the built-in model's source folder is not on this machine and %w", err)
	}
	extractMu.Lock()
	defer extractMu.Unlock()
	if extracted != "" {
		return extracted, nil
	}
	dir, err := extract(files, root)
	if err != nil {
		return dir, err
	}
	extracted = dir
	return dir, nil
}

var (
	extractMu sync.Mutex
	extracted string // the extraction this process made or checked
)

// sourceDir is the folder of this file when the build recorded its absolute path (not under -trimpath)
// and it holds every embedded file; else "".
func sourceDir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok || !filepath.IsAbs(file) {
		return "" // -trimpath records "github.com/org/neti/models/toymodel/dir.go"
	}
	dir := filepath.Dir(file)
	complete := true
	_ = fs.WalkDir(files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(path))); err != nil || !st.Mode().IsRegular() {
			complete = false
			return fs.SkipAll
		}
		return nil
	})
	if !complete {
		return ""
	}
	return dir
}

// cacheRoot is ${NETI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/neti}, absolute, as scripts/pjrt-cpu.sh and
// scripts/libtokenizers.sh use it.
func cacheRoot() (string, error) {
	root := os.Getenv("NETI_CACHE")
	if root == "" {
		base := os.Getenv("XDG_CACHE_HOME")
		if base == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return "", fmt.Errorf("no cache folder to extract it to (%v); set $NETI_CACHE", err)
			}
			base = filepath.Join(home, ".cache")
		}
		root = filepath.Join(base, "neti")
	}
	return filepath.Abs(root)
}

// contentHash digests the names and contents of fsys's files (in fs.WalkDir's lexical order): 16 hex
// digits of SHA-256.
func contentHash(fsys fs.FS) (string, error) {
	h := sha256.New()
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(path)))
		h.Write(n[:])
		io.WriteString(h, path)
		binary.LittleEndian.PutUint64(n[:], uint64(len(data)))
		h.Write(n[:])
		h.Write(data)
		return nil
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// extract returns root/toymodel/<contentHash(fsys)>, writing fsys there first unless a complete copy is
// there already. It writes into a temporary folder beside it and renames that into place, so the folder,
// once it exists, is complete; of concurrent extractions (processes or goroutines) the first rename wins
// and the others remove their copies.
func extract(fsys fs.FS, root string) (string, error) {
	hash, err := contentHash(fsys)
	if err != nil {
		return "", fmt.Errorf("toymodel: reading the embedded model: %w", err)
	}
	parent := filepath.Join(root, "toymodel")
	dir := filepath.Join(parent, hash)
	if complete(fsys, dir) == nil {
		return dir, nil
	}
	fail := func(err error) (string, error) {
		return dir, fmt.Errorf("toymodel: extracting the built-in model to %s: %w (set $NETI_CACHE to a writable folder)", dir, err)
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fail(err)
	}
	tmp, err := os.MkdirTemp(parent, "."+hash+".tmp-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(tmp) // a no-op once renamed
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fail(err)
	}
	if err := writeAll(fsys, tmp); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if complete(fsys, dir) == nil {
			return dir, nil // another process extracted it first
		}
		// A damaged earlier extraction: move it aside (one rename, so readers see it whole or not at
		// all), then put ours in its place.
		aside := tmp + ".damaged" // unique as tmp is; os.Rename refuses an existing folder as target
		if err2 := os.Rename(dir, aside); err2 != nil && !errors.Is(err2, fs.ErrNotExist) {
			return fail(err)
		}
		os.RemoveAll(aside)
		if err := os.Rename(tmp, dir); err != nil {
			if complete(fsys, dir) == nil {
				return dir, nil
			}
			return fail(err)
		}
	}
	if err := complete(fsys, dir); err != nil {
		return fail(err)
	}
	return dir, nil
}

// writeAll copies fsys's files into dir, each synced to disk before the folder is renamed into place.
func writeAll(fsys fs.FS, dir string) error {
	return fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		target := filepath.Join(dir, filepath.FromSlash(path))
		if d.IsDir() {
			if path == "." {
				return nil
			}
			return os.Mkdir(target, 0o755)
		}
		data, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return err
		}
		if _, err := f.Write(data); err != nil {
			f.Close()
			return err
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	})
}

// complete checks that dir holds every file of fsys, with its size.
func complete(fsys fs.FS, dir string) error {
	return fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		want, err := d.Info()
		if err != nil {
			return err
		}
		got, err := os.Stat(filepath.Join(dir, filepath.FromSlash(path)))
		if err != nil {
			return err
		}
		if !got.Mode().IsRegular() || got.Size() != want.Size() {
			return fmt.Errorf("%s: %d bytes, expected %d", filepath.Join(dir, filepath.FromSlash(path)), got.Size(), want.Size())
		}
		return nil
	})
}
