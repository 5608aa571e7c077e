#!/usr/bin/env python3
"""The PyTorch side of scripts/bench/repro/transformer_ops.rs: the same ops at BERT-Mini's
training shapes, on as many threads as the machine has cores.

    python scripts/bench/repro/transformer_ops.py
"""
import os

import torch
from torch import nn
from timing import seconds


def main():
    torch.set_num_threads(os.cpu_count())
    probs = torch.randn(32, 4, 128, 128)
    hidden = torch.randn(32, 128, 256)
    wide = torch.randn(32, 128, 1024)
    drop = nn.Dropout(0.1).train()
    print(f"transformer ops at BERT-Mini's training shapes (PyTorch {torch.__version__}, {torch.get_num_threads()} threads):")
    print(f"  dropout [32,4,128,128] (attention probs)  {seconds(10, lambda: drop(probs)) * 1e3:8.2f} ms")
    print(f"  dropout [32,128,256] (hidden)             {seconds(10, lambda: drop(hidden)) * 1e3:8.2f} ms")
    print(f"  gelu (erf) [32,128,1024]                  {seconds(10, lambda: nn.functional.gelu(wide)) * 1e3:8.2f} ms")
    print(f"  softmax [32,4,128,128]                    {seconds(10, lambda: probs.softmax(-1)) * 1e3:8.2f} ms")
    x, w = torch.randn(4096, 256), torch.randn(256, 1024)
    t = seconds(10, lambda: x @ w)
    print(f"  matmul [4096,256]x[256,1024]              {t * 1e3:8.2f} ms {2 * 4096 * 256 * 1024 / t / 1e9:6.1f} GFLOP/s")
    q = torch.randn(32, 4, 128, 64)
    t = seconds(10, lambda: q @ q.transpose(2, 3))
    print(f"  batched q k^T [32,4,128,64]               {t * 1e3:8.2f} ms {2 * 32 * 4 * 128 * 128 * 64 / t / 1e9:6.1f} GFLOP/s")


if __name__ == "__main__":
    with torch.no_grad():
        main()
