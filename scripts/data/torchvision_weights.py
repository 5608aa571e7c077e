#!/usr/bin/env python3
"""Writes the torchvision part of burn-zoo's weights registry from torchvision's own metadata:

- `crates/trainer/pretrained/torchvision.json`: ResNet-18/34/50/101/152 `IMAGENET1K_V1` (URL,
  the sha256 prefix in the file name, size, preprocessing, reported accuracy);
- `crates/trainer/pretrained/imagenet_classes.txt`: the 1000 ImageNet-1k class names in index
  order (torchvision's `meta["categories"]`).

Usage: python scripts/data/torchvision_weights.py  (needs torchvision; no download)
"""
import json
import pathlib

import torchvision
from torchvision import models

OUT = pathlib.Path(__file__).resolve().parents[2] / "crates" / "trainer" / "pretrained"


def main():
    entries = []
    categories = None
    for depth in [18, 34, 50, 101, 152]:
        weights = getattr(models, f"ResNet{depth}_Weights").IMAGENET1K_V1
        meta = weights.meta
        transforms = weights.transforms()
        categories = meta["categories"]
        file = weights.url.rsplit("/", 1)[1]
        metrics = meta["_metrics"]["ImageNet-1K"]
        entries.append({
            "name": f"resnet{depth}",
            "model": "resnet",
            "config": {"arch": f"resnet{depth}", "cifar_stem": False, "shortcut": "b",
                       "zero_init_residual": False},
            "file": file,
            "url": weights.url,
            "sha256_prefix": file.rsplit("-", 1)[1].split(".")[0],
            "size_mb": meta["_file_size"],
            "parameters": meta["num_params"],
            "dataset": "ImageNet-1k",
            "classes": "imagenet",
            "input": [3, transforms.crop_size[0], transforms.crop_size[0]],
            "resize": transforms.resize_size[0],
            "mean": transforms.mean,
            "std": transforms.std,
            "reported": f"top-1 {metrics['acc@1']}%, top-5 {metrics['acc@5']}% on ImageNet-1k "
                        f"validation (torchvision {torchvision.__version__.split('+')[0]} "
                        f"IMAGENET1K_V1)",
            "licence": "BSD-3-Clause (torchvision); trained on ImageNet-1k, whose terms of "
                       "access limit use to non-commercial research and education",
            "source": meta["recipe"],
        })
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "torchvision.json").write_text(json.dumps(entries, indent=2) + "\n")
    (OUT / "imagenet_classes.txt").write_text("\n".join(categories) + "\n")
    print(f"wrote {len(entries)} entries and {len(categories)} class names to {OUT}")


if __name__ == "__main__":
    main()
