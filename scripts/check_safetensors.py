"""Cross-checks src/io/safetensors.ts against the reference safetensors library.

Usage: python check_safetensors.py DIR

Reads DIR/from_ts.safetensors (written by our encoder) with the reference
reader and dumps what it saw to DIR/from_ts.json; writes DIR/from_py.safetensors
(plus DIR/from_py.json describing it) and DIR/known_vector.safetensors for our
decoder to read. test/io-safetensors.test.ts runs this when
SKIPGRAD_SAFETENSORS_PYTHON names a Python with safetensors and numpy; the
normal test run never needs Python.
"""

import json
import os
import sys

import numpy as np
from safetensors import TensorSpec, safe_open, serialize
from safetensors.numpy import load_file, save_file


def describe(arr: np.ndarray) -> dict:
    flat = arr.reshape(-1)
    if arr.dtype == np.int64:
        values = [str(int(v)) for v in flat]  # past 2**53 a JSON number would lose digits
    elif arr.dtype == np.bool_:
        values = [int(v) for v in flat]
    elif arr.dtype.kind == "f":
        # JSON has no NaN/Infinity; Python would write bare tokens that JSON.parse refuses.
        values = [v.item() if np.isfinite(v) else str(v.item()) for v in flat]
    else:
        values = [v.item() for v in flat]
    return {"dtype": str(arr.dtype), "shape": list(arr.shape), "values": values}


def main(folder: str) -> None:
    src = os.path.join(folder, "from_ts.safetensors")
    tensors = load_file(src)
    with safe_open(src, framework="numpy") as f:
        metadata = f.metadata() or {}
        keys = list(f.keys())
    dump = {"keys": keys, "metadata": metadata, "tensors": {k: describe(v) for k, v in tensors.items()}}
    with open(os.path.join(folder, "from_ts.json"), "w") as out:
        json.dump(dump, out)

    ours = {
        "f64": np.array([[1.0 / 3.0, -2.5], [1e300, -0.0]], dtype=np.float64),
        "f32": np.array([0.1, 2.0, -3.5], dtype=np.float32),
        "f16": np.array([1.0, -2.0, 0.5, 65504.0, 2.0**-24], dtype=np.float16),
        "i64": np.array([-(2**63), 2**63 - 1, 7], dtype=np.int64),
        "i32": np.arange(6, dtype=np.int32).reshape(2, 3) - 3,
        "u8": np.array([0, 128, 255], dtype=np.uint8),
        "bool": np.array([True, False, True]),
        "scalar": np.array(4.25, dtype=np.float32),
        "empty": np.zeros((2, 0), dtype=np.float32),
    }
    save_file(ours, os.path.join(folder, "from_py.safetensors"), metadata={"who": "python", "ünï": "cödé"})
    with open(os.path.join(folder, "from_py.json"), "w") as out:
        json.dump({k: describe(v) for k, v in ours.items()}, out)

    # bfloat16 has no numpy dtype: hand the reference writer raw bits instead.
    bits = np.array([0x3F80, 0xC000, 0x4049], dtype=np.uint16)
    raw = serialize({"bf16": TensorSpec(dtype="bfloat16", shape=[3], data_ptr=bits.ctypes.data, data_len=bits.nbytes)})
    with open(os.path.join(folder, "from_py_bf16.safetensors"), "wb") as out:
        out.write(bytes(raw))

    save_file({"a": np.array([1.0, 2.0], dtype=np.float32)}, os.path.join(folder, "known_vector.safetensors"))
    print("ok")


if __name__ == "__main__":
    main(sys.argv[1])
