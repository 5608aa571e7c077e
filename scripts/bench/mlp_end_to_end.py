#!/usr/bin/env python3
"""End to end in PyTorch: `mlp train`'s recipe on MNIST, data loading included, for the
comparison in scripts/bench/end_to_end. Reads the committed MNIST .gz files, holds out 10% of
train for validation (seeded), trains 784-128-10 with dropout 0.2, Adam (lr 2e-3, eps 1e-8),
batch 32, one epoch of linear warm-up then cosine to zero (stepped per iteration), 5 epochs,
validating after each epoch as `mlp train` does, then evaluates on the 10,000 test images.
Prints one JSON line: test accuracy and seconds from process start.

    python scripts/bench/mlp_end_to_end.py <threads> [seed]
"""
import json
import math
import pathlib
import sys
import time

START = time.perf_counter()

import torch  # noqa: E402
from torch import nn  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "parity"))
from mlp import Mlp, load  # noqa: E402


def main():
    threads = int(sys.argv[1])
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 42
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    x, y = load("train")
    test_x, test_y = load("t10k")
    order = torch.randperm(len(x))
    valid_idx, train_idx = order[:6000], order[6000:]
    train_x, train_y, valid_x, valid_y = x[train_idx], y[train_idx], x[valid_idx], y[valid_idx]
    loaded = time.perf_counter() - START

    model = Mlp()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3, eps=1e-8)
    epochs, batch, peak = 5, 32, 2e-3
    per_epoch = math.ceil(len(train_x) / batch)
    total, warmup = epochs * per_epoch, per_epoch

    def lr_at(i):
        if i < warmup:
            return peak * (i + 1) / warmup
        return peak * 0.5 * (1 + math.cos(math.pi * (i - warmup) / max(total - warmup, 1)))

    def accuracy(images, labels):
        model.eval()
        with torch.no_grad():
            correct = sum((model(images[i:i + 1000]).argmax(1) == labels[i:i + 1000]).sum().item()
                          for i in range(0, len(images), 1000))
        model.train()
        return 100.0 * correct / len(images)

    step = 0
    valid = []
    for _ in range(epochs):
        perm = torch.randperm(len(train_x))
        for i in range(0, len(train_x), batch):
            idx = perm[i:i + batch]
            for group in opt.param_groups:
                group["lr"] = lr_at(step)
            opt.zero_grad()
            nn.functional.cross_entropy(model(train_x[idx]), train_y[idx]).backward()
            opt.step()
            step += 1
        valid.append(accuracy(valid_x, valid_y))
    test = accuracy(test_x, test_y)
    print(json.dumps({
        "framework": "pytorch", "torch": torch.__version__, "threads": threads, "seed": seed,
        "test_accuracy": test, "valid_accuracy_by_epoch": valid,
        "data_seconds": loaded, "wall_seconds": time.perf_counter() - START,
    }))


if __name__ == "__main__":
    main()
