#!/usr/bin/env python3
"""PyTorch references for burn-zoo's `resnet`: torchvision's resnet18 and resnet50 (ImageNet
layout, 1000 classes) and a faithful CIFAR ResNet-20 (He et al. 2016 §4.2, option-A shortcuts).

ResNet weights are too large to commit (resnet50: 100 MB), so every tensor is filled from a
tiny deterministic generator (SplitMix64) that the Rust test re-implements: the fixture holds
only each tensor's torchvision name, shape and fill rule, the input seed, and the eval-mode
logits PyTorch computed. The Rust test rebuilds the same state_dict as a safetensors file and
loads it through the normal import path, so names, shapes, layouts and BatchNorm statistics
are all checked against torchvision.

Usage: python scripts/parity/resnet.py  (needs torch, torchvision, numpy)
"""
import json
import pathlib

import numpy as np
import torch
import torchvision
from torch import nn
from torch.nn import functional as F

OUT = pathlib.Path(__file__).resolve().parents[2] / "models" / "resnet" / "tests" / "fixtures"
MASK = (1 << 64) - 1


def splitmix_uniform(n, seed):
    """n floats in [0, 1): SplitMix64 over states seed + k * golden, k = 1..n."""
    with np.errstate(over="ignore"):
        k = np.arange(1, n + 1, dtype=np.uint64)
        z = np.uint64(seed) + k * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def fill(kind, shape, seed):
    """Values of one tensor; the Rust test computes exactly the same (in f64, then f32)."""
    n = int(np.prod(shape))
    u = splitmix_uniform(n, seed)
    if kind == "weight":  # conv / linear: U(-a, a), a = sqrt(3 / fan_in)
        a = np.sqrt(3.0 / (n // shape[0]))
        v = (2.0 * u - 1.0) * a
    elif kind == "bias":
        v = (2.0 * u - 1.0) * 0.2
    elif kind == "bn_weight":
        v = 0.5 + u
    elif kind == "running_mean":
        v = (2.0 * u - 1.0) * 0.5
    elif kind == "running_var":
        v = 0.5 + 1.5 * u
    else:
        raise ValueError(kind)
    return v.astype(np.float32).reshape(shape)


class CifarBlock(nn.Module):
    """Basic block with the option-A shortcut: subsample by 2, zero-pad the new channels."""

    def __init__(self, c_in, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.pad = (planes - c_in) // 2 if (stride != 1 or c_in != planes) else None
        self.stride = stride

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.pad is None:
            short = x
        else:
            short = F.pad(x[:, :, :: self.stride, :: self.stride], (0, 0, 0, 0, self.pad, self.pad))
        return F.relu(out + short)


class CifarResNet(nn.Module):
    def __init__(self, depth=20, num_classes=10):
        super().__init__()
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        c_in = 16
        for i, planes in enumerate([16, 32, 64]):
            blocks = []
            for j in range(n):
                stride = 2 if i > 0 and j == 0 else 1
                blocks.append(CifarBlock(c_in, planes, stride))
                c_in = planes
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(x.mean((2, 3)))


def kind_of(name, tensor, model):
    module = model.get_submodule(name.rsplit(".", 1)[0])
    leaf = name.rsplit(".", 1)[1]
    if isinstance(module, nn.BatchNorm2d):
        return {"weight": "bn_weight", "bias": "bias", "running_mean": "running_mean", "running_var": "running_var"}[leaf]
    return leaf  # weight / bias of conv and linear


def write(name, model, input_shape):
    model.eval()
    spec, state = [], {}
    for k, (key, tensor) in enumerate(model.state_dict().items()):
        if key.endswith("num_batches_tracked"):
            continue
        kind = kind_of(key, tensor, model)
        seed = 1000 + k
        state[key] = torch.from_numpy(fill(kind, tuple(tensor.shape), seed))
        spec.append({"name": key, "shape": list(tensor.shape), "kind": kind, "seed": seed})
    model.load_state_dict(state, strict=False)
    n = int(np.prod(input_shape))
    x = torch.from_numpy(((2.0 * splitmix_uniform(n, 7) - 1.0) * 2.0).astype(np.float32).reshape(input_shape))
    with torch.no_grad():
        logits = model(x)
    fixture = {
        "model": name,
        "torch_version": torch.__version__,
        "torchvision_version": torchvision.__version__,
        "input_shape": list(input_shape),
        "input_seed": 7,
        "tensors": spec,
        "logits": logits.flatten().tolist(),
    }
    (OUT / f"{name}.json").write_text(json.dumps(fixture) + "\n")
    print(f"{name}: {len(spec)} tensors, logits {tuple(logits.shape)}, |logits| max {logits.abs().max():.3f}")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    write("resnet18", torchvision.models.resnet18(), (2, 3, 64, 64))
    write("resnet50", torchvision.models.resnet50(), (1, 3, 64, 64))
    write("resnet20", CifarResNet(20), (2, 3, 32, 32))


if __name__ == "__main__":
    main()
