package neti

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strings"
)

// TrainImages are the decoded training images of a concept, upright (JPEG EXIF orientation applied), and
// what was left out.
type TrainImages struct {
	// Files are the image files used, in order.
	Files []string
	// Notes name what was skipped, one line per input folder (its files that are not PNG or JPEG and its
	// subfolders) or file, for the caller to show.
	Notes []string
	// SHA256 is the hex SHA-256 of each file of Files as it was read: checkpoints record them, so that
	// resuming after an image was edited in place is refused.
	SHA256 []string

	images []image.Image // upright, one per file
}

// LoadTrainImages reads the training images of a concept from inputs, each a PNG or JPEG file or a folder
// whose files are read (not recursively; hidden files skipped). A folder's files that are not PNG or JPEG
// and its subfolders are skipped and named in one note per folder (a file given by itself that is not an
// image, in a note of its own); a file that looks like an image but does not decode, a missing path or no image at
// all is an error, as is an image of more than MaxTrainImagePixels pixels (checked from its header, before
// decoding). TrainConcept calls it; call it first to check the data before loading a model.
func LoadTrainImages(inputs []string) (*TrainImages, error) {
	if len(inputs) == 0 {
		return nil, errors.New("neti: training data: no files or folders given: expected image files or a folder of them")
	}
	type source struct{ path, dir string } // dir: the input folder it was listed from, "" for a file given
	var files []source
	var dirs []string                       // the input folders, in order
	subfolders := make(map[string][]string) // input folder → its subfolders, not read
	for _, in := range inputs {
		info, err := os.Stat(in)
		if err != nil {
			return nil, fmt.Errorf("neti: training data: %w", err)
		}
		if !info.IsDir() {
			files = append(files, source{path: in})
			continue
		}
		entries, err := os.ReadDir(in)
		if err != nil {
			return nil, fmt.Errorf("neti: training data: %w", err)
		}
		dirs = append(dirs, in)
		for _, e := range entries { // sorted by name
			if strings.HasPrefix(e.Name(), ".") {
				continue // hidden: .DS_Store, .git, editors' files
			}
			path := filepath.Join(in, e.Name())
			if st, err := os.Stat(path); e.IsDir() || err == nil && st.IsDir() { // a folder, or a link to one
				subfolders[in] = append(subfolders[in], e.Name()+string(filepath.Separator))
				continue
			}
			files = append(files, source{path: path, dir: in})
		}
	}
	out := &TrainImages{}
	notImages := make(map[string][]string) // input folder → its files that are not images
	for _, f := range files {
		img, note, sum, err := loadTrainImage(f.path)
		if err != nil {
			return nil, err
		}
		if note != "" {
			if f.dir == "" {
				out.Notes = append(out.Notes, note)
			} else {
				notImages[f.dir] = append(notImages[f.dir], filepath.Base(f.path))
			}
			continue
		}
		out.Files, out.images, out.SHA256 = append(out.Files, f.path), append(out.images, img), append(out.SHA256, sum)
	}
	for _, dir := range dirs {
		if note := skippedNote(dir, notImages[dir], subfolders[dir]); note != "" {
			out.Notes = append(out.Notes, note)
		}
	}
	if len(out.images) == 0 {
		skipped := ""
		if len(out.Notes) > 0 {
			skipped = " (" + strings.Join(out.Notes, "; ") + ")"
		}
		return nil, fmt.Errorf("neti: training data: no PNG or JPEG image in %s%s: expected at least one image of the "+
			"concept", strings.Join(inputs, ", "), skipped)
	}
	return out, nil
}

// skippedNote is the one note on what a training folder holds besides images: its files that are not
// PNG or JPEG images and its subfolders (not read), each named; "" when there are none.
func skippedNote(dir string, notImages, subfolders []string) string {
	var parts []string
	if len(notImages) > 0 {
		parts = append(parts, fmt.Sprintf("%s (not PNG or JPEG images)", strings.Join(notImages, ", ")))
	}
	if len(subfolders) > 0 {
		example := filepath.Join(dir, strings.TrimSuffix(subfolders[0], string(filepath.Separator)))
		parts = append(parts, fmt.Sprintf("%s (subfolders: folders are not read recursively; to train on their "+
			"images too, list them with the folder, e.g. --train_data_dir %s,%s)", strings.Join(subfolders, ", "), dir, example))
	}
	if len(parts) == 0 {
		return ""
	}
	n, entries := len(notImages)+len(subfolders), "entries"
	if n == 1 {
		entries = "entry"
	}
	return fmt.Sprintf("skipped %d %s of %s: %s", n, entries, dir, strings.Join(parts, "; "))
}

// MaxTrainImagePixels is the largest decoded size (width × height) of a training image: 64 megapixels.
// It is checked from the file's header before the pixels are decoded, so a small file that declares a
// huge image (a decompression bomb: 1.5 MB of PNG can declare 40000×40000) is refused instead of
// exhausting memory. 64 MP keeps every photo a demanding user brings — a 61 MP full-frame camera
// (9504×6336), a phone's 50 MP mode, an 8000×8000 scan — while bounding one image's decoding at about
// 0.25 GB (8-bit; 0.5 GB for 16-bit PNG) plus 0.75 GB of float RGB planes while it is prepared. Training
// resizes every image to TrainOptions.Resolution (512 pixels for SD 1.x), so downscaling a larger photo
// first loses nothing.
const MaxTrainImagePixels = 64_000_000

// loadTrainImage decodes one file and returns the hex SHA-256 of its contents. A file that is not an
// image gives a note and no error.
func loadTrainImage(path string) (img image.Image, note, sum string, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", "", fmt.Errorf("neti: training data: %w", err)
	}
	img, note, err = decodeTrainImage(path, data, MaxTrainImagePixels)
	h := sha256.Sum256(data)
	return img, note, hex.EncodeToString(h[:]), err
}
