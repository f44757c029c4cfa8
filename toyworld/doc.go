// Package toyworld is a procedural world of 64×64 images, each one object on a plain background, in
// which every attribute can be rendered exactly and measured back, so that a small text-to-image model
// trained on it (AutoencoderKL + UNet2DConditionModel + CLIP text encoder, diffusers format) lets
// personalization (NeTI) be measured on a CPU.
//
// # The world
//
// Coarse attributes, the only ones captions name:
//
//	shape       circle square triangle star heart cross diamond moon
//	color       red orange yellow green blue purple pink white black
//	pattern     plain striped dotted checkered
//	size        small medium large          (equivalent-circle radius 6.5, 9.5, 13 px)
//	position    center left right top bottom
//	background  one of the colours, never the object's
//
// Fine attributes (Fine), never named, vary freely in RandomScene: the exact hue, saturation and
// lightness within each named colour, rotation (±20°), size and position jitter, outline (none, black,
// white or the colour darkened; width 1–3 px), an inner mark (none, dot or ring; white or black) at the
// object's deepest interior point, and the pattern's tone (lighter or darker), period (4.5–7.5 px),
// angle and phase. Render is deterministic, pure Go, and anti-aliased (4×4 samples per pixel).
//
// # Captions and vocabulary
//
// Caption phrases the coarse attributes with a few orderings and prefixes and sometimes leaves some out
// (never the shape); Describe phrases any Attributes (evaluation prompts); ParseCaption reads them back.
// Vocabulary lists all 47 tokens (46 lower-case words and ","). Each shape word is the super-category
// word of the concepts of that shape.
//
// # Data
//
// Dataset(n, seed, IsHeldOut) draws examples that depend only on (seed, index); WriteDataset writes
// 000000.png… and metadata.jsonl with one {"file", "caption", "scene"} object per line ("neti toyworld
// dataset"). HeldOutTriples are shape × colour × background combinations that training data never
// contains; HeldOutPrompts name them (bare, and with size, pattern and position) with the attributes
// they request, to test prompt following on unseen combinations.
//
// Concepts are eight fixed instances (two stars and two hearts share a super-category word), each
// shown in five contexts; "neti toyworld concepts" writes them as examples/concepts/<name>/NN.png and
// concept.json (the test suite checks the committed files against a fresh render).
//
// # Measurement
//
// Measure segments the object (background = the border's dominant colour; object = the largest
// component of pixels far from it in Lab, holes filled) and measures area, centroid, solidity, a radial
// signature and its harmonics, the interior colour, the outline, the inner mark and pattern statistics;
// each step's formula is documented at its function. Classify names every coarse attribute;
// Fidelity scores in [0, 1] how close an object's fine appearance is to a concept's (against the
// concept rendered in the image's own context); Editability is the fraction of requested attributes
// that Classify finds. Rates on the renderer's own scenes are reported by TestClassifyRandomScenes.
package toyworld
