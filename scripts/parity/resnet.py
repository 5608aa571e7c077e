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
from training import accuracy_percent, eval_logits, train_one_epoch

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
    u = splitmix_uniform(int(np.prod(shape)), seed)
    return scaled(kind, shape, u).astype(np.float32).reshape(shape)


def scaled(kind, shape, u):
    """Uniform draws `u` in [0, 1) made into a tensor of `kind` and `shape`'s values (f64)."""
    if kind == "weight":  # conv / linear: U(-a, a), a = sqrt(3 / fan_in)
        a = np.sqrt(3.0 / (int(np.prod(shape)) // shape[0]))
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
    return v


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


MEAN = np.array([0.4914, 0.4822, 0.4465], dtype=np.float32).reshape(1, 3, 1, 1)
STD = np.array([0.2470, 0.2435, 0.2616], dtype=np.float32).reshape(1, 3, 1, 1)


def cifar(data_dir, names):
    """CIFAR-10 binary batches from cifar-10-binary.tar.gz, normalised as the datasets crate does."""
    import tarfile

    with tarfile.open(pathlib.Path(data_dir) / "cifar-10" / "cifar-10-binary.tar.gz") as tar:
        raw = b"".join(tar.extractfile(f"cifar-10-batches-bin/{n}").read() for n in names)
    records = np.frombuffer(raw, np.uint8).reshape(-1, 3073)
    x = (records[:, 1:].reshape(-1, 3, 32, 32).astype(np.float32) / 255.0 - MEAN) / STD
    return torch.from_numpy(x), torch.from_numpy(records[:, 0].astype(np.int64))


TEST_SAMPLES = 2000


def trained_resnet20(data_dir):
    """ResNet-20 trained one epoch on CIFAR-10 in PyTorch (SGD 0.1, momentum 0.9, batch 128):
    `resnet eval --limit-test 2000` must report its accuracy on the first 2,000 test images."""
    torch.manual_seed(0)
    train_x, train_y = cifar(data_dir, [f"data_batch_{k}.bin" for k in range(1, 6)])
    test_x, test_y = cifar(data_dir, ["test_batch.bin"])
    test_x, test_y = test_x[:TEST_SAMPLES], test_y[:TEST_SAMPLES]
    model = CifarResNet(20)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    train_one_epoch(model, opt, train_x, train_y, 128)
    accuracy = accuracy_percent(eval_logits(model, test_x), test_y)
    from safetensors.torch import save_file

    state = {k: v.contiguous() for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    meta = {"test_accuracy": f"{accuracy:.4f}", "test_samples": str(TEST_SAMPLES)}
    save_file(state, str(OUT / "resnet20_cifar_trained.safetensors"), metadata=meta)
    print(f"resnet20 trained 1 epoch in torch: accuracy {accuracy:.2f}% on the first {TEST_SAMPLES} test images")


def main():
    import os

    torch.set_num_threads(2)
    OUT.mkdir(parents=True, exist_ok=True)
    write("resnet18", torchvision.models.resnet18(), (2, 3, 64, 64))
    write("resnet50", torchvision.models.resnet50(), (1, 3, 64, 64))
    write("resnet20", CifarResNet(20), (2, 3, 32, 32))
    if os.environ.get("ZOO_DATA_DIR"):
        trained_resnet20(os.environ["ZOO_DATA_DIR"])
    else:
        print("ZOO_DATA_DIR unset: skipping the CIFAR-trained ResNet-20 fixture")


if __name__ == "__main__":
    main()
