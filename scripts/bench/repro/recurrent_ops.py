#!/usr/bin/env python3
"""The PyTorch side of recurrent_ops.rs: the same matmuls and activations (2 threads)."""

import torch
from timing import seconds

torch.set_num_threads(2)

print(f"1. matmul (torch {torch.__version__}, 2 threads)")
for m, k, n, what in [(64, 512, 2048, "step forward  [64,512]x[512,2048]"),
                      (512, 64, 2048, "weight grad   [512,64]x[64,2048] "),
                      (8192, 512, 2048, "all steps     [8192,512]x[512,2048]"),
                      (2048, 512, 64, "transposed    [2048,512]x[512,64] "),
                      (64, 2048, 512, "step backward [64,2048]x[2048,512]")]:
    a, b = torch.randn(m, k), torch.randn(k, n)
    s = seconds(20, lambda: a @ b)
    print(f"   {what}: {s * 1e3:7.3f} ms  {2 * m * k * n / s / 1e9:6.1f} GFLOP/s")
d, w = torch.randn(64, 2048), torch.randn(512, 2048)
s = seconds(20, lambda: d @ w.t())
print(f"   step backward [64,2048]x[512,2048]^T: {s * 1e3:7.3f} ms  {2 * 64 * 2048 * 512 / s / 1e9:6.1f} GFLOP/s")
print("3. elementwise on [64, 2048]")
x = torch.randn(64, 2048)
for name, f in [("mul    ", lambda: x * x), ("exp    ", lambda: x.exp()),
                ("sigmoid", lambda: torch.sigmoid(x)), ("tanh   ", lambda: x.tanh())]:
    print(f"   {name}: {seconds(200, f) * 1e6:7.1f} µs")
