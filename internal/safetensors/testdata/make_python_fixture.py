"""Writes python.safetensors with the reference Python implementation (safetensors.numpy), so the Go reader
is checked against files it did not write itself.

Run from this folder: /root/.cache/neti/venv/bin/python make_python_fixture.py
The values follow simple formulas that reader_test.go recomputes (TestPythonFixture).
"""
import numpy as np
from safetensors.numpy import save_file

tensors = {
    # value = i * 0.5 - 1 for flat index i.
    "f32": (np.arange(6, dtype=np.float32) * 0.5 - 1).reshape(2, 3),
    "f16": (np.arange(8, dtype=np.float16) * np.float16(0.25) - np.float16(1)).reshape(2, 2, 2),
    "f64": np.arange(3, dtype=np.float64) / 3,
    # Token ids: value = i * 1000 + 7.
    "ids_i32": (np.arange(4, dtype=np.int32) * 1000 + 7).reshape(1, 4),
    "ids_i64": (np.arange(4, dtype=np.int64) * 1000 + 7).reshape(1, 4),
    "u8": np.arange(5, dtype=np.uint8),
    "mask": np.array([True, False, True]),
    "scalar": np.array(2.5, dtype=np.float32),
    "empty": np.zeros((0, 3), dtype=np.float32),
    "nested.block.0.weight": np.ones((2, 2), dtype=np.float32),
}
save_file(tensors, "python.safetensors", metadata={"format": "np", "source": "make_python_fixture.py"})
