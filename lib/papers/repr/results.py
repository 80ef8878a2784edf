"""Typed results of the RePr protocol: what `protocol.run_*` return and `render` reads.

The hand-off between computing and drawing: `protocol` builds these, `render` reads their attributes
and never calls back into `protocol` or `method`. `schedule` is the base run's `method.Schedule`
(drop and re-add epochs), which the curve figures shade.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:   # annotation only: results never import the method at run time
    from lib.papers.repr.method import Schedule


@dataclass
class Finals:
    """Final accuracies per run: group, seed, test_acc, train_acc, seconds, images_per_s (+ per-table columns)."""

    rows: pd.DataFrame


@dataclass
class Curves:
    """Per-epoch curves (group, seed, epoch, test_acc, train_acc, ortho_sum, ...) and the base schedule."""

    curves: pd.DataFrame
    schedule: Schedule


@dataclass
class Fig5_1Result:
    """Fig. 5.1: curves, the drop/re-add `events` (group, seed, epoch, ...) and the base schedule."""

    curves: pd.DataFrame
    events: pd.DataFrame
    schedule: Schedule


@dataclass
class Fig5_3Result:
    """Per filter: seed, stage, criterion, layer, filter, importance, oracle_drop (%)."""

    rows: pd.DataFrame


@dataclass
class CcaMatrix:
    """Filter-by-filter canonical correlations `[F, F]` of one layer of one model (seed)."""

    model: str
    seed: int
    layer: str
    matrix: np.ndarray


@dataclass
class CcaResult:
    """Figs. 5.2 / 5.11: correlation `matrices`, the standard net's greedy-Oracle drop per filter (`oracle`:
    seed, layer, filter, drop_pts) and the final test accuracies (`finals`: model, seed, test_acc)."""

    matrices: list[CcaMatrix]
    oracle: pd.DataFrame
    finals: pd.DataFrame


@dataclass
class Fig5_4Result:
    """Per pruned fraction and seed: prune_pct, seed, test_acc, window_acc (mean test accuracy after the first drop)."""

    rows: pd.DataFrame


@dataclass
class Fig5_5Result:
    """Many RePr iterations: `curves` and the rows at the end of each iteration (`iterations`)."""

    curves: pd.DataFrame
    iterations: pd.DataFrame


@dataclass
class Fig5_6Result:
    """Final accuracies per optimiser (`optimizers`) and per S1 = S2 value (`s_values`)."""

    optimizers: pd.DataFrame
    s_values: pd.DataFrame


@dataclass
class Fig5_9Result:
    """Ortho-sum curves with and without KD, the teacher's test accuracy (%) and the base schedule."""

    curves: pd.DataFrame
    teacher_acc: float
    schedule: Schedule
