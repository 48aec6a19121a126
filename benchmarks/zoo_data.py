#!/usr/bin/python3
"""zoo_data.py: the images benchmarks/zoo_vs_torch.sh trains both sides on.

  zoo_data.py DIR [--src DIR] [--limit N]

reads Fashion-MNIST's IDX files (gzip + numpy; Debian's dataset-fashion-mnist
at /usr/share/datasets/fashion-mnist, or $AEZOO_DATA) and writes
DIR/train.npy, the first N training images (all 60000 by default), and
DIR/test.npy, the first 2000 test images (the CLI's default --test-limit),
both (N, 1, 28, 28) float32 with the values aezoo's IDX loader gives,
(float)(u / 255.0); and DIR/train-images-idx3-ubyte, the same N training
images as the bytes they are stored as (uncompressed IDX), which aezoo
keeps as bytes in a run (run/run_rows.c) as it does Debian's files.
Needs only numpy."""
import argparse
import gzip
import os
import struct

import numpy as np


def read_idx_gz(path, limit=0):
    """An unsigned-byte IDX file (gzipped or not) as a numpy array; with a
    limit, only the first `limit` examples are read."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        zero, kind, ndim = struct.unpack(">HBB", f.read(4))
        if zero != 0 or kind != 0x08:
            raise SystemExit(f"{path}: not an unsigned-byte IDX file")
        dims = list(struct.unpack(">" + "I" * ndim, f.read(4 * ndim)))
        if limit:
            dims[0] = min(dims[0], limit)
        need = int(np.prod(dims))
        raw = f.read(need)
    if len(raw) != need:
        raise SystemExit(f"{path}: truncated ({len(raw)} of {need} bytes)")
    return np.frombuffer(raw, dtype=np.uint8).reshape(dims)


def to_float(u8):
    # aezoo's loader: (float)(u / 255.0), the division in double
    return (u8.astype(np.float64) / 255.0).astype(np.float32)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dir")
    p.add_argument("--src", default=os.environ.get("AEZOO_DATA", "/usr/share/datasets/fashion-mnist"))
    p.add_argument("--limit", type=int, default=0)
    a = p.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    train = read_idx_gz(os.path.join(a.src, "train-images-idx3-ubyte.gz"), a.limit)
    test = read_idx_gz(os.path.join(a.src, "t10k-images-idx3-ubyte.gz"), 2000)
    np.save(os.path.join(a.dir, "train.npy"), to_float(train).reshape(-1, 1, 28, 28))
    with open(os.path.join(a.dir, "train-images-idx3-ubyte"), "wb") as f:
        f.write(struct.pack(">HBB", 0, 0x08, 3) + struct.pack(">III", *train.shape) + train.tobytes())
    np.save(os.path.join(a.dir, "test.npy"), to_float(test).reshape(-1, 1, 28, 28))


if __name__ == "__main__":
    main()
