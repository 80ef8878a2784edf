"""Typed results of the Quality Resilient DNNs protocol: what `protocol.run_*` return and `render` reads.

Units: accuracy as a fraction in [0, 1]; levels in the distortion's unit (AWGN σ on 0–255, blur σ in
px); AUC normalised so that 1.00 is 100% at every level; parameters as counts. Each table's columns are
listed on its class.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from torch import Tensor


@dataclass
class CurvesResult:
    """Test accuracy of every model at every level.

    `rows`: seed, model (M_clean … M_mix, see paper.MODELS), kind (noise|blur), level_index, level, acc.
    `auc`: seed, model, noise (AUC), blur (AUC), average, noise_mean, blur_mean (plain-mean variant).
    `models`: seed, model, source (how it was made), clean_acc, steps, seconds, images_per_s.
    `levels`: {kind: [L] levels}. `test_size`: images per condition.
    """

    rows: pd.DataFrame
    auc: pd.DataFrame
    models: pd.DataFrame
    levels: dict[str, list[float]]
    test_size: int


@dataclass
class WeightsResult:
    """Eq. 4's optimal weights on the validation set.

    `rows`: seed, kind, level_index, level, w_clean, w_noise, w_blur (SLSQP), em_clean, em_noise, em_blur,
    max_diff, agree, objective_slsqp, objective_em, slsqp_success, n. `tol`: the agreement tolerance.
    `seconds`: wall time of all solves (both solvers), per seed.
    """

    rows: pd.DataFrame
    tol: float
    seconds: dict[int, float]


@dataclass
class GateResult:
    """The gating network (Table 1) and its training.

    `layers`: layer, hyper (Table 1 text), params (per layer). `total`: parameters.
    `history`: seed, step, val_loss (Eq. 5 on the validation set). `fit`: seed, kind, level_index, level,
    g_clean, g_noise, g_blur (mean gate output on test images), t_clean, t_noise, t_blur (targets).
    """

    layers: pd.DataFrame
    total: int
    history: pd.DataFrame
    fit: pd.DataFrame


@dataclass
class ExamplesResult:
    """Fig. 1: one test image, clean and distorted. `images`: `[3, 3, H, W]` float in [0, 1] (rows: clean,
    noise, blur); `rows`: condition, level, then one column per model with the predicted class name;
    `correct`: same shape, bool; `truth`: class name; `index`: test index; `rule`: how it was picked."""

    images: Tensor
    rows: pd.DataFrame
    correct: pd.DataFrame
    truth: str
    index: int
    rule: str


@dataclass
class NeuronsResult:
    """Fig. 3: Conv5_1 channels.

    `silent`: seed, model, channels, silent (count of channels that never fire on the validation images),
    share. `images`: {model: `[K, 3, s, s]`} activation-maximisation inputs for `channels`; `responses`:
    model, channel, start, end (mean activation at the random start and after the ascent), status
    (which models' channel is silent).
    """

    silent: pd.DataFrame
    images: dict[str, Tensor]
    channels: list[int]
    responses: pd.DataFrame


@dataclass
class TreesResult:
    """Tables 6–7 on our data, plus the parameter columns.

    `rows`: structure (tree|inverted|mix), branch, noise, blur, average (AUC), params (ours, vgg16_slim),
    seed. `curves`: structure, branch, kind, level, acc. `analytic`: {structure: {branch: millions}}
    VGG-16's Avg-Params column computed from layer sizes (101/256/67 classes, gate 98,531).
    `slim_layers`: layer, params of one vgg16_slim network. `vgg16_layers`: layer, classes, params of
    VGG-16 (analytic). `per_image`: {"structure:branch": `[N, R]` bool} correctness of each test image at
    each condition, in the order of that structure's `curves` rows (paired comparisons over images).
    `members`: structure, branch, member, steps, best_step, images_per_s.
    """

    rows: pd.DataFrame
    curves: pd.DataFrame
    analytic: dict[str, dict[str, float]]
    slim_layers: pd.DataFrame
    vgg16_layers: pd.DataFrame
    per_image: dict[str, Tensor] = field(default_factory=dict)
    members: pd.DataFrame = field(default_factory=pd.DataFrame)
