"""Tokenizes prompts with transformers 4.x's slow (pure Python) CLIPTokenizer.

transformers 5 has only the tokenizers-backed CLIPTokenizer, so the slow one runs in a
separate environment (requirements-slowtok.txt). Reads JSON {"dirs": [...], "prompts": [...]}
on stdin, writes JSON {"ids": {dir: [[77 ids] per prompt]}, "info": {...}} on stdout.
With NO_FTFY=1 the ftfy import is blocked, so the tokenizer takes its non-ftfy path
(BERT BasicTokenizer cleanup) as it does where ftfy is not installed.
"""

import json
import os
import sys

if os.environ.get("NO_FTFY") == "1":
    sys.modules["ftfy"] = None  # makes "import ftfy" raise ImportError

import transformers  # noqa: E402
from transformers import CLIPTokenizer  # noqa: E402


def main():
    req = json.load(sys.stdin)
    out = {"ids": {}, "info": {}}
    for d in req["dirs"]:
        tok = CLIPTokenizer.from_pretrained(d)
        assert not tok.is_fast
        enc = tok(req["prompts"], padding="max_length", max_length=tok.model_max_length, truncation=True)
        out["ids"][d] = enc.input_ids
        out["info"][d] = {"pad_token": tok.pad_token, "pad_token_id": tok.pad_token_id}
    ftfy = None
    try:
        import ftfy as _f

        ftfy = _f.__version__
    except ImportError:
        pass
    out["versions"] = {"transformers": transformers.__version__, "ftfy": ftfy or "not installed"}
    out["uses_ftfy"] = tok.fix_text is not None
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
