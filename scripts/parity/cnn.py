#!/usr/bin/env python3
"""PyTorch references for burn-zoo's `cnn`: the seed-002 CNN (CIFAR-10 shape) and the
LeNet-5-style CNN with batch norm (MNIST shape), with PyTorch's field names.

For each architecture: random-init weights (seeded) with non-trivial BatchNorm running
statistics, a random input batch, and the eval-mode logits, written to
models/cnn/tests/fixtures/<arch>.safetensors (weights) and <arch>_io.safetensors (input, logits).

Usage: python scripts/parity/cnn.py  (needs torch, safetensors; see scripts/parity/README.md)
"""
import pathlib

import torch
from safetensors.torch import save_file
from torch import nn
from torch.nn import functional as F
from training import accuracy_percent, eval_logits, train_one_epoch

OUT = pathlib.Path(__file__).resolve().parents[2] / "models" / "cnn" / "tests" / "fixtures"


class SeedCifarCnn(nn.Module):
    """Seed 002: Conv32-Pool-Conv64-Pool-Conv64-Dense64-Dense10, 'valid' padding."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3)
        self.conv2 = nn.Conv2d(32, 64, 3)
        self.conv3 = nn.Conv2d(64, 64, 3)
        self.fc1 = nn.Linear(64 * 4 * 4, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.conv3(x))
        return self.fc2(F.relu(self.fc1(x.flatten(1))))


class LeNet(nn.Module):
    """LeNet-5 widened to 32/64 channels, batch norm after each conv, dropout in the head."""

    def __init__(self, dropout=0.3):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 5, padding=2, bias=False)
        self.bn1 = nn.BatchNorm2d(32)
        self.conv2 = nn.Conv2d(32, 64, 5, bias=False)
        self.bn2 = nn.BatchNorm2d(64)
        self.fc1 = nn.Linear(64 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        x = self.dropout(F.relu(self.fc1(x.flatten(1))))
        x = self.dropout(F.relu(self.fc2(x)))
        return self.fc3(x)


def randomize_batch_norm(model, generator):
    """Give every BatchNorm running statistics and affine parameters that are not 0/1."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.running_mean.normal_(0.0, 0.5, generator=generator)
                m.running_var.uniform_(0.5, 2.0, generator=generator)
                m.weight.uniform_(0.5, 1.5, generator=generator)
                m.bias.normal_(0.0, 0.2, generator=generator)


def write(name, model, input_shape):
    g = torch.Generator().manual_seed(1)
    randomize_batch_norm(model, g)
    model.eval()
    x = torch.randn(input_shape, generator=g)
    with torch.no_grad():
        logits = model(x)
    state = {k: v.contiguous() for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    save_file(state, str(OUT / f"{name}.safetensors"))
    save_file({"input": x.contiguous(), "logits": logits.contiguous()}, str(OUT / f"{name}_io.safetensors"))
    print(f"{name}: {sum(v.numel() for v in state.values())} values, logits {tuple(logits.shape)}")


def mnist(split):
    """The committed MNIST, normalised as the datasets crate does."""
    import gzip

    import numpy as np

    root = OUT.parents[3] / "datasets" / "mnist"
    with gzip.open(root / f"{split}-images-idx3-ubyte.gz", "rb") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
    with gzip.open(root / f"{split}-labels-idx1-ubyte.gz", "rb") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    x = (torch.from_numpy(images.astype("float32")) / 255.0 - 0.1307) / 0.3081
    return x, torch.from_numpy(labels.astype("int64"))


def trained_lenet():
    """LeNet trained one epoch on MNIST in PyTorch: its test accuracy is what `cnn eval` must
    report for the same weights."""
    train_x, train_y = mnist("train")
    test_x, test_y = mnist("t10k")
    model = LeNet()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    train_one_epoch(model, opt, train_x, train_y, 128)
    accuracy = accuracy_percent(eval_logits(model, test_x), test_y)
    state = {k: v.contiguous() for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    save_file(state, str(OUT / "lenet_mnist_trained.safetensors"), metadata={"test_accuracy": f"{accuracy:.4f}"})
    print(f"lenet trained 1 epoch in torch: test accuracy {accuracy:.2f}%")


def main():
    torch.manual_seed(0)
    torch.set_num_threads(2)
    OUT.mkdir(parents=True, exist_ok=True)
    write("seed_cifar", SeedCifarCnn(), (4, 3, 32, 32))
    write("lenet", LeNet(), (4, 1, 28, 28))
    trained_lenet()
    print(f"torch {torch.__version__}; fixtures in {OUT}")


if __name__ == "__main__":
    main()
