"""Builds a CLIP-format BPE tokenizer (vocab.json, merges.txt, tokenizer_config.json,
special_tokens_map.json) whose merges turn every toy-world word into one token "word</w>".

The vocabulary is CLIP's layout: the 256 byte symbols, the same 256 with "</w>", one entry per merge,
then <|startoftext|> and <|endoftext|>. Merges are learned by running BPE to completion over the word
list (each word counted once, ties broken by the pair's text), so encoding a word replays exactly the
merges that built it and ends with a single symbol; any other text falls back to smaller pieces.
"""

import json
import os


def byte_symbols():
    """Returns the 256 printable symbols that stand for the bytes 0..255, in CLIP's order."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(
        range(ord("®"), ord("ÿ") + 1))
    order = list(printable)
    symbol = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in symbol:
            symbol[b] = chr(256 + extra)
            order.append(b)
            extra += 1
    return [symbol[b] for b in order], symbol


def learn_merges(words):
    """Runs BPE to completion over words (lower case, ASCII); returns the merges in rank order."""
    _, symbol = byte_symbols()
    seqs = []
    for w in sorted(set(words)):
        syms = [symbol[b] for b in w.encode("utf-8")]
        syms[-1] += "</w>"
        seqs.append(syms)
    merges = []
    while True:
        counts = {}
        for s in seqs:
            for a, b in zip(s, s[1:]):
                counts[(a, b)] = counts.get((a, b), 0) + 1
        if not counts:
            return merges
        best = min(counts, key=lambda p: (-counts[p], p))
        merges.append(best)
        for i, s in enumerate(seqs):
            out, j = [], 0
            while j < len(s):
                if j + 1 < len(s) and (s[j], s[j + 1]) == best:
                    out.append(s[j] + s[j + 1])
                    j += 2
                else:
                    out.append(s[j])
                    j += 1
            seqs[i] = out


def write_tokenizer(out_dir, words):
    """Writes the tokenizer files into out_dir for the given words."""
    os.makedirs(out_dir, exist_ok=True)
    syms, _ = byte_symbols()
    merges = learn_merges(words)
    vocab = syms + [s + "</w>" for s in syms] + [a + b for a, b in merges]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    assert len(set(vocab)) == len(vocab), "duplicate vocabulary entries"
    with open(os.path.join(out_dir, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump({t: i for i, t in enumerate(vocab)}, f, ensure_ascii=False)
    with open(os.path.join(out_dir, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n")
        for a, b in merges:
            f.write(f"{a} {b}\n")

    def special(text):
        return {"__type": "AddedToken", "content": text, "lstrip": False, "normalized": True,
                "rstrip": False, "single_word": False}

    config = {
        "add_prefix_space": False,
        "bos_token": special("<|startoftext|>"),
        "do_lower_case": True,
        "eos_token": special("<|endoftext|>"),
        "errors": "replace",
        "model_max_length": 77,
        "pad_token": "<|endoftext|>",
        "tokenizer_class": "CLIPTokenizer",
        "unk_token": special("<|endoftext|>"),
    }
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    smap = {
        "bos_token": {k: v for k, v in special("<|startoftext|>").items() if k != "__type"},
        "eos_token": {k: v for k, v in special("<|endoftext|>").items() if k != "__type"},
        "pad_token": "<|endoftext|>",
        "unk_token": {k: v for k, v in special("<|endoftext|>").items() if k != "__type"},
    }
    with open(os.path.join(out_dir, "special_tokens_map.json"), "w") as f:
        json.dump(smap, f, indent=2)
        f.write("\n")
    return len(vocab)


def check_tokenizer(out_dir, words):
    """Asserts that transformers' CLIPTokenizer loads out_dir and encodes every word as one token."""
    from transformers import CLIPTokenizer
    tok = CLIPTokenizer.from_pretrained(out_dir)
    vocab = json.load(open(os.path.join(out_dir, "vocab.json")))
    for w in words:
        ids = tok(w).input_ids
        assert ids == [vocab["<|startoftext|>"], vocab[w + "</w>"], vocab["<|endoftext|>"]], (w, ids)
    return tok


if __name__ == "__main__":
    import sys
    words = [w for w in open(sys.argv[2]).read().split() if w]
    n = write_tokenizer(sys.argv[1], words)
    tok = check_tokenizer(sys.argv[1], words)
    print("vocab", n, tok("a small red striped star on a blue background, on the left").input_ids)
