"""Knowledge-distillation loss fixtures: PyTorch's formulation of Hinton et al. (2015).

    loss = α·T²·kl_div(log_softmax(s/T), softmax(t/T), reduction="batchmean")
         + (1 − α)·cross_entropy(s, y)

For seeded student/teacher logits and labels at several (T, α), writes the loss and its
gradient with respect to the student logits to crates/trainer/tests/fixtures/distillation.json,
which crates/trainer/tests/distillation.rs compares against `trainer::distill`.
"""
import json
import pathlib

import torch
import torch.nn.functional as F

OUT = pathlib.Path(__file__).resolve().parents[2] / "crates/trainer/tests/fixtures/distillation.json"


def case(seed, batch, classes, temperature, alpha, scale):
    g = torch.Generator().manual_seed(seed)
    student = (torch.randn(batch, classes, generator=g, dtype=torch.float64) * scale).requires_grad_()
    teacher = torch.randn(batch, classes, generator=g, dtype=torch.float64) * scale * 2
    targets = torch.randint(0, classes, (batch,), generator=g)
    soft = F.kl_div(
        F.log_softmax(student / temperature, dim=1),
        F.softmax(teacher / temperature, dim=1),
        reduction="batchmean",
    )
    loss = alpha * temperature**2 * soft + (1 - alpha) * F.cross_entropy(student, targets)
    loss.backward()
    return {
        "batch": batch,
        "classes": classes,
        "temperature": temperature,
        "alpha": alpha,
        "student": student.detach().flatten().tolist(),
        "teacher": teacher.flatten().tolist(),
        "targets": targets.tolist(),
        "loss": loss.item(),
        "kl": soft.item(),
        "grad": student.grad.flatten().tolist(),
    }


cases = [
    case(0, 8, 10, 4.0, 0.9, 1.0),
    case(1, 5, 3, 1.0, 0.5, 3.0),
    case(2, 16, 10, 20.0, 1.0, 5.0),
    case(3, 4, 10, 2.0, 0.0, 2.0),
    case(4, 32, 10, 8.0, 0.7, 10.0),
]
OUT.parent.mkdir(parents=True, exist_ok=True)
OUT.write_text(json.dumps({"torch": torch.__version__, "cases": cases}, indent=1) + "\n")
print(f"wrote {OUT} ({len(cases)} cases, torch {torch.__version__})")
