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
from generative import DcganDiscriminator, DcganGenerator, Vae  # noqa: E402
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


def cora():
    """Cora from the committed LINQS archive and Planetoid split, as burn-zoo loads it:
    row-normalised features, undirected edges, the 140 training nodes."""
    import tarfile
    root = pathlib.Path(__file__).resolve().parents[2] / "datasets" / "graphs" / "cora"
    with tarfile.open(root / "cora.tgz") as tar:
        content = tar.extractfile("cora/cora.content").read().decode().splitlines()
        cites = tar.extractfile("cora/cora.cites").read().decode().splitlines()
    rows = [line.split() for line in content]
    index = {r[0]: i for i, r in enumerate(rows)}
    classes = sorted({r[-1] for r in rows})
    x = torch.tensor([[float(v) for v in r[1:-1]] for r in rows])
    x = x / x.sum(1, keepdim=True).clamp(min=1)
    y = torch.tensor([classes.index(r[-1]) for r in rows])
    pairs = {tuple(sorted((index[a], index[b]))) for a, b in (c.split() for c in cites) if a != b}
    edges = torch.tensor(sorted(pairs)).t()
    edge_index = torch.cat([edges, edges.flip(0)], 1)
    split = [line.split() for line in (root / "planetoid_split.txt").read_text().splitlines()]
    train = torch.tensor(sorted(index[p] for p, role in split if role == "train"))
    return x, y, edge_index, train


def gnn_main(name, repeats, threads):
    """Full-batch GCN / GraphSAGE / GAT on Cora with PyTorch Geometric, as `gnn train` steps."""
    import torch_geometric
    from torch_geometric.nn import GATConv, GCNConv, SAGEConv
    x, y, edge_index, train = cora()
    f, c = x.shape[1], int(y.max()) + 1
    if name == "gcn":
        conv1, conv2, lr, dropout = GCNConv(f, 16, cached=True), GCNConv(16, c, cached=True), 0.01, 0.5
    elif name == "sage":
        conv1, conv2, lr, dropout = SAGEConv(f, 64), SAGEConv(64, c), 0.01, 0.5
    else:
        conv1 = GATConv(f, 8, heads=8, dropout=0.6)
        conv2 = GATConv(64, c, heads=1, concat=False, dropout=0.6)
        lr, dropout = 0.005, 0.6
    model = nn.ModuleDict({"conv1": conv1, "conv2": conv2})
    act = nn.functional.elu if name == "gat" else nn.functional.relu

    def forward():
        h = nn.functional.dropout(x, dropout, model.training)
        h = act(model["conv1"](h, edge_index))
        h = nn.functional.dropout(h, dropout, model.training)
        return model["conv2"](h, edge_index)

    decayed = [p for n, p in model.named_parameters() if "bias" not in n and (name != "gcn" or n.startswith("conv1"))]
    opt = torch.optim.Adam(model.parameters(), lr=lr)

    def step():
        opt.zero_grad()
        loss = nn.functional.cross_entropy(forward()[train], y[train])
        loss = loss + 5e-4 / 2 * sum(p.pow(2).sum() for p in decayed)
        loss.backward()
        opt.step()
        return loss.item()

    def infer():
        with torch.no_grad():
            return forward()

    report(name, repeats, threads, step, infer, model, x.shape[0], f"torch_geometric {torch_geometric.__version__}")


class CharLm(nn.Module):
    """burn-zoo's char-LM at its recipe's size: embedding 128, 2 × 512, linear to 80 characters."""

    def __init__(self, cell):
        super().__init__()
        self.embedding = nn.Embedding(80, 128)
        self.rnn = (nn.LSTM if cell == "lstm" else nn.GRU)(128, 512, 2)
        self.fc = nn.Linear(512, 80)

    def forward(self, x):
        out, _ = self.rnn(self.embedding(x))
        return self.fc(out).reshape(-1, 80)


def recurrent_main(name, repeats, threads):
    """Windows of 128 characters at batch 64 from a zero state; Adam 2e-3, clipping 5 (per tensor, as Burn)."""
    model = CharLm(name)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    x = torch.randint(0, 80, (128, 64))
    y = torch.randint(0, 80, (128 * 64,))

    def step():
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        for p in model.parameters():
            torch.nn.utils.clip_grad_norm_([p], 5.0)
        opt.step()
        return loss.item()

    def infer():
        with torch.no_grad():
            return model(x)

    report(name, repeats, threads, step, infer, model, 64)


def generative_main(name, repeats, threads):
    """`vae train`'s step (dense 784-512-256-20, batch 128, Adam 1e-3: -ELBO with one z sample)
    or `gan train`'s (DCGAN width 32, z of 100, batch 128: one D step on real and fake, then one
    G step; Adam 2e-4, beta1 0.5). Inference: the VAE's reconstruction of the posterior mean, the
    generator's 128 samples."""
    x = torch.rand(128, 1, 28, 28)
    if name == "vae":
        model = Vae("dense", [512, 256], 32, 20)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)

        def step():
            opt.zero_grad()
            mu, log_var = model.posterior(x)
            z = mu + (0.5 * log_var).exp() * torch.randn_like(mu)
            logits = model.decoder(z)
            rec = nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
            kl = 0.5 * (log_var.exp() + mu.pow(2) - log_var - 1).sum(1)
            loss = (rec + kl).mean()
            loss.backward()
            opt.step()
            return loss.item()

        def infer():
            with torch.no_grad():
                return model.decoder(model.posterior(x)[0])

        return report(name, repeats, threads, step, infer, model, 128)
    generator, discriminator = DcganGenerator(100, 32), DcganDiscriminator(32)
    model = nn.ModuleDict({"generator": generator, "discriminator": discriminator})
    opt_g = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real = x * 2 - 1
    softplus = nn.functional.softplus

    def step():
        fake = generator(torch.randn(128, 100))
        opt_d.zero_grad()
        d_loss = softplus(-discriminator(real)).mean() + softplus(discriminator(fake.detach())).mean()
        d_loss.backward()
        opt_d.step()
        opt_g.zero_grad()
        g_loss = softplus(-discriminator(fake)).mean()
        g_loss.backward()
        opt_g.step()
        return g_loss.item()

    noise = torch.randn(128, 100)

    def infer():
        with torch.no_grad():
            return generator(noise)

    report(name, repeats, threads, step, infer, model, 128)


def bert_main(repeats, threads):
    """`bert-mini pretrain`'s step with Hugging Face's BertForMaskedLM: BERT-Mini (4 layers,
    hidden 256, 4 heads, vocab 8000) on 32 x 128 tokens, the MLM head applied to the 15% masked
    positions only (as burn-zoo does), AdamW (eps 1e-6, decay 0.01) at 5e-4 with the gradient
    norm clipped to 1; dropout on. Inference: the same forward under no_grad."""
    from transformers import BertConfig, BertForMaskedLM

    batch, seq, vocab = 32, 128, 8000
    config = BertConfig(vocab_size=vocab, hidden_size=256, num_hidden_layers=4, num_attention_heads=4,
                        intermediate_size=1024)  # default attention: sdpa
    model = BertForMaskedLM(config)
    opt = torch.optim.AdamW(model.parameters(), lr=5e-4, eps=1e-6, weight_decay=0.01)
    ids = torch.randint(5, vocab, (batch, seq))
    mask = torch.ones(batch, seq, dtype=torch.long)
    positions = torch.tensor([r * seq + 1 + k * 6 for r in range(batch) for k in range(19)])
    targets = positions % (vocab - 5) + 5

    def forward():
        hidden = model.bert(input_ids=ids, attention_mask=mask).last_hidden_state
        return model.cls(hidden.reshape(batch * seq, -1)[positions])

    def step():
        opt.zero_grad()
        loss = nn.functional.cross_entropy(forward(), targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss.item()

    def infer():
        with torch.no_grad():
            return forward()

    report("bert", repeats, threads, step, infer, model, batch)


def main():
    name, repeats, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    if name in ("gcn", "sage", "gat"):
        return gnn_main(name, repeats, threads)
    if name in ("lstm", "gru"):
        return recurrent_main(name, repeats, threads)
    if name in ("vae", "dcgan"):
        return generative_main(name, repeats, threads)
    if name == "bert":
        return bert_main(repeats, threads)
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

    report(name, repeats, threads, step, infer, model, batch)


def report(name, repeats, threads, step, infer, model, batch, extra=None):
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
            **({"extra": extra} if extra else {}),
        }))


if __name__ == "__main__":
    main()
