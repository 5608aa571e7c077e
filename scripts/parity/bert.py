#!/usr/bin/env python3
"""Hugging Face references for `bert-mini`.

Builds `transformers.BertForPreTraining`, `BertForMaskedLM` and
`BertForSequenceClassification` with a small config (vocab 99, hidden 32, 2 layers, 4 heads,
intermediate 64, 40 positions) and seeded random weights: every tensor, biases and LayerNorm
parameters included, is redrawn so that a mapping mistake cannot hide behind a zero or a one.
Each is saved with `save_pretrained` (config.json + model.safetensors, HF's own names, tied
decoder weights left out as HF leaves them out) under
models/bert-mini/tests/fixtures/<variant>/, with `io.safetensors` beside it holding a padded
batch (input_ids, token_type_ids, attention_mask) and, in eval mode, the last hidden state, the
pooled output, every layer's attention probabilities, and the head's logits.

The pretraining model is also written the way older Hub uploads are (Google's BERT
miniatures among them), under fixtures/pytorch_bin/: `pytorch_model.bin` saved by `torch.save`
in the legacy (pre-1.6, non-zip) format with the tied decoder copies and the `position_ids`
buffer, a `config.json` without `architectures` or `model_type`, and a BERT-ordered
`vocab.txt` ([PAD] 0, [unused*], then [UNK] [CLS] [SEP] [MASK]).

The Rust test (models/bert-mini/tests/parity.rs) loads those files unchanged and compares
within 1e-4.

  python scripts/parity/bert.py                  # write the fixtures
  python scripts/parity/bert.py --check DIR      # open a folder written by `bert-mini export`
                                                 # with transformers and run it (round trip)
"""
import argparse
import json
import pathlib

import torch
from safetensors.torch import save_file
from transformers import (
    BertConfig,
    BertForMaskedLM,
    BertForPreTraining,
    BertForSequenceClassification,
)

OUT = pathlib.Path(__file__).resolve().parents[2] / "models/bert-mini/tests/fixtures"


def config(**extra):
    return BertConfig(
        vocab_size=99,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=40,
        type_vocab_size=2,
        layer_norm_eps=1e-12,
        attn_implementation="eager",
        **extra,
    )


def randomize(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            scale = 0.5 if p.dim() > 1 else 0.2
            p.copy_(torch.randn(p.shape, generator=g) * scale)
            if "LayerNorm.weight" in name:
                p.add_(1.0)


def batch():
    g = torch.Generator().manual_seed(7)
    ids = torch.randint(5, 99, (3, 12), generator=g)
    ids[:, 0] = 2  # [CLS]
    mask = torch.ones(3, 12, dtype=torch.long)
    mask[1, 9:] = 0  # padded rows
    mask[2, 5:] = 0
    ids[mask == 0] = 0
    types = torch.zeros(3, 12, dtype=torch.long)
    types[0, 6:] = 1  # a sentence pair in row 0
    return ids, types, mask


def write(variant, model):
    model.eval()
    ids, types, mask = batch()
    with torch.no_grad():
        out = model(
            input_ids=ids,
            token_type_ids=types,
            attention_mask=mask,
            output_hidden_states=True,
            output_attentions=True,
        )
        base = model.bert(
            input_ids=ids, token_type_ids=types, attention_mask=mask
        )
    tensors = {
        "input_ids": ids.to(torch.int64),
        "token_type_ids": types.to(torch.int64),
        "attention_mask": mask.to(torch.int64),
        "last_hidden_state": base.last_hidden_state,
    }
    if base.pooler_output is not None:
        tensors["pooler_output"] = base.pooler_output
    for i, a in enumerate(out.attentions):
        tensors[f"attentions.{i}"] = a
    for key in ("prediction_logits", "seq_relationship_logits", "logits"):
        if getattr(out, key, None) is not None:
            tensors[key] = out[key]
    folder = OUT / variant
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder, safe_serialization=True)
    save_file({k: v.contiguous() for k, v in tensors.items()}, folder / "io.safetensors")
    print(variant, sorted(k for k in tensors))


def vocab():
    """99 tokens in BERT's order: specials after [unused*] slots, punctuation, words, letters."""
    words = (
        "the a to and of is you me now free money click win prize call meeting tomorrow lunch "
        "project report please send your our for on at this that with be are will not it by"
    ).split()
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    tokens = ["[PAD]", "[unused0]", "[unused1]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tokens += list(".,!?") + words + letters + ["##" + c for c in letters]
    assert len(tokens) == 99, len(tokens)
    return tokens


def write_pytorch_bin(model):
    folder = OUT / "pytorch_bin"
    folder.mkdir(parents=True, exist_ok=True)
    c = model.config
    google_style = {
        "hidden_size": c.hidden_size,
        "hidden_act": "gelu",
        "initializer_range": 0.02,
        "vocab_size": c.vocab_size,
        "hidden_dropout_prob": 0.1,
        "num_attention_heads": c.num_attention_heads,
        "type_vocab_size": c.type_vocab_size,
        "max_position_embeddings": c.max_position_embeddings,
        "num_hidden_layers": c.num_hidden_layers,
        "intermediate_size": c.intermediate_size,
        "attention_probs_dropout_prob": 0.1,
    }
    (folder / "config.json").write_text(json.dumps(google_style, indent=2) + "\n")
    (folder / "vocab.txt").write_text("".join(t + "\n" for t in vocab()))
    state = model.state_dict()
    state["bert.embeddings.position_ids"] = torch.arange(c.max_position_embeddings)[None]
    torch.save(state, folder / "pytorch_model.bin", _use_new_zipfile_serialization=False)
    print("pytorch_bin", len(state), "tensors")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", type=pathlib.Path)
    args = parser.parse_args()
    if args.check:
        check(args.check)
        return
    torch.manual_seed(0)
    pre = BertForPreTraining(config())
    randomize(pre, 1)
    write("pretraining", pre)
    write_pytorch_bin(pre)
    mlm = BertForMaskedLM(config())
    randomize(mlm, 2)
    write("masked_lm", mlm)
    cls = BertForSequenceClassification(config(num_labels=3))
    randomize(cls, 3)
    write("classification", cls)


def check(folder):
    """Opens a folder written by `bert-mini export` with transformers (weights, config and
    tokenizer) and prints what it predicts, to compare with `bert-mini fill-mask` / `predict`."""
    from transformers import AutoTokenizer

    cfg = json.loads((folder / "config.json").read_text())
    kind = {
        "BertForMaskedLM": BertForMaskedLM,
        "BertForPreTraining": BertForPreTraining,
        "BertForSequenceClassification": BertForSequenceClassification,
    }[cfg["architectures"][0]]
    model, info = kind.from_pretrained(folder, output_loading_info=True)
    print("missing:", info["missing_keys"], "unexpected:", info["unexpected_keys"])
    assert not info["missing_keys"] and not info["unexpected_keys"], info
    model.eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    if kind is BertForSequenceClassification:
        for text in ["FREE money click here now", "meeting notes attached for tomorrow"]:
            enc = tokenizer(text, return_tensors="pt")
            with torch.no_grad():
                probs = model(**enc).logits.softmax(-1)[0]
            best = int(probs.argmax())
            print(f"{model.config.id2label[best]}\t{probs[best]:.4f}\t{text}")
        return
    text = "to be or not to [MASK], that is the [MASK]"
    enc = tokenizer(text, return_tensors="pt")
    with torch.no_grad():
        out = model(**enc)
    logits = out.logits if hasattr(out, "logits") else out.prediction_logits
    probs = logits.softmax(-1)[0]
    for k, t in enumerate((enc["input_ids"][0] == tokenizer.mask_token_id).nonzero()[:, 0]):
        top = probs[t].topk(5)
        pairs = [(tokenizer.convert_ids_to_tokens(int(i)), round(float(p), 4)) for p, i in zip(top.values, top.indices)]
        print(f"[MASK] {k + 1}:", pairs)


if __name__ == "__main__":
    main()
