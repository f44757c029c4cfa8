// Package unet builds diffusers' UNet2DConditionModel, the denoiser of Stable Diffusion 1.x and 2.x, as a
// GoMLX graph, with a per-layer hook for the cross-attention conditioning that NeTI and P+ need.
//
// # Configuration
//
// LoadConfig / ParseConfig read a diffusers unet/config.json. Per-block settings are resolved to one entry
// per down block. As in diffusers, attention_head_dim is the NUMBER of attention heads for these models
// (num_attention_heads = num_attention_heads or attention_head_dim): 8 heads of width 40/80/160 in SD 1.x,
// 5/10/20/20 heads of width 64 in SD 2.x. Configs outside the SD 1.x/2.x family are rejected with an error
// naming the key, e.g. SDXL ("SDXL UNet is not supported yet: addition_embed_type \"text_time\"").
//
// # Graph and weights
//
// Forward(ctx, cfg, sample, timestep, cond) builds the forward pass. Variables are created under ctx with
// the checkpoint's names, one scope per dotted component (conv_in, time_embedding/linear_1,
// down_blocks/0/resnets/0/conv1, down_blocks/0/attentions/0/transformer_blocks/0/attn2/to_k, ...,
// conv_out), with PyTorch layouts, so a diffusers diffusion_pytorch_model.safetensors loads into ctx by
// renaming alone (internal/weights). proj_in/proj_out are 1x1 convs ([out, in, 1, 1]) or, with
// use_linear_projection (SD 2.x), Linear layers ([out, in]).
//
// # Cross-attention layers and conditioning
//
// cfg.CrossAttentionLayers() numbers the cross-attention layers (attn2 of each transformer) in forward
// order, with the names P+ and NeTI use: IN01, IN02, IN04, IN05, IN07, IN08, MID, OUT03 ... OUT11 for the 16
// layers of SD 1.x/2.x. While the graph is built, each layer asks the Conditioning for its encoder states by
// its Layer value: keys (input of to_k) and values (input of to_v), which may differ (NeTI's textual bypass
// changes only the values). Shared(states) is ordinary text conditioning; PerLayer gives each layer its own.
//
// # Training
//
// The graph is differentiable. On the SimpleGo CPU backend the gradients need the adapter of
// internal/backend (backend.New): the GEGLU feed-forward splits its projection with Slice, whose gradient
// uses Pad, and the convolution gradients use Reverse.
package unet
