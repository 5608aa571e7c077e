#!/usr/bin/env python3
"""PyTorch Geometric references for burn-zoo's `gnn`: GCNConv, SAGEConv and GATConv layers, and
the two-layer GCN / GraphSAGE / GAT models, with PyG's parameter names.

A seeded random undirected graph (12 nodes, one isolated) with 5 random features; random
weights (biases and attention vectors too, so every term is exercised); eval-mode outputs.
Writes models/gnn/tests/fixtures/:
  gnn_graph.safetensors   x [12, 5], edges [E, 2] (undirected, u < v)
  gnn_layers.safetensors      gcn.*, sage.*, gat.* (2 heads, concat), gat_mean.* (2 heads, mean)
  gnn_layers_out.safetensors  each layer's output, by the layer's name
  gnn_<arch>.safetensors      conv1.*, conv2.* of the model
  gnn_<arch>_out.safetensors  logits, embedding (the hidden layer after its activation)

Usage: python scripts/parity/gnn.py  (needs torch, torch_geometric, safetensors)
"""
import pathlib

import torch
import torch.nn.functional as F
import torch_geometric
from safetensors.torch import save_file
from torch_geometric.nn import GATConv, GCNConv, SAGEConv
from torch_geometric.utils import to_undirected

OUT = pathlib.Path(__file__).resolve().parents[2] / "models" / "gnn" / "tests" / "fixtures"
NODES, FEATURES, CLASSES = 12, 5, 3


def randomize(module, generator):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=generator) * 0.5)


def graph(generator):
    # Nodes 0..10 get random edges; node 11 stays isolated.
    pairs = set()
    while len(pairs) < 20:
        u, v = torch.randint(0, NODES - 1, (2,), generator=generator).tolist()
        if u != v:
            pairs.add((min(u, v), max(u, v)))
    edges = torch.tensor(sorted(pairs), dtype=torch.int64)
    x = torch.randn(NODES, FEATURES, generator=generator)
    return x, edges


class Model(torch.nn.Module):
    """The layout of models/gnn/src/model.rs (eval mode: no dropout)."""

    def __init__(self, arch):
        super().__init__()
        self.arch = arch
        if arch == "gcn":
            self.conv1, self.conv2 = GCNConv(FEATURES, 16), GCNConv(16, CLASSES)
        elif arch == "sage":
            self.conv1, self.conv2 = SAGEConv(FEATURES, 64), SAGEConv(64, CLASSES)
        else:
            self.conv1 = GATConv(FEATURES, 8, heads=8)
            self.conv2 = GATConv(64, CLASSES, heads=1, concat=False)

    def embed(self, x, edge_index):
        h = self.conv1(x, edge_index)
        return F.elu(h) if self.arch == "gat" else F.relu(h)

    def forward(self, x, edge_index):
        return self.conv2(self.embed(x, edge_index), edge_index)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    g = torch.Generator().manual_seed(2018)
    x, edges = graph(g)
    edge_index = to_undirected(edges.t().contiguous(), num_nodes=NODES)
    save_file({"x": x, "edges": edges}, OUT / "gnn_graph.safetensors")

    layers = {
        "gcn": GCNConv(FEATURES, 4),
        "sage": SAGEConv(FEATURES, 4),
        "gat": GATConv(FEATURES, 3, heads=2),
        "gat_mean": GATConv(FEATURES, 3, heads=2, concat=False),
    }
    tensors, outputs = {}, {}
    for name, layer in layers.items():
        randomize(layer, g)
        layer.eval()
        for p_name, p in layer.state_dict().items():
            tensors[f"{name}.{p_name}"] = p.contiguous()
        with torch.no_grad():
            outputs[name] = layer(x, edge_index)
    save_file(tensors, OUT / "gnn_layers.safetensors")
    save_file(outputs, OUT / "gnn_layers_out.safetensors")

    for arch in ["gcn", "sage", "gat"]:
        model = Model(arch)
        randomize(model, g)
        model.eval()
        tensors = {k: v.contiguous() for k, v in model.state_dict().items()}
        with torch.no_grad():
            outputs = {"logits": model(x, edge_index), "embedding": model.embed(x, edge_index)}
        save_file(tensors, OUT / f"gnn_{arch}.safetensors")
        save_file(outputs, OUT / f"gnn_{arch}_out.safetensors")
    print(f"torch {torch.__version__}, torch_geometric {torch_geometric.__version__}: wrote {OUT}")


if __name__ == "__main__":
    main()
