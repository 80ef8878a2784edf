"""Typed results of the pretrained-CNN study: what `protocol.run_*` return and `render` reads.

Accuracies are fractions in [0, 1]; losses are mean per-image cross-entropies in nats.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass
class Fig5Result:
    """One clean test image and its 19 × 5 corrupted versions.

    clean: uint8 `[32, 32, 3]`; grid: uint8 `[19, 5, 32, 32, 3]` (corruption × severity 1–5); names: the 19
    corruption names in grid order; label: the image's class name; index: its position in the test split.
    """

    clean: np.ndarray
    grid: np.ndarray
    names: list[str]
    label: str
    index: int


@dataclass
class StudyResult:
    """Everything Figs. 6–9 and Tables 2–3 need.

    curves: arch, arm (np|p), seed, epoch, train_loss, clean_loss, clean_acc, c_loss, c_acc — one row per
        head-training epoch (1..EPOCHS).
    cells: arch, arm, seed, corruption, severity, acc, loss — final epoch, per CIFAR-10-C cell.
    diag: arch, arm, seed, scaled_acc, scaled_loss, unscaled_acc, unscaled_loss, clean_loss, clean_acc — the
        final head on the diagnosis subset of the corrupted set fed correctly ([0, 1]) and unscaled (0–255).
    backbones: arch, arm, params (of the width-scaled network, 10 classes), head_in (features into the head),
        bn_layers (recalibrated), source (one line: random init / proxy pretraining / ImageNet file),
        pretrain_val_acc (proxy only, fraction, mean over its backbones; NaN otherwise), backbones (distinct
        backbones over the seeds), seconds (wall time of the arm, all seeds).
    info: pretrained ('proxy' | 'imagenet'), sizes (probe_train, test, c_per_cell, diag_per_cell, bn_calib,
        proxy_pool), input sizes, width.
    """

    curves: pd.DataFrame
    cells: pd.DataFrame
    diag: pd.DataFrame
    backbones: pd.DataFrame
    info: dict = field(default_factory=dict)

    @property
    def proxy(self) -> bool:
        """True when the 'with pretraining' arm is the CIFAR-pretrained stand-in, not ImageNet."""
        return self.info.get("pretrained") == "proxy"
