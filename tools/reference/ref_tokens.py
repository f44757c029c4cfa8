"""Tokenizer fixtures.

* testdata/reference/<model>/tokens.json: prompts.TINY through the tiny model's tokenizer;
  testdata/reference/<model>/tokenizer.json: that tokenizer as transformers 5 serializes it.
* testdata/clip-tokenizer/: the real CLIP vocab.json + merges.txt, with SD 1.5's and SD 2.1's
  tokenizer_config.json / special_tokens_map.json in sd15/ and sd21/.
* testdata/reference/tokenizer_parity.json: prompts.parity_prompts() through the real vocabulary
  with both configs.

"fast" ids come from transformers 5's CLIPTokenizer (tokenizers-backed; transformers 5 has no
other, and CLIPTokenizerFast is an alias of it); this is what diffusers uses here. "slow" ids
come from transformers 4.x's pure-Python CLIPTokenizer, run through slow_tokenize.py in the
environment given by SLOWTOK_PYTHON (default /root/.cache/neti/venv-slowtok/bin/python), once
with ftfy installed ("slow") and once with its import blocked ("slow_noftfy").
Everything is padded to 77 ("max_length") with truncation on.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

from transformers import CLIPTokenizer

import prompts
from common import CLIP_TOKENIZER_SRC, REAL_CONFIGS, REFERENCE, TESTDATA, model_dir, reference_dir, versions, write_json

SLOWTOK_PYTHON = os.environ.get("SLOWTOK_PYTHON", "/root/.cache/neti/venv-slowtok/bin/python")
HERE = os.path.dirname(os.path.abspath(__file__))
CLIP_DIR = os.path.join(TESTDATA, "clip-tokenizer")
CONFIGS = {"sd15": "stable-diffusion-v1-5", "sd21": "stable-diffusion-2-1"}


def fast_ids(tok_dir, texts):
    tok = CLIPTokenizer.from_pretrained(tok_dir)
    enc = tok(texts, padding="max_length", max_length=77, truncation=True)
    unpadded = tok(texts, truncation=False).input_ids
    return tok, enc.input_ids, unpadded


def slow_ids(tok_dirs, texts, no_ftfy):
    env = dict(os.environ, NO_FTFY="1" if no_ftfy else "0")
    req = json.dumps({"dirs": tok_dirs, "prompts": texts})
    res = subprocess.run(
        [SLOWTOK_PYTHON, os.path.join(HERE, "slow_tokenize.py")],
        input=req.encode(),
        capture_output=True,
        env=env,
        check=True,
    )
    out = json.loads(res.stdout)
    assert out["uses_ftfy"] == (not no_ftfy), out["uses_ftfy"]
    return out


def entries(tok, texts, fast, unpadded, slow, slow_noftfy):
    rows = []
    for i, p in enumerate(texts):
        row = {
            "prompt": p,
            "input_ids": fast[i],
            "num_tokens": len(unpadded[i]),
            "truncated": len(unpadded[i]) > 77,
            "tokens": tok.convert_ids_to_tokens(unpadded[i][:77]),
            "input_ids_slow": slow[i],
            "input_ids_slow_noftfy": slow_noftfy[i],
        }
        row["fast_equals_slow"] = fast[i] == slow[i]
        row["fast_equals_slow_noftfy"] = fast[i] == slow_noftfy[i]
        rows.append(row)
    return rows


def header(slow, slow_noftfy):
    return {
        "padding": "max_length",
        "max_length": 77,
        "truncation": True,
        "input_ids": "transformers 5 CLIPTokenizer (tokenizers-backed, = CLIPTokenizerFast; what diffusers uses)",
        "input_ids_slow": "transformers 4 slow CLIPTokenizer with ftfy installed: ftfy.fix_text, whitespace "
        "collapse, lower case, then regex + BPE",
        "input_ids_slow_noftfy": "transformers 4 slow CLIPTokenizer without ftfy: BERT BasicTokenizer cleanup "
        "(no accent stripping, punctuation and CJK split off), lower case, then regex + BPE",
        "versions": versions(),
        "slow_versions": slow["versions"],
        "slow_noftfy_versions": slow_noftfy["versions"],
        "generator": os.path.relpath(os.path.abspath(__file__), os.path.dirname(TESTDATA)),
    }


def tiny_tokens(model):
    tok_dir = os.path.join(model_dir(model), "tokenizer")
    texts = prompts.TINY
    tok, fast, unpadded = fast_ids(tok_dir, texts)
    slow = slow_ids([tok_dir], texts, no_ftfy=False)
    slow_nf = slow_ids([tok_dir], texts, no_ftfy=True)
    rows = entries(tok, texts, fast, unpadded, slow["ids"][tok_dir], slow_nf["ids"][tok_dir])
    doc = {"model": model, "tokenizer": f"testdata/{model}/tokenizer"}
    doc.update(header(slow, slow_nf))
    doc.update(
        {
            "vocab_size": len(tok),
            "bos_token_id": tok.bos_token_id,
            "eos_token_id": tok.eos_token_id,
            "pad_token": tok.pad_token,
            "pad_token_id": tok.pad_token_id,
            "slow_pad_token_id": slow["info"][tok_dir]["pad_token_id"],
            "disagreements_fast_slow": [r["prompt"] for r in rows if not r["fast_equals_slow"]],
            "disagreements_fast_slow_noftfy": [r["prompt"] for r in rows if not r["fast_equals_slow_noftfy"]],
            "prompts": rows,
        }
    )
    write_json(os.path.join(reference_dir(model), "tokens.json"), doc)
    # The tokenizers-library serialization transformers 5 builds from vocab.json + merges.txt
    # (real SD tokenizer folders have no tokenizer.json); for checking a Go-side conversion.
    tok.backend_tokenizer.save(os.path.join(reference_dir(model), "tokenizer.json"), pretty=True)


def copy_clip_tokenizer():
    if os.path.isdir(CLIP_DIR):
        shutil.rmtree(CLIP_DIR)
    os.makedirs(CLIP_DIR)
    for f in ("vocab.json", "merges.txt"):
        shutil.copyfile(os.path.join(CLIP_TOKENIZER_SRC, f), os.path.join(CLIP_DIR, f))
    for short, real in CONFIGS.items():
        os.makedirs(os.path.join(CLIP_DIR, short))
        for f in ("tokenizer_config.json", "special_tokens_map.json"):
            shutil.copyfile(os.path.join(REAL_CONFIGS, real, "tokenizer", f), os.path.join(CLIP_DIR, short, f))
    with open(os.path.join(CLIP_DIR, "README.md"), "w", encoding="utf-8") as f:
        f.write(
            "# Real CLIP BPE tokenizer files\n\n"
            "`vocab.json` and `merges.txt` are byte-for-byte copies of the SD v1.5 `tokenizer/` files (also used by\n"
            "SD v1.4, SD 2.1 and SDXL). `sd15/` and `sd21/` hold each model's `tokenizer_config.json` and\n"
            "`special_tokens_map.json` (pad token `<|endoftext|>` for SD 1.5, `!` for SD 2.1). To load one with\n"
            "transformers, put the two shared files next to a config pair. Copied by tools/reference/ref_tokens.py;\n"
            "ids for both configs are in testdata/reference/tokenizer_parity.json.\n"
        )


def parity():
    copy_clip_tokenizer()
    texts = prompts.parity_prompts()
    with tempfile.TemporaryDirectory() as tmp:
        dirs = {}
        for short in CONFIGS:
            d = os.path.join(tmp, short)
            os.makedirs(d)
            for f in ("vocab.json", "merges.txt"):
                shutil.copyfile(os.path.join(CLIP_DIR, f), os.path.join(d, f))
            for f in ("tokenizer_config.json", "special_tokens_map.json"):
                shutil.copyfile(os.path.join(CLIP_DIR, short, f), os.path.join(d, f))
            dirs[short] = d
        slow = slow_ids(list(dirs.values()), texts, no_ftfy=False)
        slow_nf = slow_ids(list(dirs.values()), texts, no_ftfy=True)
        doc = {"tokenizer": "testdata/clip-tokenizer (vocab.json, merges.txt + <config>/ files)"}
        doc.update(header(slow, slow_nf))
        configs = {}
        for short, d in dirs.items():
            tok, fast, unpadded = fast_ids(d, texts)
            rows = entries(tok, texts, fast, unpadded, slow["ids"][d], slow_nf["ids"][d])
            configs[short] = {
                "config_dir": f"testdata/clip-tokenizer/{short}",
                "vocab_size": len(tok),
                "bos_token_id": tok.bos_token_id,
                "eos_token_id": tok.eos_token_id,
                "pad_token": tok.pad_token,
                "pad_token_id": tok.pad_token_id,
                "slow_pad_token_id": slow["info"][d]["pad_token_id"],
                "disagreements_fast_slow": [r["prompt"] for r in rows if not r["fast_equals_slow"]],
                "disagreements_fast_slow_noftfy": [r["prompt"] for r in rows if not r["fast_equals_slow_noftfy"]],
                "prompts": rows,
            }
        doc["num_prompts"] = len(texts)
        doc["configs"] = configs
    write_json(os.path.join(REFERENCE, "tokenizer_parity.json"), doc)


def main(args):
    for m in args or ["tiny-sd1", "tiny-sd2"]:
        tiny_tokens(m)
    if not args:
        parity()


if __name__ == "__main__":
    main(sys.argv[1:])
