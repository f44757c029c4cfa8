"""CLIP BPE vocabulary layout and its truncation to a tiny vocabulary.

CLIP's vocab.json is, in id order:
  * the 256 byte symbols (GPT-2 byte-to-unicode table, in that table's order),
  * the same 256 symbols followed by "</w>",
  * one entry per merge, in merge order (the two halves concatenated),
  * "<|startoftext|>", "<|endoftext|>".
check_layout verifies this against the real files; truncated builds the same layout
from the first K merges only.
"""

import json
import os

from common import CLIP_TOKENIZER_SRC

BOS = "<|startoftext|>"
EOS = "<|endoftext|>"


def byte_symbols():
    """The 256 byte symbols in the order CLIP's vocabulary lists them."""
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("\u00a1"), ord("\u00ac") + 1))
        + list(range(ord("\u00ae"), ord("\u00ff") + 1))
    )
    symbols = [chr(b) for b in printable]
    extra = 0
    for b in range(256):
        if b not in printable:
            symbols.append(chr(256 + extra))
            extra += 1
    return symbols


def read_real(src=CLIP_TOKENIZER_SRC):
    """Reads the real vocab.json (dict) and merges.txt (header line, list of pairs)."""
    with open(os.path.join(src, "vocab.json"), encoding="utf-8") as f:
        vocab = json.load(f)
    with open(os.path.join(src, "merges.txt"), encoding="utf-8") as f:
        lines = f.read().split("\n")
    header = lines[0]
    merges = [tuple(line.split(" ")) for line in lines[1:] if line]
    return vocab, header, merges


def layout(merges):
    """The token list (index = id) that CLIP's layout gives for these merges."""
    sym = byte_symbols()
    return sym + [s + "</w>" for s in sym] + ["".join(m) for m in merges] + [BOS, EOS]


def check_layout(src=CLIP_TOKENIZER_SRC):
    """Asserts that the real vocabulary follows layout(merges); returns a summary dict."""
    vocab, header, merges = read_real(src)
    tokens = layout(merges)
    assert len(tokens) == len(vocab), (len(tokens), len(vocab))
    for i, t in enumerate(tokens):
        assert vocab[t] == i, (t, vocab.get(t), i)
    return {"vocab_size": len(vocab), "merges": len(merges), "merges_header": header}


def truncated(vocab_size):
    """vocab dict and merges.txt text for a tiny vocabulary of exactly vocab_size entries."""
    _, header, merges = read_real()
    k = vocab_size - 512 - 2
    assert 0 < k <= len(merges)
    tokens = layout(merges[:k])
    assert len(tokens) == vocab_size
    vocab = {t: i for i, t in enumerate(tokens)}
    assert len(vocab) == vocab_size, "duplicate token in truncated vocab"
    merges_txt = header + "\n" + "".join(f"{a} {b}\n" for a, b in merges[:k])
    return vocab, merges_txt, k
