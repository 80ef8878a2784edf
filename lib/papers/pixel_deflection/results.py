"""Typed results of the pixel-deflection protocol: what `protocol.run_*` return and `render` reads.

The hand-off between computing and drawing: `protocol` builds these, `render` reads their attributes
and never calls back into `protocol` or `method`. Tensors are on the CPU unless stated.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import pandas as pd
from torch import Tensor


@dataclass(frozen=True)
class Setting:
    """K, r, sigma of the defence: deflections per image, window (pixels), wavelet-denoising sigma ([0, 1])."""

    deflections: int
    window: int
    sigma: float

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Defence:
    """One input transformation applied before the classifier, in this order:

    1. `pre`: deterministic filters before deflection (Table 4.6 baselines: `bitdepth2`, `bitdepth5`,
       `median2`, `median3`, `nlm11-3-2`, `nlm13-3-4`, `tvm`, `jpeg`, `wavelet` alone);
    2. pixel deflection when `deflections > 0` (`window`, `sampler`, `replacement`, `mode`), guided by
       R-CAM (top `top_k` classes) when `rcam`;
    3. `post`: denoisers after deflection, in order (`wavelet` with `sigma` / `shrink`, `jpeg`, `dct`,
       `bilateral`, `anisotropic`, `tvm`, `deconv`), then `resize_pad` if listed.
    """

    label: str
    deflections: int = 0
    window: int = 0
    rcam: bool = False
    top_k: int = 2
    sampler: str = "uniform"
    replacement: str = "random"
    mode: str = "channel"
    sigma: float = 0.04
    shrink: str = "bayes"
    pre: tuple[str, ...] = ()
    post: tuple[str, ...] = ()

    @property
    def stochastic(self) -> bool:
        return self.deflections > 0 or "resize_pad" in self.post

    def spec(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k != "label"}


@dataclass
class Outcome:
    """Per-image results of one (classifier, image set, defence): `correct` `[R, N]` bool (R runs),
    `nodef` `[N]` bool (correct without defence), `rmse` `[N]`. `single` = mean over runs (fraction
    per image), `ens` = majority vote correct."""

    correct: Tensor
    ens: Tensor
    nodef: Tensor
    rmse: Tensor

    @property
    def single(self) -> Tensor:
        return self.correct.float().mean(0)

    def summary(self) -> dict:
        broken = ~self.nodef
        return {"n": int(self.nodef.numel()), "rmse": float(self.rmse.mean()),
                "no_defence": 100 * float(self.nodef.float().mean()), "single": 100 * float(self.single.mean()),
                "ens": 100 * float(self.ens.float().mean()),
                "destruction": float(self.single[broken].mean()) if broken.any() else float("nan")}


@dataclass
class SearchResult:
    """Fig. 4.5: the coordinate search's `trace` (pass, parameter, deflections, window, sigma, <attack>...,
    mean), its result `tuned` and its starting point `start` (the thesis's setting)."""

    trace: pd.DataFrame
    tuned: Setting
    start: Setting


@dataclass
class AttackTables:
    """Tables 4.1-4.5: `rows` (model, attack, level, defence, n, rmse, no_defence, single, ens, destruction),
    `outcomes` {(model, attack, level, defence label): Outcome}, `accuracy` {model: clean test accuracy %},
    `defence` the tuned PD+R-CAM+WD, `tuned` its K, r, sigma."""

    rows: pd.DataFrame
    outcomes: dict[tuple[str, str, str, str], Outcome]
    accuracy: dict[str, float]
    defence: Defence
    tuned: Setting


@dataclass
class DefenceGrid:
    """Defences x attacks on the first classifier: `rows` (defence, attack, n, rmse, no_defence, single, ens,
    destruction), `outcomes` {(attack, defence label): Outcome}, `labels` the defences in order."""

    rows: pd.DataFrame
    outcomes: dict[tuple[str, str], Outcome]
    labels: list[str]
    tuned: Setting


@dataclass
class Sweeps:
    """Tables 4.9-4.11: one `DefenceGrid` per sweep (single-run accuracy, `SWEEP_RUNS` runs)."""

    table4_9: DefenceGrid      # K
    table4_10: DefenceGrid     # r
    sampling: DefenceGrid      # uniform | gaussian, per r
    replacement: DefenceGrid   # min | max | mean | random, per r
    denoiser: DefenceGrid      # bilateral | anisotropic | tvm | deconv | wavelet
    tuned: Setting


@dataclass
class Fig4_1:
    """A few clean test images `[n, 3, H, W]`, deflected with K and 10K deflections, and denoised."""

    clean: Tensor
    deflected: Tensor
    denoised: Tensor
    heavy: Tensor
    heavy_denoised: Tensor
    defence: Defence
    labels: Tensor
    classes: list[str]
    tuned: Setting


@dataclass
class Fig4_2:
    """`rows`: images (clean | adversarial), deflections, fraction, p_true, p_adv, agree (%)."""

    rows: pd.DataFrame
    tuned: Setting


@dataclass
class Fig4_3:
    """`maps` {label: mean |perturbation| `[H, W]`} (and the mean R-CAM), `share` (attack, share, area)."""

    maps: dict[str, Tensor]
    share: pd.DataFrame
    tuned: Setting


@dataclass
class Fig4_4:
    """CAM (top class) and R-CAM of a few clean and adversarial images, and per image of the whole set the
    correlation of the clean and adversarial maps (`cam_corr`, `rcam_corr`)."""

    attack: str
    clean: Tensor
    adversarial: Tensor
    cam_clean: Tensor
    rcam_clean: Tensor
    cam_adversarial: Tensor
    rcam_adversarial: Tensor
    cam_corr: list[float] = field(default_factory=list)
    rcam_corr: list[float] = field(default_factory=list)
    tuned: Setting | None = None


@dataclass
class Fig4_6:
    """`rows`: model, attack, adv_rank_in_clean, true_rank_in_adv (fooled images only)."""

    rows: pd.DataFrame
    tuned: Setting
