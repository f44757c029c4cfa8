"""Text encoder reference outputs: testdata/reference/<model>/clip.safetensors.

Tensors (N = len(prompts.CLIP_PROMPTS), D = 32, L = num_hidden_layers):
  input_ids [N,77] int32 (tokenizer of the tiny model, padded to 77, truncated)
  last_hidden_state [N,77,D] (after the final layer norm)
  hidden_states.<i> [N,77,D], i = 0..L (0: embeddings output; L: last layer, before the final norm)
  pooled [N,D] (pooler_output: last_hidden_state at argmax(input_ids), since eos_token_id is 2)
"""

import sys

import torch
from transformers import CLIPTextModel, CLIPTokenizer

import prompts
from common import model_dir, reference_dir, save_tensors, setup_torch


def run(model):
    setup_torch()
    tok = CLIPTokenizer.from_pretrained(model_dir(model) + "/tokenizer")
    text = CLIPTextModel.from_pretrained(model_dir(model) + "/text_encoder").eval()
    ids = tok(prompts.CLIP_PROMPTS, padding="max_length", max_length=77, truncation=True, return_tensors="pt").input_ids
    with torch.no_grad():
        out = text(ids, output_hidden_states=True)
    L = text.config.num_hidden_layers
    assert len(out.hidden_states) == L + 1
    t = {
        "input_ids": ids,
        "last_hidden_state": out.last_hidden_state,
        "pooled": out.pooler_output,
    }
    for i, h in enumerate(out.hidden_states):
        t[f"hidden_states.{i}"] = h
    # Sanity: the final norm of the last hidden state is last_hidden_state.
    normed = text.text_model.final_layer_norm(out.hidden_states[-1]) if hasattr(text, "text_model") else text.final_layer_norm(out.hidden_states[-1])
    assert torch.allclose(normed, out.last_hidden_state, atol=1e-6)
    eos_pos = ids.argmax(dim=-1)
    assert torch.equal(out.pooler_output, out.last_hidden_state[torch.arange(len(ids)), eos_pos])
    meta = {
        "model": model,
        "prompts": prompts.CLIP_PROMPTS,
        "num_hidden_layers": L,
        "hidden_act": text.config.hidden_act,
        "pooled_positions": eos_pos.tolist(),
        "attention_mask": "none (as diffusers calls the SD text encoder); causal mask only",
    }
    save_tensors(reference_dir(model) + "/clip.safetensors", t, meta)


def main(models):
    for m in models:
        run(m)


if __name__ == "__main__":
    main(sys.argv[1:] or ["tiny-sd1", "tiny-sd2"])
