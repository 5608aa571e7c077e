"""What the parity scripts that train a reference model share: one epoch of minibatch training
in a seeded random order, and test accuracy in eval mode."""
import torch
from torch.nn import functional as F


def train_one_epoch(model, opt, x, y, batch_size):
    """One pass over (x, y) in `torch.randperm` order, cross-entropy loss, train mode."""
    model.train()
    perm = torch.randperm(len(x))
    for start in range(0, len(perm), batch_size):
        batch = perm[start : start + batch_size]
        opt.zero_grad()
        F.cross_entropy(model(x[batch]), y[batch]).backward()
        opt.step()


def eval_logits(model, x):
    """Eval-mode logits of x, without gradients."""
    model.eval()
    with torch.no_grad():
        return model(x)


def accuracy_percent(logits, y):
    return (logits.argmax(1) == y).float().mean().item() * 100
