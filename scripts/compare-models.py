#!/usr/bin/env python3
"""Compares the tensor values of two Digits model files (safetensors), bit for bit.

Usage: scripts/compare-models.py OLD.safetensors NEW.safetensors

Names and layer indices may differ between the two (a format change may renumber layers); the
tensors are compared in the order they are stored, each by shape and by its raw bytes. Exit
status 0 when every tensor is identical, 1 otherwise, 2 on a file that cannot be read.
"""
import json
import struct
import sys


def tensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    meta = header.pop("__metadata__", {})
    body = data[8 + n :]
    entries = sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0])
    return meta, [(name, e["shape"], body[e["data_offsets"][0] : e["data_offsets"][1]]) for name, e in entries]


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        (_, old), (_, new) = tensors(sys.argv[1]), tensors(sys.argv[2])
    except (OSError, ValueError, KeyError) as e:
        print(f"cannot read: {e}", file=sys.stderr)
        return 2
    ok = len(old) == len(new)
    if not ok:
        print(f"{len(old)} tensors against {len(new)}")
    for (on, oshape, obytes), (nn, nshape, nbytes) in zip(old, new):
        if oshape != nshape:
            print(f"{on} {oshape} against {nn} {nshape}: shapes differ")
            ok = False
        elif obytes != nbytes:
            o = struct.unpack(f"<{len(obytes) // 4}f", obytes)
            m = struct.unpack(f"<{len(nbytes) // 4}f", nbytes)
            diff = sum(1 for a, b in zip(o, m) if a != b)
            worst = max(abs(a - b) for a, b in zip(o, m))
            print(f"{on} against {nn}: {diff} of {len(o)} values differ (largest difference {worst:g})")
            ok = False
    total = sum(len(b) // 4 for _, _, b in old)
    print(("identical" if ok else "DIFFERENT") + f": {len(old)} tensors, {total} values")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
