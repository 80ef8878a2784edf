"""Typed results of Bartschat et al.: what `protocol.run_*` return and `render` reads.

Accuracies are fractions in [0, 1]; distortion levels σ are on the [−1, 1] scale (noise) or in pixels (blur);
adversarial changes are mean absolute per-pixel changes on the 0–255 scale.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass
class ModulesResult:
    """Fig. 2: weights of the modules (convolution weights only, no biases or BN, as the paper counts).

    table: module ('resnet' | 'inception' | 'resnext' | 'conv3x3'), width, weights — at the paper's width 256
        and at the run's width; conv3x3 is one plain 3×3 width → width convolution.
    shapes: module, input shape, output shape (a forward pass at the run's width, as strings).
    """

    table: pd.DataFrame
    shapes: pd.DataFrame
    run_width: int


@dataclass
class Fig3Result:
    """Fig. 3: test images clean and with noise σ on the [−1, 1] scale (no clipping; clipped only for display).

    clean: uint8 `[K, 32, 32, 3]`; noisy: float32 `[K, 32, 32, 3]` on the [−1, 1] scale (unclipped);
    names: class names; indices: positions in the test split; sigma: the noise level.
    """

    clean: np.ndarray
    noisy: np.ndarray
    names: list[str]
    indices: list[int]
    sigma: float


@dataclass
class StudyResult:
    """Figs. 4–7 for one distortion family ('noise' or 'blur').

    models: arch, train_sigma, seed, weights (all parameters), train_seconds, images_per_s, final_loss — one row
        per trained model of the family (the σ = 0 model belongs to both families).
    acc: arch, train_sigma, seed, test_sigma, acc — every model on every level of the family's test sets.
    correct: (arch, train_sigma, seed, test_sigma) -> bool `[N]`, per test image (the same images and the same
        seeded distortion for every model: paired comparisons).
    adv: arch, train_sigma, seed, image, label, misclassified, found, sign_eps ([−1, 1] scale), sign_change,
        df_change (0–255 scale), df_l2 ([0, 1] scale), df_success — per model and attacked clean test image.
    info: family, levels, sizes (train, test, adv), width, epochs, seeds, extra seeds, identity blur levels.
    """

    family: str
    models: pd.DataFrame
    acc: pd.DataFrame
    correct: dict[tuple, np.ndarray]
    adv: pd.DataFrame
    info: dict = field(default_factory=dict)
