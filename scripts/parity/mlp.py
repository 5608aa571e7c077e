#!/usr/bin/env python3
"""PyTorch reference for burn-zoo's `mlp`: trains the same 784-128-10 network on MNIST for one
epoch, then writes the fixtures the Rust parity test reads:

  models/mlp/tests/fixtures/mlp_torch.safetensors  fc1.weight [128, 784], fc1.bias, fc2.weight, fc2.bias
  models/mlp/tests/fixtures/mlp_torch.json         test indices, their logits, torch's test accuracy

Inputs are the committed MNIST test images, normalised as the datasets crate does
((x / 255 - 0.1307) / 0.3081), so the Rust test reads the same images through its own loader.

Usage: python scripts/parity/mlp.py  (needs torch, numpy, safetensors; see scripts/parity/README.md)
"""
import gzip
import json
import pathlib

import numpy as np
import torch
from safetensors.torch import save_file
from torch import nn
from training import accuracy_percent, eval_logits, train_one_epoch

ROOT = pathlib.Path(__file__).resolve().parents[2]
MNIST = ROOT / "datasets" / "mnist"
OUT = ROOT / "models" / "mlp" / "tests" / "fixtures"
MEAN, STD = 0.1307, 0.3081


def idx(path, header):
    with gzip.open(path, "rb") as f:
        data = f.read()
    return np.frombuffer(data, dtype=np.uint8, offset=header)


def load(split):
    images = idx(MNIST / f"{split}-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28)
    labels = idx(MNIST / f"{split}-labels-idx1-ubyte.gz", 8)
    x = (torch.from_numpy(images.astype(np.float32)) / 255.0 - MEAN) / STD
    return x, torch.from_numpy(labels.astype(np.int64))


class Mlp(nn.Module):
    """Flatten -> Linear 784-128 -> ReLU -> Dropout 0.2 -> Linear 128-10 (seed 001)."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 128)
        self.fc2 = nn.Linear(128, 10)
        self.dropout = nn.Dropout(0.2)

    def forward(self, x):
        return self.fc2(self.dropout(torch.relu(self.fc1(x.flatten(1)))))


def main():
    torch.manual_seed(0)
    torch.set_num_threads(2)
    train_x, train_y = load("train")
    test_x, test_y = load("t10k")
    model = Mlp()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    train_one_epoch(model, opt, train_x, train_y, 64)
    logits = eval_logits(model, test_x)
    accuracy = accuracy_percent(logits, test_y)
    indices = list(range(32))
    OUT.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(OUT / "mlp_torch.safetensors"))
    fixture = {
        "torch_version": torch.__version__,
        "test_accuracy": accuracy,
        "test_samples": len(test_x),
        "indices": indices,
        "logits": logits[indices].tolist(),
    }
    (OUT / "mlp_torch.json").write_text(json.dumps(fixture, indent=1) + "\n")
    print(f"torch {torch.__version__}: test accuracy {accuracy:.2f}% after 1 epoch; fixtures in {OUT}")


if __name__ == "__main__":
    main()
