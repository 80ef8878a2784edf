"""Evaluation metrics shared by the papers: destruction rate, majority vote, single vs Ens-10 accuracy.

* `destruction_rate` (Kurakin et al. 2016; thesis Ch3 and Table 4.6, formula in the thesis guide
  Sec. 6.2): among images classified correctly when clean AND misclassified after the attack, the
  fraction classified correctly after the transformation (defence). Returns NaN when no image is
  both clean-correct and fooled (0/0): the rate is undefined, not 0 or 1; callers print it as n/a.
* `majority_vote`: per image, the label predicted most often over R stochastic runs; ties go to
  the SMALLEST label among the tied ones (deterministic, independent of run order).
* `single_and_ensemble`: thesis Tables 4.1-4.5 "Single" (accuracy of one random run) and "Ens-10"
  (accuracy of the majority vote over the runs, 10 in the thesis).

Inputs are torch tensors or anything `torch.as_tensor` accepts (NumPy arrays, lists).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["destruction_rate", "majority_vote", "accuracy", "ensemble_accuracy", "SingleEns",
           "single_and_ensemble"]


def _bool_vector(x: object, name: str) -> Tensor:
    """`x` as a 1-D bool tensor (0/1 integers accepted)."""
    t = torch.as_tensor(x)
    if t.dim() != 1:
        raise ValueError(f"{name} must be 1-D [N], got shape {tuple(t.shape)}")
    return t.bool()


def destruction_rate(clean_correct: object, adv_correct: object, defended_correct: object) -> float:
    """Destruction rate d = sum C(x) (1 - C(x')) C(T(x')) / sum C(x) (1 - C(x')).

    Args:
        clean_correct: `[N]` bool, C(x_i, y_i): the clean image is classified correctly.
        adv_correct: `[N]` bool, C(x'_i, y_i): the adversarial image is still classified correctly.
        defended_correct: `[N]` bool, C(T(x'_i), y_i): the transformed adversarial is correct.

    Returns:
        d in [0, 1]; 1 = every image the attack broke is repaired. NaN when the denominator is 0
        (no clean-correct image was fooled), because the rate is undefined then.
    """
    clean = _bool_vector(clean_correct, "clean_correct")
    adv = _bool_vector(adv_correct, "adv_correct")
    defended = _bool_vector(defended_correct, "defended_correct")
    if not clean.shape == adv.shape == defended.shape:
        raise ValueError(f"shapes differ: {tuple(clean.shape)}, {tuple(adv.shape)}, {tuple(defended.shape)}")
    broken = clean & ~adv
    total = int(broken.sum())
    if total == 0:
        return math.nan
    return int((broken & defended).sum()) / total


def majority_vote(predictions: object) -> Tensor:
    """Per image, the most frequent label over R runs; ties -> the smallest tied label.

    Args:
        predictions: `[R, N]` int labels >= 0 (R stochastic runs of the defence + classifier).

    Returns:
        `[N]` int64 labels.
    """
    p = torch.as_tensor(predictions).long()
    if p.dim() != 2 or p.shape[0] == 0:
        raise ValueError(f"predictions must be [R, N] with R >= 1, got shape {tuple(p.shape)}")
    if (p < 0).any():
        raise ValueError("labels must be >= 0")
    n_classes = int(p.max()) + 1 if p.numel() else 1
    counts = torch.zeros(p.shape[1], n_classes, dtype=torch.long, device=p.device)
    counts.scatter_add_(1, p.T, torch.ones_like(p.T))
    return counts.argmax(1)   # argmax returns the first (smallest) index among equal maxima


def accuracy(predictions: object, labels: object) -> float:
    """Fraction of `[N]` predictions equal to `[N]` labels (NaN for N = 0)."""
    p, y = torch.as_tensor(predictions).long(), torch.as_tensor(labels).long()
    if p.shape != y.shape:
        raise ValueError(f"shapes differ: {tuple(p.shape)} vs {tuple(y.shape)}")
    return float((p == y).double().mean()) if p.numel() else math.nan


def ensemble_accuracy(predictions: object, labels: object) -> float:
    """Accuracy of `majority_vote` of `[R, N]` predictions against `[N]` labels."""
    return accuracy(majority_vote(predictions), labels)


@dataclass(frozen=True)
class SingleEns:
    """Thesis "Single" / "Ens-R" accuracies of R stochastic runs (fractions in [0, 1]).

    Attributes:
        single: accuracy of run `run` (one random run).
        run: the index of that run.
        single_mean: mean accuracy over all runs (the expectation "single" estimates).
        ensemble: accuracy of the majority vote over all R runs.
        runs: R.
    """

    single: float
    run: int
    single_mean: float
    ensemble: float
    runs: int


def single_and_ensemble(predictions: object, labels: object, run: int | None = None,
                        generator: torch.Generator | None = None) -> SingleEns:
    """Single-run and majority-vote (Ens-R; Ens-10 with 10 runs) accuracy.

    Args:
        predictions: `[R, N]` int labels of R stochastic runs.
        labels: `[N]` true labels.
        run: which run is "single"; default one drawn uniformly with `generator`.
        generator: torch RNG for that draw (None: the global RNG).
    """
    p = torch.as_tensor(predictions).long()
    y = torch.as_tensor(labels).long()
    if p.dim() != 2 or p.shape[1] != y.shape[0]:
        raise ValueError(f"predictions must be [R, N] with N = {y.shape[0]}, got {tuple(p.shape)}")
    r = p.shape[0]
    if run is None:
        run = int(torch.randint(r, (1,), generator=generator))
    per_run = (p == y[None]).double().mean(1)
    return SingleEns(single=float(per_run[run]), run=run, single_mean=float(per_run.mean()),
                     ensemble=ensemble_accuracy(p, y), runs=r)
