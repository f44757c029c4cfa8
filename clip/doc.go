// Package clip is Stable Diffusion's CLIP text encoder (transformers' CLIPTextModel) as GoMLX graph
// functions, its configuration, and its tokenizer.
//
// # Encoder
//
// The forward pass is split so that callers can intervene between its stages (NeTI replaces a placeholder
// token's input embedding, and adds a residual to the last state before the final layer norm):
//
//	tok := TokenEmbeddings(ctx, cfg, ids)          // [batch, 77] int32 → [batch, 77, D], table lookup only
//	x := Embeddings(ctx, cfg, tok)                 // + position embeddings (hidden_states[0])
//	h, states := Encoder(ctx, cfg, x, opts)        // causal transformer; h before the final layer norm
//	out := FinalNorm(ctx, cfg, h)                  // last_hidden_state, what the UNet attends to
//
// Forward composes the four; Pooled picks the end-of-text state. Variables live under the ctx given
// (a pipeline passes ctx.In("text_encoder")) in scopes that mirror the transformers tensor names, so
// "text_model.encoder.layers.0.self_attn.q_proj.weight" is the variable "weight" in scope
// <ctx>/text_model/encoder/layers/0/self_attn/q_proj; layouts are PyTorch's (Linear weight [out, in]).
// Graph functions panic on shape errors, as GoMLX code does.
//
// # Configuration
//
// LoadConfig parses a text_encoder/config.json (CLIPTextConfig) and validates it; errors name the file
// and the field. SDXL's second text encoder (CLIPTextModelWithProjection) is rejected as not supported yet.
//
// # Tokenizer
//
// LoadTokenizer reads a diffusers tokenizer folder (vocab.json, merges.txt, tokenizer_config.json,
// special_tokens_map.json), builds the tokenizer.json that transformers' CLIPTokenizer would build from
// them and runs it with the Rust tokenizers library (github.com/daulet/tokenizers, cgo). Build with
//
//	export CGO_LDFLAGS="-L$(scripts/libtokenizers.sh)"
//
// Encode gives transformers' ids for tokenizer(prompt, padding="max_length", max_length=77,
// truncation=True); AddTokens adds placeholder words as new tokens after the vocabulary.
package clip
