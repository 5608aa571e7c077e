#!/usr/bin/env python3
"""End to end in PyTorch: one CIFAR-10 epoch of `cnn train --arch tf-tutorial --epochs 1`'s
recipe, data loading included, for the comparison in scripts/bench/cnn_end_to_end. Reads the
official binary archive (cifar-10-binary.tar.gz), holds out 5,000 training images for validation
(seeded), normalises with the CIFAR-10 mean/std, augments with a random crop after 4 pixels of
zero padding and a horizontal flip, trains the TensorFlow-tutorial CNN (scripts/parity/cnn.py's
SeedCifarCnn) with Adam (lr 2e-3, eps 1e-8), batch 64, the epoch a linear warm-up (as `--epochs 1`
with the recipe's one warm-up epoch), validates, then evaluates on the 10,000 test images.
Prints one JSON line: test accuracy and seconds from process start.

    python scripts/bench/cnn_end_to_end.py <data dir holding cifar-10/> <threads> [seed]
"""
import io
import json
import pathlib
import sys
import tarfile
import time

START = time.perf_counter()

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "parity"))
from cnn import SeedCifarCnn  # noqa: E402

MEAN = torch.tensor([0.4914, 0.4822, 0.4465]).view(1, 3, 1, 1)
STD = torch.tensor([0.2470, 0.2435, 0.2616]).view(1, 3, 1, 1)


def load(archive):
    """(train images, train labels, test images, test labels) as uint8 NCHW and int64."""
    parts = {}
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            name = pathlib.Path(member.name).name
            if name.endswith(".bin") and ("data_batch" in name or "test_batch" in name):
                raw = np.frombuffer(tar.extractfile(member).read(), dtype=np.uint8).reshape(-1, 3073)
                parts[name] = raw
    train = np.concatenate([parts[f"data_batch_{i}.bin"] for i in range(1, 6)])
    test = parts["test_batch.bin"]
    split = lambda raw: (torch.from_numpy(raw[:, 1:].reshape(-1, 3, 32, 32).copy()),
                         torch.from_numpy(raw[:, 0].astype(np.int64)))
    return (*split(train), *split(test))


def normalise(images):
    return (images.float() / 255.0 - MEAN) / STD


def crop_flip(batch, generator):
    """Zero-pad by 4, random 32×32 crop, flip left-right with probability 1/2 (uint8 in, out)."""
    padded = F.pad(batch, (4, 4, 4, 4))
    offsets = torch.randint(0, 9, (len(batch), 2), generator=generator)
    flips = torch.rand(len(batch), generator=generator) < 0.5
    out = torch.empty_like(batch)
    for i, ((dy, dx), flip) in enumerate(zip(offsets.tolist(), flips.tolist())):
        crop = padded[i, :, dy:dy + 32, dx:dx + 32]
        out[i] = crop.flip(-1) if flip else crop
    return out


def main():
    data_dir, threads = pathlib.Path(sys.argv[1]), int(sys.argv[2])
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 42
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    x, y, test_x, test_y = load(data_dir / "cifar-10" / "cifar-10-binary.tar.gz")
    order = torch.randperm(len(x), generator=generator)
    valid_idx, train_idx = order[:5000], order[5000:]
    train_x, train_y, valid_x, valid_y = x[train_idx], y[train_idx], x[valid_idx], y[valid_idx]

    model = SeedCifarCnn()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3, eps=1e-8)
    batch, peak = 64, 2e-3
    steps = (len(train_x) + batch - 1) // batch

    def accuracy(images, labels):
        model.eval()
        with torch.no_grad():
            correct = sum((model(normalise(images[i:i + 500])).argmax(1) == labels[i:i + 500]).sum().item()
                          for i in range(0, len(images), 500))
        model.train()
        return 100.0 * correct / len(images)

    perm = torch.randperm(len(train_x), generator=generator)
    for step in range(steps):
        idx = perm[step * batch:(step + 1) * batch]
        images = normalise(crop_flip(train_x[idx], generator))
        for group in opt.param_groups:
            group["lr"] = peak * (step + 1) / steps
        opt.zero_grad()
        F.cross_entropy(model(images), train_y[idx]).backward()
        opt.step()
    valid = accuracy(valid_x, valid_y)
    test = accuracy(test_x, test_y)
    print(json.dumps({"framework": "pytorch", "torch": torch.__version__, "threads": threads,
                      "valid_accuracy": valid, "test_accuracy": test,
                      "wall_seconds": time.perf_counter() - START}))


if __name__ == "__main__":
    main()
