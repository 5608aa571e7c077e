#!/usr/bin/env python3
"""The PyTorch side of scripts/bench/repro/conv_ops.rs: the same convolution layers, forward and
forward + backward, at the same shapes, on as many threads as the machine has cores.

    python scripts/bench/repro/conv_ops.py
"""
import os

import torch
from torch import nn
from timing import seconds

LAYERS = [
    ("seed CNN conv1 3->32 k3     ", 64, 3, 32, 32, 3, 1, 0, False),
    ("seed CNN conv2 32->64 k3    ", 64, 32, 15, 64, 3, 1, 0, False),
    ("LeNet conv2 32->64 k5       ", 64, 32, 14, 64, 5, 1, 0, False),
    ("ResNet-20 16->16 k3 p1      ", 128, 16, 32, 16, 3, 1, 1, False),
    ("ResNet-20 32->32 k3 p1      ", 128, 32, 16, 32, 3, 1, 1, False),
    ("ResNet-20 64->64 k3 p1      ", 128, 64, 8, 64, 3, 1, 1, False),
    ("DCGAN D conv2 32->64 k4 s2  ", 128, 32, 14, 64, 4, 2, 1, False),
    ("DCGAN G deconv1 64->32 k4 s2", 128, 64, 7, 32, 4, 2, 1, True),
]


def main():
    torch.set_num_threads(os.cpu_count())
    print(f"conv layers (PyTorch {torch.__version__}, {torch.get_num_threads()} threads): forward | forward + backward")
    for what, batch, c_in, side, c_out, k, stride, pad, transposed in LAYERS:
        layer = (nn.ConvTranspose2d if transposed else nn.Conv2d)(c_in, c_out, k, stride, pad)
        x = torch.rand(batch, c_in, side, side)
        with torch.no_grad():
            fwd = seconds(10, lambda: layer(x))
        xa = x.clone().requires_grad_()
        both = seconds(5, lambda: layer(xa).sum().backward())
        if transposed:
            macs = batch * c_in * side * side * c_out * k * k
        else:
            out = (side + 2 * pad - k) // stride + 1
            macs = batch * c_out * out * out * c_in * k * k
        flops = 2.0 * macs
        print(f"  {what}: {fwd * 1e3:8.2f} ms {flops / fwd / 1e9:6.1f} GFLOP/s | "
              f"{both * 1e3:8.2f} ms {3 * flops / both / 1e9:6.1f} GFLOP/s")


if __name__ == "__main__":
    main()
