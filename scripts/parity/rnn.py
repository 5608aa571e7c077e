#!/usr/bin/env python3
"""PyTorch references for burn-zoo's `lstm` and `gru` (torch.nn.LSTM / torch.nn.GRU).

For each cell, with random weights under PyTorch's names (`embedding.weight`,
`rnn.weight_ih_l0`, `rnn.bias_hh_l1_reverse`, `fc.weight`, ...):

  <cell>_classify.safetensors      2 layers, bidirectional, embedding 5, hidden 6, 3 classes
  <cell>_classify_io.safetensors   tokens [3, 7] (batch-first, 0 = padding), lengths [3] = 7, 4, 1;
                                   outputs [7, 3, 12] (time-major, zeros at padding), h_n [4, 3, 6],
                                   c_n (LSTM), logits [3, 3] = fc(cat(h_n[-2], h_n[-1]))
                                   (packed sequences: each text's own last step)
  <cell>_lm.safetensors            2 layers, one direction, vocabulary 11, hidden 6
  <cell>_lm_io.safetensors         tokens [5, 2] (time-major), h0 [2, 2, 6] (and c0), logits [10, 11]
                                   (time-major, flattened), h_n (and c_n)
  <cell>_seqtoy/                   a model trained here on burn-zoo's seq-toy data (regenerated
                                   bit for bit from its SplitMix64 stream): model.safetensors,
                                   config.json (burn-zoo's run config), expected.json (torch's test
                                   loss and accuracy on the 2,000 test sequences)

Usage: python scripts/parity/rnn.py  (needs torch, safetensors, numpy)
"""
import json
import math
import pathlib

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

ROOT = pathlib.Path(__file__).resolve().parents[2]
CELLS = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}


class Net(torch.nn.Module):
    def __init__(self, cell, inputs, hidden, layers, bidirectional, outputs, vocab=None):
        super().__init__()
        self.embedding = torch.nn.Embedding(vocab, inputs) if vocab else None
        self.rnn = CELLS[cell](inputs, hidden, layers, bidirectional=bidirectional)
        self.fc = torch.nn.Linear(hidden * (2 if bidirectional else 1), outputs)
        self.bidirectional = bidirectional

    def embed(self, x):
        return self.embedding(x) if self.embedding is not None else x

    def classify(self, x, lengths):
        """x: [time, batch] ids or [time, batch, features]; lengths: [batch]."""
        packed = pack_padded_sequence(self.embed(x), lengths, enforce_sorted=False)
        out, state = self.rnn(packed)
        out, _ = pad_packed_sequence(out, total_length=x.shape[0])
        h_n = state[0] if isinstance(state, tuple) else state
        last = torch.cat([h_n[-2], h_n[-1]], 1) if self.bidirectional else h_n[-1]
        return self.fc(last), out, state

    def lm(self, x, state):
        out, state = self.rnn(self.embed(x), state)
        return self.fc(out).reshape(-1, self.fc.out_features), state


def randomize(module, generator):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=generator) * 0.5)


def state_tensors(state):
    if isinstance(state, tuple):
        return {"h_n": state[0], "c_n": state[1]}
    return {"h_n": state}


def contiguous(tensors):
    return {k: v.detach().contiguous() for k, v in tensors.items()}


# burn-zoo's seq-toy data: datasets::rng::SplitMix64 and SeqToy::generate, replayed exactly.
M64 = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & M64

    def next_u64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & M64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return z ^ (z >> 31)

    def unit(self):
        return (self.next_u64() >> 11) / float(1 << 53)

    def normal(self):
        u1 = 1.0 - self.unit()
        u2 = self.unit()
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def seq_toy(n, seed, steps=10, features=3, margin=np.float32(0.5)):
    rng = SplitMix64(seed)
    xs, labels = [], []
    while len(labels) < n:
        seq = np.array([rng.normal() for _ in range(steps * features)], dtype=np.float64).astype(np.float32)
        f0 = seq[0::features]
        later, earlier = np.float32(0.0), np.float32(0.0)
        for t in range(steps // 2, steps):
            later = np.float32(later + f0[t])
        for t in range(steps // 2):
            earlier = np.float32(earlier + f0[t])
        difference = np.float32(later - earlier)
        if abs(difference) < margin:
            continue
        labels.append(int(difference > 0))
        xs.append(seq.reshape(steps, features))
    return torch.tensor(np.stack(xs)), torch.tensor(labels)


def run_config(cell, hidden):
    """burn-zoo's config.json for a seq-toy model (what `train` would have written)."""
    return {
        "model": cell,
        "task": "seq-toy",
        "model_config": {
            "cell": cell,
            "input": {"features": {"features": 3}},
            "hidden": hidden,
            "layers": 1,
            "bidirectional": False,
            "dropout": 0.0,
            "outputs": 2,
        },
        "data": {
            "data_dir": None, "text": None, "valid_fraction": 0.1, "seq_len": None,
            "epoch_steps": None, "dataset": None, "csv": None, "test_csv": None,
            "csv_layout": "label-text", "tokenization": None, "vocab_size": None, "max_len": None,
        },
        "vocabulary": "none",
        "class_names": ["0", "1"],
        "settings": {
            "epochs": 10, "batch_size": 64, "lr": 0.01, "weight_decay": 0.0, "clip": 5.0,
            "seed": 0, "early_stop": None, "checkpoint_every": 1, "seq_len": 10,
            "epoch_steps": None, "tokenization": "words", "vocab_size": 0, "max_len": 0,
        },
    }


def train_seq_toy(cell, out):
    torch.manual_seed(0)
    hidden = 16
    net = Net(cell, 3, hidden, 1, False, 2)
    x, y = seq_toy(10_000, 1)
    x_test, y_test = seq_toy(2_000, 3)
    opt = torch.optim.Adam(net.parameters(), 1e-2)
    for _ in range(10):
        order = torch.randperm(len(y))
        for i in range(0, len(y), 64):
            idx = order[i:i + 64]
            logits, _, _ = net.classify(x[idx].transpose(0, 1), torch.full((len(idx),), 10))
            loss = F.cross_entropy(logits, y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    net.eval()
    with torch.no_grad():
        logits, _, _ = net.classify(x_test.transpose(0, 1), torch.full((len(y_test),), 10))
        loss = F.cross_entropy(logits, y_test).item()
        accuracy = 100.0 * (logits.argmax(1) == y_test).float().mean().item()
    out.mkdir(parents=True, exist_ok=True)
    save_file(contiguous(dict(net.state_dict())), out / "model.safetensors")
    (out / "config.json").write_text(json.dumps(run_config(cell, hidden), indent=2))
    (out / "expected.json").write_text(json.dumps({"loss": loss, "accuracy": accuracy}, indent=2))
    print(f"{cell} seq-toy trained in torch: test loss {loss:.4f}, accuracy {accuracy:.2f}%")


def main():
    for cell in CELLS:
        out = ROOT / "models" / cell / "tests" / "fixtures"
        out.mkdir(parents=True, exist_ok=True)
        generator = torch.Generator().manual_seed(7)

        net = Net(cell, 5, 6, 2, True, 3, vocab=11).eval()
        randomize(net, generator)
        lengths = torch.tensor([7, 4, 1])
        tokens = torch.randint(1, 11, (3, 7), generator=generator)
        for b, n in enumerate(lengths.tolist()):
            tokens[b, n:] = 0
        with torch.no_grad():
            logits, outputs, state = net.classify(tokens.t(), lengths)
        save_file(contiguous(dict(net.state_dict())), out / f"{cell}_classify.safetensors")
        save_file(
            contiguous({"tokens": tokens, "lengths": lengths, "outputs": outputs, "logits": logits,
                        **state_tensors(state)}),
            out / f"{cell}_classify_io.safetensors",
        )

        net = Net(cell, 4, 6, 2, False, 11, vocab=11).eval()
        randomize(net, generator)
        tokens = torch.randint(0, 11, (5, 2), generator=generator)
        h0 = torch.randn(2, 2, 6, generator=generator)
        initial = (h0, torch.randn(2, 2, 6, generator=generator)) if cell == "lstm" else h0
        with torch.no_grad():
            logits, state = net.lm(tokens, initial)
        save_file(contiguous(dict(net.state_dict())), out / f"{cell}_lm.safetensors")
        io = {"tokens": tokens, "logits": logits, **state_tensors(state), "h0": h0}
        if cell == "lstm":
            io["c0"] = initial[1]
        save_file(contiguous(io), out / f"{cell}_lm_io.safetensors")

        train_seq_toy(cell, out / f"{cell}_seqtoy")
    print(f"torch {torch.__version__}; fixtures written under models/*/tests/fixtures/")


if __name__ == "__main__":
    main()
