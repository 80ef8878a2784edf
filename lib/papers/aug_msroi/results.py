"""Typed results of thesis ch. 3: what `protocol.run_*` return and `render` reads.

Images are float32 `[N, 3, H, W]` in [0, 1] on the CPU; maps float32 `[N, H, W]` in [0, 1]; accuracies are
fractions per image (0/1) in the row tables and % in summaries; RMSE is on 0–255 RGB, PSNR in dB (RGB, peak 255),
SSIM on BT.601 luma.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from torch import Tensor


@dataclass
class AttackResult:
    """Fig. 3.1, Fig. 3.2b and claims AM-C5, AM-C6: the attacks on the test images.

    examples: {'clean': `[E, 3, H, W]`, 'adversarial': `[E, 3, H, W]` (IGSM), 'labels', 'clean_pred', 'adv_pred'
        (int lists), 'classes' (names)}.
    mean_map: float32 `[H, W]`, the mean MS-ROI map of the clean test images; mean_delta: {attack: float32
        `[H, W]`}, the mean over images of Σ_channels |δ|.
    stats: one row per attack: attack, success (share whose prediction left the clean one), rmse (mean, [0, 1]),
        rmse_min / rmse_max, r_mean_maps (Pearson r of the two mean maps), top25_share (mean per-image share of
        |δ|² on the 25% most salient pixels of the image's clean map), changed_nonsat (share of non-saturated
        pixel values changed), n.
    info: classifier, clean accuracy, budget, options, image counts.
    """

    examples: dict
    mean_map: Tensor
    mean_delta: dict
    stats: pd.DataFrame
    info: dict = field(default_factory=dict)


@dataclass
class SearchResult:
    """Fig. 3.2a and the choices made on the search split (never on the test images).

    jpeg: split (search | test), attack (clean, each attack, 'pooled' = mean over attacks), quality, accuracy
        (% agreement with the clean prediction), accuracy_label (% vs the label), n.
    shifts: shift, levels (list), psnr (mean over the search split's adversarial images), jpeg_psnr (JPEG(Q*)),
        gap (psnr − jpeg_psnr), top_share (pixels in the top level).
    aug: sigma_in, act_scale, accuracy (% pooled agreement over the search attacks), clean (% agreement on clean).
    chosen: {'jpeg_q', 'shift', 'levels', 'sigma_in', 'act_scale'}.
    """

    jpeg: pd.DataFrame
    shifts: pd.DataFrame
    aug: pd.DataFrame
    chosen: dict
    info: dict = field(default_factory=dict)


@dataclass
class MapsResult:
    """Figs. 3.3 and 3.4 and claims AM-C7, AM-C12.

    examples: {'clean', 'adversarial' (images `[E, 3, H, W]`), 'map_clean', 'map_adv', 'aug_adv' (maps `[E, H, W]`),
        'each' (`[n, H, W]`: the jittered passes of the first example), 'attack'}.
    rows: attack, image, corr_msroi (corr(map(x'), map(x))), corr_aug (corr(Aug-MSROI(x'), map(x))), pb_r (point-
        biserial r between 'pixel changed by the attack' and the Aug-MSROI map of x'; NaN when no pixel or every
        pixel changed).
    """

    examples: dict
    rows: pd.DataFrame
    info: dict = field(default_factory=dict)


@dataclass
class DefenceResult:
    """Table 3.1, Figs. 3.5, 3.6 and claims AM-C1…C4 (test part), C8…C11, C13.

    rows: one per (attack, defence, image), attack in clean | each attack | bpda (adaptive, against that row's
        defence, first ADAPTIVE['n'] images): label, clean_pred, pred, correct (pred == label), agree (pred ==
        clean prediction), clean_correct (the clean prediction is right), p_label, p_clean (softmax probability of
        the label / the clean prediction), rmse255, psnr, ssim (against the clean original), top_share (pixels in
        the top quality level; NaN for JPEG / none).
    examples: Fig. 3.5: {'clean', 'adversarial', 'jpeg', 'aug' (images `[E, 3, H, W]`), 'attack', per-image
        'pred' and 'conf' dicts by stage, 'classes', 'labels'}.
    timing: device, images, perturbations, seconds (maps + encoding), seconds_maps.
    info: chosen settings, classifier, clean accuracy on the whole test split.
    """

    rows: pd.DataFrame
    examples: dict
    timing: dict
    info: dict = field(default_factory=dict)
