"""Shared helpers for the fixture generators: paths, seeds, versions, safetensors output.

Every generator is deterministic on CPU in float32: torch runs single-threaded with
deterministic algorithms, and each tensor comes from its own explicitly seeded generator.
"""

import inspect
import json
import math
import os
import platform
import struct

import numpy as np
import torch
from safetensors.torch import load_file

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TESTDATA = os.path.join(REPO_ROOT, "testdata")
REFERENCE = os.path.join(TESTDATA, "reference")
SD_ASSETS = os.environ.get("SD_ASSETS", "/work/shared/sd-assets")
CLIP_TOKENIZER_SRC = os.path.join(SD_ASSETS, "tokenizers", "sd-clip-tokenizer")
REAL_CONFIGS = os.path.join(SD_ASSETS, "configs")

MODELS = ("tiny-sd1", "tiny-sd2")


def setup_torch():
    """Makes torch deterministic on CPU, float32."""
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.set_default_dtype(torch.float32)
    torch.manual_seed(0)


def gen(seed):
    """A fresh CPU generator seeded with seed."""
    g = torch.Generator(device="cpu")
    g.manual_seed(seed)
    return g


def randn(shape, seed):
    """Standard normal float32 tensor from its own generator."""
    return torch.randn(*shape, generator=gen(seed), dtype=torch.float32)


def uniform(shape, seed, lo=-1.0, hi=1.0):
    """Uniform float32 tensor in [lo, hi) from its own generator."""
    return torch.rand(*shape, generator=gen(seed), dtype=torch.float32) * (hi - lo) + lo


def versions():
    """Versions of everything that influences the fixtures."""
    import diffusers
    import safetensors
    import transformers

    out = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "diffusers": diffusers.__version__,
        "transformers": transformers.__version__,
        "safetensors": safetensors.__version__,
        "numpy": np.__version__,
    }
    try:
        import tokenizers

        out["tokenizers"] = tokenizers.__version__
    except ImportError:
        pass
    try:
        import ftfy

        out["ftfy"] = ftfy.__version__
    except ImportError:
        out["ftfy"] = "not installed"
    return out


def generator_name(depth=2):
    """The file of the function depth frames up, relative to the repository root."""
    return os.path.relpath(os.path.abspath(inspect.stack()[depth].filename), REPO_ROOT)


def write_safetensors(path, tensors, metadata):
    """Writes a safetensors file byte-reproducibly: metadata keys sorted, tensors in name order.

    (safetensors' own writer orders the metadata map differently from run to run.)
    Layout: u64 little-endian header size, JSON header padded with spaces to a multiple of 8,
    then the raw little-endian tensor data back to back.
    """
    names = sorted(tensors)
    header = {"__metadata__": {k: metadata[k] for k in sorted(metadata)}}
    blobs = []
    offset = 0
    for n in names:
        t = tensors[n]
        raw = t.numpy().astype(t.numpy().dtype.newbyteorder("<"), copy=False).tobytes()
        dtype = {torch.float32: "F32", torch.int32: "I32", torch.uint8: "U8"}[t.dtype]
        header[n] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def plain_config(cfg):
    """A diffusers config as a plain dict, with its (set-ordered) _use_default_values sorted."""
    out = dict(cfg)
    if "_use_default_values" in out:
        out["_use_default_values"] = sorted(out["_use_default_values"])
    return out


def finite(obj):
    """obj with non-finite floats replaced by the strings "inf", "-inf", "nan" (strict JSON)."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    if isinstance(obj, dict):
        return {k: finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite(v) for v in obj]
    return obj


def save_tensors(path, tensors, meta):
    """Writes tensors (float32, int32 for ids, or uint8 for 8-bit images) to a safetensors file.

    meta is a dict; each value is stored as a string (JSON-encoded unless it is a
    string already). "versions" and "generator" are always added.
    """
    out = {}
    for k, v in tensors.items():
        if isinstance(v, np.ndarray):
            v = torch.from_numpy(v)
        v = v.detach().cpu().contiguous()
        if v.dtype in (torch.float64, torch.float16, torch.bfloat16):
            v = v.to(torch.float32)
        if v.dtype == torch.int64:
            v = v.to(torch.int32)
        if v.dtype not in (torch.float32, torch.int32, torch.uint8):
            raise ValueError(f"{k}: unsupported dtype {v.dtype}")
        out[k] = v.clone()
    m = {"versions": versions(), "generator": generator_name()}
    m.update(meta)
    strmeta = {k: (v if isinstance(v, str) else json.dumps(finite(v), sort_keys=True, allow_nan=False)) for k, v in m.items()}
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_safetensors(path, out, strmeta)
    back = load_file(path)
    assert back.keys() == out.keys() and all(torch.equal(back[k], out[k]) for k in out)
    print(f"wrote {os.path.relpath(path, REPO_ROOT)}: {len(out)} tensors")


def _dumps(obj, indent):
    """JSON with dicts and nested lists indented, lists of scalars kept on one line."""
    pad = "  " * (indent + 1)
    end = "  " * indent
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f"{pad}{json.dumps(k, ensure_ascii=False)}: {_dumps(v, indent + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + end + "}"
    if isinstance(obj, (list, tuple)):
        if all(not isinstance(v, (dict, list, tuple)) for v in obj):
            return json.dumps(list(obj), ensure_ascii=False)
        return "[\n" + ",\n".join(pad + _dumps(v, indent + 1) for v in obj) + "\n" + end + "]"
    return json.dumps(obj, ensure_ascii=False)


def write_json(path, obj):
    """Writes obj as JSON (UTF-8, non-ASCII kept, scalar lists on one line), trailing newline."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    text = _dumps(obj, 0)
    assert json.loads(text) == json.loads(json.dumps(obj))
    with open(path, "w", encoding="utf-8") as f:
        f.write(text + "\n")
    print(f"wrote {os.path.relpath(path, REPO_ROOT)}")


def model_dir(name):
    """Folder of a tiny diffusers pipeline under testdata/."""
    return os.path.join(TESTDATA, name)


def reference_dir(name):
    """Folder of a tiny model's reference outputs."""
    return os.path.join(REFERENCE, name)
