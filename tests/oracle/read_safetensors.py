#!/usr/bin/env python3
"""read_safetensors.py: an independent safetensors reader (json + numpy),
to check by hand that files aezoo writes load in Python, and a writer of
the same format to check that aezoo reads files made elsewhere.

  python3 tests/oracle/read_safetensors.py FILE          # print metadata and tensors
  python3 tests/oracle/read_safetensors.py --write FILE  # write a small test file

Needs only numpy (the `safetensors` package is not assumed); where
`safetensors` or `torch` is installed, the file is also loaded with
safetensors.numpy.load_file and the arrays compared."""
import json
import struct
import sys

import numpy as np

DTYPES = {"F32": "<f4", "F64": "<f8", "F16": "<f2", "I64": "<i8", "I32": "<i4", "U8": "u1"}


def read(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    assert 8 + n <= len(raw), "header past the end"
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    assert all(isinstance(v, str) for v in meta.values()), "metadata values must be strings"
    buf = raw[8 + n:]
    tensors, spans = {}, []
    for name, e in header.items():
        assert set(e) == {"dtype", "shape", "data_offsets"}, name
        dt = np.dtype(DTYPES[e["dtype"]])
        b, end = e["data_offsets"]
        count = int(np.prod(e["shape"], dtype=np.int64))
        assert end - b == count * dt.itemsize, f"{name}: offsets do not match shape"
        tensors[name] = np.frombuffer(buf[b:end], dtype=dt).reshape(e["shape"])
        spans.append((b, end))
    pos = 0
    for b, end in sorted(spans):
        assert b == pos, "hole or overlap in the data buffer"
        pos = end
    assert pos == len(buf), "bytes after the last tensor"
    return meta, tensors


def write(path):
    """Tensors in header order different from data order; F64 and F16."""
    arrays = {"b": np.arange(6, dtype="<f8").reshape(2, 3) / 4, "a": np.array([1.5, -2, 0.25], dtype="<f2")}
    header, data, off = {"__metadata__": {"origin": "python"}}, b"", 0
    for name in ["b", "a"]:
        raw = arrays[name].tobytes()
        header[name] = {"dtype": "F64" if arrays[name].dtype == np.float64 else "F16",
                        "shape": list(arrays[name].shape), "data_offsets": [off, off + len(raw)]}
        data += raw
        off += len(raw)
    h = json.dumps(dict(reversed(list(header.items())))).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + data)


def main():
    if sys.argv[1] == "--write":
        write(sys.argv[2])
        return
    meta, tensors = read(sys.argv[1])
    print("metadata:", json.dumps(meta, ensure_ascii=False))
    for name, t in tensors.items():
        print(f"{name}: {t.dtype} {tuple(t.shape)} {t.ravel()[:6].tolist()}")
    try:
        from safetensors.numpy import load_file
    except ImportError:
        return
    ref = load_file(sys.argv[1])
    for name, t in tensors.items():
        assert np.array_equal(ref[name], t, equal_nan=True), name
    print("safetensors.numpy.load_file agrees")


if __name__ == "__main__":
    main()
