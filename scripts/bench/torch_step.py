#!/usr/bin/env python3
"""The PyTorch half of scripts/bench: times one training step (forward, backward, optimizer)
and one inference batch of the same models burn-zoo's `bench` binary times, on random data of
the same shapes, and prints JSON lines in the same format.

    python scripts/bench/torch_step.py <workload> <repeats> <threads>
"""
import json
import pathlib
import sys
import time

import torch
import torchvision
from torch import nn

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "parity"))
from cnn import SeedCifarCnn  # noqa: E402
from mlp import Mlp  # noqa: E402
from resnet import CifarResNet  # noqa: E402


def resnet18_cifar():
    """torchvision's resnet18 with the CIFAR stem (3x3/1 conv, no max-pool), as burn-zoo's --cifar-stem."""
    model = torchvision.models.resnet18(num_classes=10)
    model.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
    model.maxpool = nn.Identity()
    return model


WORKLOADS = {
    # name: (model, batch, input shape, optimizer, lr)
    "mlp": (Mlp, 128, (1, 28, 28), "adam", 1e-3),
    "cnn": (SeedCifarCnn, 64, (3, 32, 32), "adam", 1e-3),
    "resnet20": (lambda: CifarResNet(20), 128, (3, 32, 32), "sgd", 0.1),
    "resnet18": (resnet18_cifar, 128, (3, 32, 32), "sgd", 0.1),
}


def main():
    name, repeats, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    make, batch, shape, optimizer, lr = WORKLOADS[name]
    model = make()
    opt = torch.optim.Adam(model.parameters(), lr=lr) if optimizer == "adam" else torch.optim.SGD(model.parameters(), lr=lr)
    x = torch.randn(batch, *shape)
    y = torch.randint(0, 10, (batch,))

    def step():
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    def infer():
        with torch.no_grad():
            return model(x)

    results = {}
    model.train()
    for _ in range(3):
        step()
    results["train_step"] = []
    for _ in range(repeats):
        t = time.perf_counter()
        step()
        results["train_step"].append(time.perf_counter() - t)
    model.eval()
    for _ in range(3):
        infer()
    results["inference"] = []
    for _ in range(repeats):
        t = time.perf_counter()
        infer()
        results["inference"].append(time.perf_counter() - t)
    for phase, times in results.items():
        times.sort()
        med = times[len(times) // 2]
        print(json.dumps({
            "framework": "pytorch", "workload": name, "backend": f"cpu ({threads} threads)", "phase": phase,
            "batch": batch, "median_ms": med * 1e3, "min_ms": times[0] * 1e3, "max_ms": times[-1] * 1e3,
            "samples_per_s": batch / med, "repeats": repeats, "torch": torch.__version__,
        }))


if __name__ == "__main__":
    main()
