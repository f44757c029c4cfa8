package toyworld

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// Example is one training example: an image file name, its caption and its scene.
type Example struct {
	File    string `json:"file"`
	Caption string `json:"caption"`
	Scene   Scene  `json:"scene"`
}

// HeldOutTriples are the (shape, colour, background) combinations that never appear in training data
// (Dataset with IsHeldOut); prompts naming them test prompt following on unseen combinations. Every
// shape, every object colour but black, and every background but blue appears in one triple.
var HeldOutTriples = [][3]string{
	{"circle", "purple", "yellow"},
	{"square", "pink", "green"},
	{"triangle", "blue", "orange"},
	{"star", "red", "white"},
	{"heart", "yellow", "purple"},
	{"cross", "orange", "black"},
	{"diamond", "white", "red"},
	{"moon", "green", "pink"},
}

// IsHeldOut reports whether a scene's shape, colour and background form one of HeldOutTriples.
func IsHeldOut(s Scene) bool {
	for _, t := range HeldOutTriples {
		if s.Shape == t[0] && s.Color == t[1] && s.Background == t[2] {
			return true
		}
	}
	return false
}

// Prompt is an evaluation prompt with the coarse attributes it requests.
type Prompt struct {
	Text      string     `json:"text"`
	Requested Attributes `json:"requested"`
}

// HeldOutPrompts returns two prompts per held-out triple: the bare triple ("a purple circle on a yellow
// background") and the triple with a size, pattern and position ("a large striped purple circle ...").
func HeldOutPrompts() []Prompt {
	var out []Prompt
	for i, t := range HeldOutTriples {
		rng := rand.New(rand.NewPCG(uint64(i), 7))
		a := Attributes{Shape: t[0], Color: t[1], Background: t[2]}
		out = append(out, Prompt{fmt.Sprintf("%s %s %s on %s %s background", article(t[1]), t[1], t[0], article(t[2]), t[2]), a})
		a.Size, a.Pattern, a.Position = Sizes[i%3], Patterns[1+i%3], Positions[1+i%4]
		out = append(out, Prompt{Describe(a, rng), a})
	}
	return out
}

// HeldOutCaptions returns the texts of HeldOutPrompts.
func HeldOutCaptions() []string {
	var out []string
	for _, p := range HeldOutPrompts() {
		out = append(out, p.Text)
	}
	return out
}

// Dataset draws n examples. Example i depends only on (seed, i): its rng is PCG(seed, i), which draws
// RandomScene again while heldOut (nil: keep all) reports the scene held out, then draws the caption.
// Files are "%06d.png".
func Dataset(n int, seed uint64, heldOut func(Scene) bool) []Example {
	out := make([]Example, n)
	for i := range out {
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		s := RandomScene(rng)
		for heldOut != nil && heldOut(s) {
			s = RandomScene(rng)
		}
		out[i] = Example{File: fmt.Sprintf("%06d.png", i), Caption: Caption(s, rng), Scene: s}
	}
	return out
}

// WriteDataset renders the examples into dir as PNG files plus metadata.jsonl (one Example per line,
// in order), using the given number of goroutines (at least 1).
func WriteDataset(dir string, examples []Example, workers int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write dataset: %w", err)
	}
	workers = max(1, workers)
	jobs := make(chan int)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if errs[w] == nil {
					errs[w] = WritePNG(filepath.Join(dir, examples[i].File), Render(examples[i].Scene))
				}
			}
		}()
	}
	for i := range examples {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return writeJSONL(filepath.Join(dir, "metadata.jsonl"), examples)
}

func writeJSONL(path string, examples []Example) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write metadata: %w", err)
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for _, e := range examples {
		if err := enc.Encode(e); err != nil {
			f.Close()
			return fmt.Errorf("write metadata: %w", err)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write metadata: %w", err)
	}
	return f.Close()
}

// SceneForCaption draws a random scene (RandomScene with rng) and sets the attributes the caption names
// (ParseCaption): the coarse ones, and each fine word's representative value (the middle of its range).
// It fails when the caption names no shape or names the same colour for the object and the background.
func SceneForCaption(caption string, rng *rand.Rand) (Scene, error) {
	a := ParseCaption(caption)
	if a.Shape == "" || !a.Valid() {
		return Scene{}, fmt.Errorf("scene for caption %q: read %+v; need a shape word (%v) and distinct object and background colours", caption, a, Shapes)
	}
	s := RandomScene(rng).WithContext(a)
	if s.Color == s.Background {
		other := func(not string) string {
			return Colors[(slices.Index(Colors, not)+1)%len(Colors)]
		}
		if a.Background == "" {
			s.Background = other(s.Color)
		} else {
			s.Color = other(s.Background)
		}
	}
	applyFine(&s, a.Fine)
	return s, nil
}

// HeldOutFinePrompts returns two prompts per held-out triple that name every fine attribute, the values
// cycled so that each word is asked for in several prompts: medium or large objects (so that a mark
// fits), a pattern other than plain (so that it has a tone and a scale), only outlines that show (RandomScene's
// rule on the colours the prompt's words draw) and a mark colour at least 40 (Lab) from the object's.
func HeldOutFinePrompts() []Prompt {
	var out []Prompt
	k := 0
	for i, t := range HeldOutTriples {
		for j := range 2 {
			a := Attributes{Shape: t[0], Color: t[1], Background: t[2], Size: Sizes[1+(i+j)%2], Pattern: Patterns[1+k%3]}
			f := &a.Fine
			if t[1] != "white" && t[1] != "black" {
				f.Hue = Hues[k%2]
			}
			f.Shade = Shades[(k/2)%2]
			// An outline must show, by RandomScene's rule (outlineShows) on the colours these words draw.
			colors := Scene{Shape: t[0], Color: t[1], Background: t[2]}
			applyFine(&colors, FineWords{Hue: f.Hue, Shade: f.Shade})
			obj, bg := jittered(t[1], colors.Fine.ColorJitter), jittered(t[2], HSLJitter{})
			invisible := func(o string) bool { return o != "none" && !outlineShows(o, obj, bg) }
			for d := 0; d == 0 || invisible(f.Outline); d++ {
				f.Outline = Outlines[(k+d)%4]
			}
			if f.Outline != "none" {
				f.OutlineWidth = OutlineWidths[(k/4)%2]
			}
			f.Mark = Marks[k%3]
			if f.Mark != "none" {
				f.MarkColor = MarkColors[k%2]
				if DeltaE(markColor(f.MarkColor).lab(), colorTable[t[1]].base.Lab()) < 40 {
					f.MarkColor = MarkColors[(k+1)%2]
				}
			}
			if t[0] != "circle" {
				f.Tilt = Tilts[(k+j)%3]
				if f.Tilt != "upright" {
					f.TiltAmount = TiltAmounts[(k/3)%2]
				}
			}
			f.PatternTone = PatternTones[(k+1)%2]
			switch t[1] { // a pattern must differ from its object: lighter than black, darker than white
			case "white":
				f.PatternTone = "dark"
			case "black":
				f.PatternTone = "light"
			}
			f.PatternScale = PatternScales[(k/2+1)%2]
			rng := rand.New(rand.NewPCG(uint64(k), 17))
			out = append(out, Prompt{Describe(a, rng), a})
			k++
		}
	}
	return out
}
