#!/usr/bin/env python3
"""Exports part of CIFAR-10 as an image folder (torchvision's ImageFolder layout):

    OUT/train/<class>/<index>.png   the first --train-per-class training images of each class
    OUT/test/<class>/<index>.png    the first --test-per-class test images of each class

It reads the official `cifar-10-binary.tar.gz` and writes PNGs with the standard library only
(no numpy, no PIL). The transfer-learning demonstration in the README uses it:

    python3 scripts/data/cifar_folders.py --classes 0-4 --out /tmp/cifar-0-4
    python3 scripts/data/cifar_folders.py --classes 5-9 --train-per-class 100 --out /tmp/cifar-5-9
"""

import argparse
import os
import struct
import sys
import tarfile
import zlib

CLASSES = ["airplane", "automobile", "bird", "cat", "deer",
           "dog", "frog", "horse", "ship", "truck"]
RECORD = 1 + 3 * 32 * 32


def png(width, height, rgb_rows):
    """A truecolour 8-bit PNG of `rgb_rows` (bytes of R,G,B per pixel, one row each)."""
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    raw = b"".join(b"\x00" + row for row in rgb_rows)
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b""))


def records(archive, names):
    """(label, CHW pixels, index within the split) of the named batch files, in order."""
    index = 0
    with tarfile.open(archive) as tar:
        members = {os.path.basename(m.name): m for m in tar.getmembers()}
        for name in names:
            if name not in members:
                sys.exit(f"{archive}: no {name}; is it cifar-10-binary.tar.gz?")
            data = tar.extractfile(members[name]).read()
            if len(data) % RECORD:
                sys.exit(f"{archive}: {name} is truncated")
            for start in range(0, len(data), RECORD):
                yield data[start], data[start + 1:start + RECORD], index
                index += 1


def export(archive, names, classes, per_class, out):
    counts = {c: 0 for c in classes}
    for label, chw, index in records(archive, names):
        if label not in counts or (per_class is not None and counts[label] >= per_class):
            continue
        plane = 32 * 32
        rows = [bytes(v for x in range(32) for v in
                      (chw[y * 32 + x], chw[plane + y * 32 + x], chw[2 * plane + y * 32 + x]))
                for y in range(32)]
        folder = os.path.join(out, CLASSES[label])
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"{index:05d}.png"), "wb") as f:
            f.write(png(32, 32, rows))
        counts[label] += 1
    return counts


def parse_classes(text):
    if "-" in text:
        first, last = (int(v) for v in text.split("-"))
        return list(range(first, last + 1))
    return [int(v) for v in text.split(",")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default = os.path.join(os.environ.get("ZOO_DATA_DIR", "datasets"), "cifar-10",
                           "cifar-10-binary.tar.gz")
    parser.add_argument("--archive", default=default, help="cifar-10-binary.tar.gz")
    parser.add_argument("--classes", default="0-9", help="e.g. 0-4 or 5,7,9")
    parser.add_argument("--train-per-class", type=int, default=None, help="default: all")
    parser.add_argument("--test-per-class", type=int, default=None, help="default: all")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    classes = parse_classes(args.classes)
    if not os.path.isfile(args.archive):
        sys.exit(f"--archive {args.archive}: no such file (set ZOO_DATA_DIR or pass --archive)")
    if os.path.exists(args.out) and os.listdir(args.out):
        sys.exit(f"--out {args.out} exists and is not empty; choose a new folder")
    train = export(args.archive, [f"data_batch_{i}.bin" for i in range(1, 6)], classes,
                   args.train_per_class, os.path.join(args.out, "train"))
    test = export(args.archive, ["test_batch.bin"], classes, args.test_per_class,
                  os.path.join(args.out, "test"))
    for c in classes:
        print(f"{CLASSES[c]}: {train[c]} train, {test[c]} test")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
