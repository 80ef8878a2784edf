"""Typed results of the selective fine-tuning protocol: what `protocol.run_*` return and `render` reads.

The hand-off between computing and drawing: `protocol` builds these, `render` reads their attributes
and never calls back into `protocol` or `method`. Each table's columns are listed on its class.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from torch import Tensor


@dataclass
class Fig4Result:
    """Borda points per filter: net, distortion, level, seed, filter, points, rank (1 = most susceptible), top."""

    rows: pd.DataFrame


@dataclass
class Fig5Result:
    """Accuracy after fine-tuning: net, distortion, level, n, which (most|least|all|baseline), seed, acc, steps,
    trainable_params, seconds."""

    rows: pd.DataFrame


@dataclass
class Fig6Result:
    """Hamming maps: `example` {model: {layer: [h, w] map}} of one image; `sums` (model, layer, seed, mean_sum,
    channels); the AWGN `level` (σ on 0–255) and the `n` distorted training images used for fine-tuning."""

    example: dict[str, dict[str, Tensor]]
    sums: pd.DataFrame
    level: float
    n: int


@dataclass
class Table1Result:
    """Exemplar vs associative top sets: layer, features (pixels|FTM), metric, seed, overlap, k, filters."""

    rows: pd.DataFrame


@dataclass
class EmdReadingsResult:
    """1-D vs spatial EMD top sets: distortion, level, seed, pairs, filters, k, overlap, top_1d, top_spatial."""

    rows: pd.DataFrame
