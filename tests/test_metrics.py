"""lib.metrics: destruction rate (worked example, 0/0 rule), majority vote with ties, Single vs Ens-R."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lib import metrics


def test_destruction_rate_worked_example() -> None:
    # image:             0  1  2  3  4  5  6  7
    clean_correct = [1, 1, 1, 1, 1, 0, 0, 1]
    adv_correct = [0, 0, 0, 1, 0, 0, 1, 0]      # attack breaks 0, 1, 2, 4, 7 (5 and 6 were wrong clean)
    defended = [1, 0, 1, 1, 0, 1, 1, 1]          # of those, 0, 2, 7 are repaired -> 3 / 5
    assert metrics.destruction_rate(clean_correct, adv_correct, defended) == pytest.approx(0.6)
    as_bool = [torch.tensor(v, dtype=torch.bool) for v in (clean_correct, adv_correct, defended)]
    assert metrics.destruction_rate(*as_bool) == pytest.approx(0.6)
    assert metrics.destruction_rate(*[np.array(v) for v in (clean_correct, adv_correct, defended)]) == pytest.approx(0.6)


def test_destruction_rate_extremes_and_zero_denominator() -> None:
    assert metrics.destruction_rate([1, 1], [0, 0], [1, 1]) == 1.0
    assert metrics.destruction_rate([1, 1], [0, 0], [0, 0]) == 0.0
    # nothing both clean-correct and fooled: undefined -> NaN
    assert math.isnan(metrics.destruction_rate([1, 0], [1, 0], [1, 1]))
    assert math.isnan(metrics.destruction_rate([], [], []))
    with pytest.raises(ValueError):
        metrics.destruction_rate([1, 1], [0], [1, 1])


def test_majority_vote_ties_go_to_smallest_label() -> None:
    preds = torch.tensor([[1, 2, 3, 0, 4],
                          [2, 2, 1, 0, 4],
                          [1, 3, 3, 5, 4],
                          [2, 3, 1, 5, 1]])
    # columns: 1/2 tie -> 1; 2/3 tie -> 2; 3/1 tie -> 1; 0/5 tie -> 0; clear majority 4
    expected = torch.tensor([1, 2, 1, 0, 4])
    assert torch.equal(metrics.majority_vote(preds), expected)
    assert torch.equal(metrics.majority_vote(preds.flip(0)), expected)      # independent of run order
    assert torch.equal(metrics.majority_vote(preds[:1]), preds[0])          # one run: itself
    assert torch.equal(metrics.majority_vote([[7, 1], [7, 2], [3, 2]]), torch.tensor([7, 2]))
    with pytest.raises(ValueError):
        metrics.majority_vote(torch.tensor([1, 2, 3]))


def test_single_and_ensemble() -> None:
    labels = torch.tensor([0, 1, 2, 3])
    preds = torch.tensor([[0, 1, 0, 0],      # 2/4
                          [0, 1, 2, 1],      # 3/4
                          [0, 0, 2, 2]])     # 2/4; vote: 0, 1, 2, tie(0, 1, 2) -> 0 -> 3/4
    assert metrics.ensemble_accuracy(preds, labels) == pytest.approx(0.75)
    res = metrics.single_and_ensemble(preds, labels, run=1)
    assert (res.single, res.run, res.ensemble, res.runs) == (0.75, 1, 0.75, 3)
    assert res.single_mean == pytest.approx(7 / 12)
    a = metrics.single_and_ensemble(preds, labels, generator=torch.Generator().manual_seed(3))
    b = metrics.single_and_ensemble(preds, labels, generator=torch.Generator().manual_seed(3))
    assert a == b and 0 <= a.run < 3
    assert a.single == pytest.approx(float((preds[a.run] == labels).double().mean()))
    assert metrics.accuracy([1, 2], [1, 3]) == 0.5
