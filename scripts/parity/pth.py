#!/usr/bin/env python3
"""PyTorch checkpoint fixtures: the files `torch.save(model.state_dict())` writes, which
`--weights` and `--init` read.

- `models/mlp/tests/fixtures/mlp_torch.pth`: the MLP of `mlp.py` (its committed safetensors
  weights, loaded into the same torch module) saved with `torch.save(model.state_dict())`, so
  the Rust test can check that both files give the same logits.

Usage: python scripts/parity/pth.py  (needs torch and safetensors; run mlp.py first)
"""
import pathlib

import torch
from mlp import Mlp, OUT as MLP_OUT
from safetensors.torch import load_file


def main():
    model = Mlp()
    model.load_state_dict(load_file(str(MLP_OUT / "mlp_torch.safetensors")))
    path = MLP_OUT / "mlp_torch.pth"
    torch.save(model.state_dict(), path)
    print(f"torch {torch.__version__}: wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
