#!/usr/bin/env python3
"""torchvision ResNet-18 as a real `torch.save` checkpoint, and `predict`'s ImageNet pipeline.

`resnet predict --weights pretrained:resnet18` reads torchvision's `resnet18-f37072fd.pth` (45 MB,
not downloadable here). This script writes a file with the same layout — every key, shape and
dtype of `torchvision.models.resnet18().state_dict()`, saved by `torch.save` — but small: each
tensor is a strided view (`as_strided`) over a short seeded storage, which `torch.save` keeps
as it is, so the file is ~0.5 MB. It also writes two 256×256 photos-like PNGs and what
torchvision's own preprocessing (`ResNet18_Weights.IMAGENET1K_V1.transforms()`: resize 256,
centre crop 224, ImageNet mean/std) and softmax give: the top-5 indices, names and
probabilities. `models/resnet/tests/imagenet.rs` runs `predict --json` on the same files.

Usage: python scripts/parity/imagenet_predict.py  (needs torch, torchvision, numpy, pillow)
"""
import json
import pathlib

import numpy as np
import torch
import torchvision
from PIL import Image
from resnet import kind_of, scaled, splitmix_uniform
from torch import nn

OUT = pathlib.Path(__file__).resolve().parents[2] / "models" / "resnet" / "tests" / "fixtures"
STRIDES = [1, 3, 7, 11]


def strided(kind, shape, seed, scale=1.0):
    """A view of `shape` over a short storage, values scaled as resnet.py's `fill` does (times
    `scale`)."""
    if len(shape) == 1:
        strides = [1]
    else:
        strides = STRIDES[: len(shape)][::-1]
    length = 1 + sum((d - 1) * s for d, s in zip(shape, strides))
    v = scaled(kind, shape, splitmix_uniform(length, seed))
    storage = torch.from_numpy((v * scale).astype(np.float32))
    return storage.as_strided(tuple(shape), tuple(strides))


def photo(seed, size=256):
    """A smooth, photo-like RGB image: sinusoids of a few seeded frequencies plus fine noise."""
    r = splitmix_uniform(16 + size * size * 3, seed)
    y, x = np.mgrid[0:size, 0:size] / size
    channels = []
    for c in range(3):
        f = r[4 * c: 4 * c + 4]
        wave = np.sin(2 * np.pi * (1 + 4 * f[0]) * x + 6 * f[1]) * np.cos(2 * np.pi * (1 + 4 * f[2]) * y + 6 * f[3])
        channels.append(wave)
    noise = r[16:].reshape(size, size, 3) - 0.5
    image = 127.5 + 90 * np.stack(channels, axis=-1) + 40 * noise
    return Image.fromarray(np.clip(image, 0, 255).astype(np.uint8), "RGB")


def main():
    torch.manual_seed(0)
    model = torchvision.models.resnet18()
    for k, (key, tensor) in enumerate(list(model.state_dict().items())):
        if key.endswith("num_batches_tracked"):
            continue
        module_name, leaf = key.rsplit(".", 1)
        module = model.get_submodule(module_name)
        # fc's weights ×8 spread the logits, so the probabilities are not all ~1/1000.
        scale = 8.0 if key == "fc.weight" else 1.0
        view = strided(kind_of(key, tensor, model), list(tensor.shape), 2000 + k, scale)
        if leaf in module._parameters:
            module._parameters[leaf] = nn.Parameter(view, requires_grad=False)
        else:
            module._buffers[leaf] = view
    model.eval()
    OUT.mkdir(parents=True, exist_ok=True)
    pth = OUT / "resnet18_torchvision_layout.pth"
    torch.save(model.state_dict(), pth)

    weights = torchvision.models.ResNet18_Weights.IMAGENET1K_V1
    preprocess = weights.transforms()
    categories = weights.meta["categories"]
    expected = []
    for i, seed in enumerate([11, 12]):
        path = OUT / f"photo{i}.png"
        photo(seed).save(path)
        x = preprocess(Image.open(path).convert("RGB")).unsqueeze(0)
        with torch.no_grad():
            probs = torch.softmax(model(x), 1)[0]
        top = torch.topk(probs, 5)
        expected.append({
            "image": path.name,
            "top": [{"index": int(c), "class": categories[int(c)], "probability": float(p)}
                    for p, c in zip(top.values, top.indices)],
        })
    fixture = {"torch_version": torch.__version__, "torchvision_version": torchvision.__version__,
               "weights": pth.name, "predictions": expected}
    (OUT / "resnet18_predict.json").write_text(json.dumps(fixture, indent=1) + "\n")
    print(f"{pth.name}: {pth.stat().st_size} bytes; top-1 {[e['top'][0] for e in expected]}")


if __name__ == "__main__":
    main()
