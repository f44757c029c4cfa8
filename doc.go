// Package neti is a Go SDK for text-to-image personalization with NeTI (Alaluf et al., 2023, "A Neural
// Space-Time Representation for Text-to-Image Personalization", arXiv 2305.15391), on Stable Diffusion
// models in diffusers format, built on GoMLX.
//
// # The method in ten lines
//
// Personalization teaches a frozen text-to-image model a new concept (your cat, your vase) from a few
// photos. NeTI represents the concept not as one token embedding but as a small neural mapper M(t, ℓ): the
// denoising timestep t and the UNet cross-attention layer ℓ go through random Fourier features into a small
// MLP that outputs the placeholder token's embedding for that (t, ℓ). A textual bypass adds a residual to the
// text encoder's output at the placeholder, used for the attention values only. Nested dropout on the
// mapper's hidden vector orders its units by importance, so a truncation index trades fidelity for
// editability at inference time. The concept is the mapper's weights, about 0.5 M parameters.
//
// # Where things are
//
//	paper                         code
//	Stable Diffusion (base)       LoadPipeline, Pipeline.Generate (neti.go, generate.go); clip/, unet/, diffusion/, diffusion/vae/
//	§3.1 space P* (t × ℓ)         unet.Layer: the 16 cross-attention layers, numbered when the UNet is built
//	§3.2 neural mapper            mapper.go (the graph), mapperconfig.go (MapperConfig, initial weights)
//	§3.3 textual bypass           bypass.go (the words into CLIP's input, the bypass on the values)
//	§3.4 nested dropout           ordering.go (the graph); trainbatch.go draws the training truncations
//	the concept and its file      concept.go, conceptfile.go (Concept, Embed, SaveConcept, LoadConcept)
//	§4 training                   train.go, trainbatch.go, trainoptions.go, traindata.go, checkpoint.go (TrainConcept; TI),
//	                              trainpplus.go (P+: its per-layer vectors ↔ the stored head)
//	§5 inference                  conceptgen.go (GenerateOptions.Concepts, Truncation), export.go
//	conditioning (both)           conditioning.go: a prompt with concepts → the UNet's per-layer states
//	images                        images.go: decoding, EXIF orientation, resizing (training data, Reconstruct)
//
// The API is what a user of LoadPipeline, TrainConcept, Concept and Pipeline.Generate needs: the pipeline,
// its options, concepts and their files. The paper's graph building blocks (the mapper, the textual bypass,
// nested dropout, the conditioning graph) are unexported: they are used through Concept.Embed, Generate
// and TrainConcept, and read in mapper.go, bypass.go, ordering.go and conditioning.go.
//
// docs/neti-spec.md holds every number of the original implementation; "spec §N" in comments cites it.
//
// # Backends
//
// Graphs run on the backend named by LoadOptions.Backend or the GOMLX_BACKEND environment variable. The
// default, BackendAuto, is the fastest backend here: XLA through its CPU PJRT plugin when it is installed
// (scripts/pjrt-cpu.sh fetches it from PyPI into ~/.cache/neti), else GoMLX's pure-Go SimpleGo backend
// through a small adapter (internal/backend) that supplies the operations SimpleGo v0.26 lacks for training.
// GPUs run through the same XLA path with a CUDA PJRT plugin ("xla:cuda" or the plugin's path). neti never
// downloads a plugin; Pipeline.Backend says which backend runs and why.
//
// # Errors
//
// Functions of this package return errors; they never panic on bad input. Errors say what was received,
// what was expected and how to fix it. Inputs (folders, model families, prompts) are checked before
// models are loaded. GoMLX reports graph errors by panicking; those are recovered at this package's
// boundary and returned as errors.
package neti
