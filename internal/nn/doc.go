// Package nn holds the few GoMLX layers that the model packages (clip, unet, diffusion/vae) share, with
// PyTorch's weight layouts and names so that a diffusers/transformers checkpoint loads by renaming alone:
//
//   - Linear: variables "weight" [out, in] and "bias" [out].
//   - Conv2D: NCHW feature maps, "weight" [out, in, kh, kw] (OIHW) and "bias" [out].
//   - GroupNorm, LayerNorm: "weight" and "bias" per channel / feature.
//
// Every layer creates its variables in the scope of the ctx it is given: the caller selects the scope
// (for example ctx.In("to_k")) so that variable paths mirror the checkpoint's tensor names.
// Like all GoMLX graph code, these functions panic on shape errors.
package nn
