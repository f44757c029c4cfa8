// Package vae is diffusers' AutoencoderKL (the Stable Diffusion VAE) in GoMLX: the encoder that maps images
// to the latent posterior and the decoder that maps latents back to images.
//
// Variables live in the scope given to Encode/Decode (the pipeline's ctx.In("vae")), one scope per dotted
// component of diffusers' tensor names, with PyTorch layouts (internal/nn): for example
// "encoder.down_blocks.0.resnets.1.conv1.weight" [out, in, 3, 3] is the variable "weight" in scope
// encoder/down_blocks/0/resnets/1/conv1, and the mid-block attention uses Linear layers
// "encoder.mid_block.attentions.0.to_q.weight" [C, C]. A diffusers vae/diffusion_pytorch_model.safetensors
// therefore loads by renaming alone; LegacyName and LegacyDims adapt older checkpoints.
//
// Encode and Decode create their variables with ctx.VariableWithShape: with weights already loaded (for
// example by internal/weights, whose Options.Rename can be LegacyName), pass ctx.Reuse() so a missing
// variable is an error; a fresh context gets random weights from its initializer (use ctx.Checked(false) to
// build the graph more than once).
//
// Latent scaling is not part of Encode/Decode, exactly as in diffusers: Encode returns the posterior of
// the unscaled latents, and Decode takes unscaled latents. A pipeline samples z = Sample(mean, logvar,
// noise) and feeds ScaleLatents(cfg, z) = (z − shift_factor)·scaling_factor to the UNet; it decodes
// Decode(ctx, cfg, UnscaleLatents(cfg, latents)).
//
// Spatial sizes follow cfg.ScaleFactor() = 2^(len(block_out_channels)−1): 8 for Stable Diffusion (a 512×512
// image has 64×64 latents), smaller for tiny test models.
package vae
