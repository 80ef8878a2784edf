"""Dodge & Karam, *Quality Resilient Deep Neural Networks*: the method, tensors in and tensors out.

Conventions: images are `[N, 3, H, W]` float32 in [0, 1] (uint8 0–255 where stated); noise levels are
AWGN σ on the 0–255 scale, blur levels Gaussian σ in pixels (kernel truncated at 4σ each side, SciPy
semantics, reflected borders: `lib.distortions.blur_per_sample`). The three experts are always in the
order `EXPERTS` = (clean, noise, blur); `probs` stacks their softmax rows as `[N, 3, C]` (Eq. 1).

Contents:
    networks     `VGG16` (VGG-16 topology with named layers and the seven branch points; `vgg16_slim`
                 for 32×32 CIFAR, full size for the paper profile), `GatingNet` (Table 1, 98,531
                 parameters), `TreeNet`, `InvertedTreeNet` (Section 4)
    parameters   `vgg16_layer_params` (analytic VGG-16 counts), `structure_params` (Tables 6–7)
    distortion   `mixed_batch`: a training batch split into clean / noise / blur parts, each distorted
                 image at its own level, in one batched call per distortion
    ensembles    `ensemble_avg`, `ensemble_max`, `ensemble_mix`, `ensemble_hardmix` (Eq. 2–3)
    weights      `optimal_weights` (Eq. 4, SLSQP), `optimal_weights_em` (EM cross-check), `solve_weights`
    gating       `gate_loss` (Eq. 5), `gate_targets`
    metric       `auc` (trapezoid over the levels, normalised: 1.00 = 100% at every level), `auc_mean`
    training     `train_classifier` (the paper's SGD recipe, early stopping on validation loss, optional
                 frozen layers), `train_gate`
"""
from __future__ import annotations

import copy
import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.optimize
import torch
import torch.nn.functional as F
from scipy.integrate import trapezoid
from torch import Tensor, nn

from lib.distortions import awgn_per_sample, blur_per_sample

EXPERTS = ("clean", "noise", "blur")
KINDS = ("noise", "blur")               # the paper's two distortion types, in the tables' column order
BRANCH_POINTS = ("conv2_1", "conv3_1", "conv4_1", "conv5_1", "fc6", "fc7", "fc8")
CONV_LAYERS = ("conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1", "conv3_2", "conv3_3",
               "conv4_1", "conv4_2", "conv4_3", "conv5_1", "conv5_2", "conv5_3")
LAYERS = CONV_LAYERS + ("fc6", "fc7", "fc8")
VGG16_WIDTHS = (64, 128, 256, 512, 512)   # output channels of VGG-16's five conv blocks
VGG16_FC = 4096
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


# =============================================================================================
# Networks


class Normalise(nn.Module):
    """(x - mean) / std per channel, for `[N, 3, H, W]` input in [0, 1]; parameter-free (buffers)."""

    def __init__(self, mean: Sequence[float], std: Sequence[float]):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1))

    def forward(self, x: Tensor) -> Tensor:
        return (x - self.mean) / self.std


class ConvUnit(nn.Module):
    """conv 3×3 (padding 1, bias) -> [BatchNorm] -> ReLU -> [2×2 max-pool when it closes a block]."""

    def __init__(self, in_ch: int, out_ch: int, bn: bool, pool: bool):
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, 3, padding=1)
        self.bn = nn.BatchNorm2d(out_ch) if bn else nn.Identity()
        self.pool = nn.MaxPool2d(2) if pool else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        return self.pool(F.relu(self.bn(self.conv(x))))


class FcUnit(nn.Module):
    """[flatten] -> Linear -> [ReLU -> Dropout] (the last layer, fc8, has neither: it gives logits)."""

    def __init__(self, in_features: int, out_features: int, flatten: bool, last: bool, dropout: float):
        super().__init__()
        self.flatten = flatten
        self.linear = nn.Linear(in_features, out_features)
        self.last = last
        self.dropout = nn.Dropout(dropout) if not last and dropout > 0 else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        if self.flatten:
            x = x.flatten(1)
        x = self.linear(x)
        return x if self.last else self.dropout(F.relu(x))


class VGG16(nn.Module):
    """VGG-16's topology with named layers: 13 convs in blocks (2, 2, 3, 3, 3), a max-pool closing each
    block, fc6, fc7 (ReLU, dropout) and fc8 (logits).

    `VGG16()` is the paper's network (widths 64…512, fc 4096, no BN, 224×224 input, ImageNet mean/std
    normalisation inside); `vgg16_slim()` is the CIFAR stand-in. Layers are `self.layers[name]` for
    `name` in `LAYERS`; the branch points of Section 4 are `BRANCH_POINTS`. `lower(x, b)` runs the input
    normalisation and every layer below branch point `b`; `upper(h, b)` runs `b` and every layer above,
    so `upper(lower(x, b), b) == forward(x)`. The tensor between them is the input of the first
    parameterised layer of `b` (after the parameter-free max-pool that closes the previous block).

    Input `[N, 3, input_size, input_size]` float in [0, 1]; output `[N, num_classes]` logits.
    """

    def __init__(self, num_classes: int = 1000, widths: Sequence[int] = VGG16_WIDTHS, fc: int = VGG16_FC,
                 bn: bool = False, input_size: int = 224, dropout: float = 0.5,
                 mean: Sequence[float] = IMAGENET_MEAN, std: Sequence[float] = IMAGENET_STD):
        super().__init__()
        if len(widths) != 5 or min(widths) < 1:
            raise ValueError(f"widths must give 5 positive block widths, got {tuple(widths)}")
        if input_size % 32:
            raise ValueError(f"input_size must be a multiple of 32 (five 2×2 pools), got {input_size}")
        self.config = {"num_classes": num_classes, "widths": tuple(widths), "fc": fc, "bn": bn,
                       "input_size": input_size, "dropout": dropout, "mean": tuple(mean), "std": tuple(std)}
        # `VGG16(**config)` rebuilds the same architecture (e.g. to load a stored state dict)
        self.normalise = Normalise(mean, std)
        layers: dict[str, nn.Module] = {}
        in_ch = 3
        for name in CONV_LAYERS:
            block, index = int(name[4]), int(name[6])
            out_ch = widths[block - 1]
            closes = index == (2 if block <= 2 else 3)
            layers[name] = ConvUnit(in_ch, out_ch, bn, closes)
            in_ch = out_ch
        side = input_size // 32
        layers["fc6"] = FcUnit(in_ch * side * side, fc, flatten=True, last=False, dropout=dropout)
        layers["fc7"] = FcUnit(fc, fc, flatten=False, last=False, dropout=dropout)
        layers["fc8"] = FcUnit(fc, num_classes, flatten=False, last=True, dropout=0.0)
        self.layers = nn.ModuleDict(layers)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def lower(self, x: Tensor, branch: str) -> Tensor:
        """Normalise and run every layer below `branch` (a `LAYERS` name)."""
        stop = _layer_index(branch)
        x = self.normalise(x)
        for name in LAYERS[:stop]:
            x = self.layers[name](x)
        return x

    def upper(self, h: Tensor, branch: str) -> Tensor:
        """Run `branch` and every layer above it on `h` (the output of `lower(·, branch)`); logits."""
        for name in LAYERS[_layer_index(branch):]:
            h = self.layers[name](h)
        return h

    def forward(self, x: Tensor) -> Tensor:
        return self.upper(self.lower(x, LAYERS[0]), LAYERS[0])

    def modules_below(self, branch: str) -> list[nn.Module]:
        """The layers strictly below `branch` (the normalisation holds no parameters)."""
        return [self.layers[n] for n in LAYERS[:_layer_index(branch)]]

    def modules_from(self, branch: str) -> list[nn.Module]:
        """`branch` and the layers above it."""
        return [self.layers[n] for n in LAYERS[_layer_index(branch):]]


def _layer_index(name: str) -> int:
    if name not in LAYERS:
        raise ValueError(f"unknown layer {name!r}; valid: {', '.join(LAYERS)}")
    return LAYERS.index(name)


def vgg16_slim(num_classes: int = 10, width: float = 1.0, fc: int = 2048, bn: bool = True) -> VGG16:
    """The CIFAR-10 stand-in (inventory A.6): VGG-16 topology at 32×32, block widths
    round(width·(16, 32, 64, 128, 128)), fc6/fc7 of `fc` units, BatchNorm after each conv (a stated
    deviation: VGG-16 without BN trains poorly from scratch), centring (x − 0.5)/0.25 inside."""
    widths = tuple(max(1, round(width * w)) for w in (16, 32, 64, 128, 128))
    return VGG16(num_classes, widths, fc, bn=bn, input_size=32, mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))


def count_params(modules: Sequence[nn.Module] | nn.Module) -> int:
    """Number of parameters (trainable or not; buffers excluded)."""
    modules = [modules] if isinstance(modules, nn.Module) else modules
    return sum(p.numel() for m in modules for p in m.parameters())


class GatingNet(nn.Module):
    """The gating network of Table 1: weights of the three experts for an input image.

    conv3×3-16, pool, conv3×3-32, pool, conv3×3-64, pool, conv3×3-64, pool, conv3×3-64, conv1×1-16,
    conv1×1-3, global average pooling, softmax. 3×3 convs 'same'-padded; ReLU after conv1…conv6 (the
    paper states neither padding nor activation); no BatchNorm (Table 1's 98.5 k parameters leave no
    room for affine BN: with biases the count is exactly 98,531, whatever the input size).
    Input `[N, 3, H, W]` float in [0, 1] (H, W ≥ 16; centred inside as (x − 0.5)/0.25 by default);
    output `[N, 3]` softmax weights in `EXPERTS` order (rows sum to 1).
    """

    def __init__(self, in_channels: int = 3, widths: Sequence[int] = (16, 32, 64, 64, 64, 16), experts: int = 3,
                 mean: Sequence[float] = (0.5, 0.5, 0.5), std: Sequence[float] = (0.25, 0.25, 0.25)):
        super().__init__()
        w = tuple(widths)
        if len(w) != 6:
            raise ValueError(f"widths must give the 6 hidden conv widths of Table 1, got {w}")
        self.normalise = Normalise(mean, std)
        self.convs = nn.ModuleList([
            nn.Conv2d(in_channels, w[0], 3, padding=1), nn.Conv2d(w[0], w[1], 3, padding=1),
            nn.Conv2d(w[1], w[2], 3, padding=1), nn.Conv2d(w[2], w[3], 3, padding=1),
            nn.Conv2d(w[3], w[4], 3, padding=1), nn.Conv2d(w[4], w[5], 1), nn.Conv2d(w[5], experts, 1)])
        for conv in self.convs:
            nn.init.xavier_normal_(conv.weight)      # glorot_normal, as in the first author's Keras code
            nn.init.zeros_(conv.bias)

    def logits(self, x: Tensor) -> Tensor:
        """`[N, experts]` pre-softmax scores (conv7 output, globally averaged)."""
        x = self.normalise(x)
        for i, conv in enumerate(self.convs):
            x = conv(x)
            if i < 6:
                x = F.relu(x)
            if i < 4:
                x = F.max_pool2d(x, 2)
        return x.mean((2, 3))

    def forward(self, x: Tensor) -> Tensor:
        return F.softmax(self.logits(x), dim=1)


# =============================================================================================
# Parameter counts (Tables 6–7)


def vgg16_layer_params(num_classes: int, widths: Sequence[int] = VGG16_WIDTHS, fc: int = VGG16_FC,
                       input_size: int = 224, bn: bool = False) -> dict[str, int]:
    """Analytic parameter count of each `LAYERS` entry of VGG-16 (weights + biases, + 2 per channel
    with affine BN), for `num_classes` outputs. VGG-16 at 1000 classes totals 138,357,544."""
    counts, in_ch = {}, 3
    for name in CONV_LAYERS:
        out_ch = widths[int(name[4]) - 1]
        counts[name] = 9 * in_ch * out_ch + out_ch + (2 * out_ch if bn else 0)
        in_ch = out_ch
    flat = in_ch * (input_size // 32) ** 2
    counts["fc6"] = flat * fc + fc
    counts["fc7"] = fc * fc + fc
    counts["fc8"] = fc * num_classes + num_classes
    return counts


def structure_params(layer_params: dict[str, int], structure: str, branch: str | None, gate: int) -> int:
    """Parameters of a three-expert structure (Section 4), from per-layer counts of one network.

    structure: "mix" (three full networks + gate; `branch` ignored), "tree" (layers below `branch`
    shared: once; `branch` and above: three times) or "inverted" (below: three times; `branch` and
    above shared: once). `gate`: the gating network's parameters (added to every structure).
    """
    if structure == "mix":
        return 3 * sum(layer_params.values()) + gate
    if structure not in ("tree", "inverted"):
        raise ValueError(f"unknown structure {structure!r}; valid: mix, tree, inverted")
    k = _layer_index(branch or "")
    below = sum(layer_params[n] for n in LAYERS[:k])
    above = sum(layer_params[n] for n in LAYERS[k:])
    return below + 3 * above + gate if structure == "tree" else 3 * below + above + gate


def vgg16_avg_params_table(classes: Sequence[int] = (101, 256, 67), gate: int = 98_531) -> dict[str, dict[str, float]]:
    """Tables 6–7's 'Avg Params (million)' column computed for VGG-16: per structure ('tree',
    'inverted') and branch point (plus 'M_mix'), parameters averaged over the datasets' class counts,
    in millions (unrounded)."""
    per = [vgg16_layer_params(c) for c in classes]
    out: dict[str, dict[str, float]] = {}
    for structure in ("tree", "inverted"):
        out[structure] = {b: float(np.mean([structure_params(p, structure, b, gate) for p in per])) / 1e6
                          for b in BRANCH_POINTS}
        out[structure]["M_mix"] = float(np.mean([structure_params(p, "mix", None, gate) for p in per])) / 1e6
    return out


# =============================================================================================
# Tree structures (Section 4)


class TreeNet(nn.Module):
    """TreeNet with a gating unit (Fig. 6c): the layers below `branch` are shared (taken from
    `experts[0]`, M_clean), each expert keeps `branch` and the layers above; the experts' softmax
    outputs are mixed with the gate's weights (Eq. 3).

    Input `[N, 3, H, W]` float in [0, 1]; output `[N, C]` mixed class probabilities.
    """

    def __init__(self, experts: Sequence[VGG16], gate: nn.Module, branch: str):
        super().__init__()
        _layer_index(branch)
        self.branch = branch
        self.experts = nn.ModuleList(experts)
        self.gate = gate

    def expert_probs(self, x: Tensor) -> Tensor:
        """`[N, 3, C]` softmax rows of the three branches (the trunk runs once)."""
        h = self.experts[0].lower(x, self.branch)
        return torch.stack([F.softmax(e.upper(h, self.branch), dim=1) for e in self.experts], dim=1)

    def forward(self, x: Tensor) -> Tensor:
        return ensemble_mix(self.expert_probs(x), self.gate(x))

    def num_params(self) -> int:
        """Parameters the structure holds: shared trunk once, three branches, the gate."""
        return (count_params(self.experts[0].modules_below(self.branch))
                + sum(count_params(e.modules_from(self.branch)) for e in self.experts) + count_params(self.gate))


class InvertedTreeNet(nn.Module):
    """Inverted-TreeNet (Fig. 6d): each expert keeps the layers below `branch`; `branch` and the layers
    above are shared (taken from `experts[0]`, M_clean). The gate's weights mix the experts' *features*
    before the first shared layer: h = Σ_k w_k(x)·lower_k(x); output softmax(upper(h)).

    Input `[N, 3, H, W]` float in [0, 1]; output `[N, C]` class probabilities.
    """

    def __init__(self, experts: Sequence[VGG16], gate: nn.Module, branch: str):
        super().__init__()
        _layer_index(branch)
        self.branch = branch
        self.experts = nn.ModuleList(experts)
        self.gate = gate

    def mixed_features(self, x: Tensor, weights: Tensor) -> Tensor:
        """Σ_k weights[:, k]·lower_k(x): the input of the first shared layer; `weights` `[N, 3]`."""
        feats = torch.stack([e.lower(x, self.branch) for e in self.experts], dim=1)     # [N, 3, ...]
        return (weights.view(*weights.shape, *([1] * (feats.ndim - 2))) * feats).sum(1)

    def forward(self, x: Tensor) -> Tensor:
        h = self.mixed_features(x, self.gate(x))
        return F.softmax(self.experts[0].upper(h, self.branch), dim=1)

    def num_params(self) -> int:
        """Parameters: three lower parts, the shared upper part once, the gate."""
        return (sum(count_params(e.modules_below(self.branch)) for e in self.experts)
                + count_params(self.experts[0].modules_from(self.branch)) + count_params(self.gate))


def freeze_for_member(model: VGG16, structure: str, branch: str) -> list[nn.Module]:
    """Freeze the part of an expert that the structure shares (it keeps M_clean's values) and return the
    frozen modules, which training must run in eval mode (BN statistics frozen too).

    structure "tree": the layers below `branch` are shared; "inverted": `branch` and above.
    """
    if structure == "tree":
        frozen = model.modules_below(branch)
    elif structure == "inverted":
        frozen = model.modules_from(branch)
    else:
        raise ValueError(f"unknown structure {structure!r}; valid: tree, inverted")
    for m in frozen:
        for p in m.parameters():
            p.requires_grad_(False)
    return frozen


# =============================================================================================
# Distorted training batches


@dataclass(frozen=True)
class BatchPlan:
    """Shares of a training batch that are clean, noisy and blurred (they sum to 1).

    M_noise: (½, ½, 0); M_blur: (½, 0, ½); M_all and the gating net: (½, ¼, ¼) (Sections 2–3).
    """

    clean: float
    noise: float
    blur: float

    def __post_init__(self) -> None:
        if min(self.clean, self.noise, self.blur) < 0 or abs(self.clean + self.noise + self.blur - 1) > 1e-9:
            raise ValueError(f"batch shares must be ≥ 0 and sum to 1, got {self}")

    def counts(self, n: int) -> tuple[int, int, int]:
        """(clean, noise, blur) image counts of an `n`-image batch (noise and blur rounded half up, the rest clean)."""
        k_noise, k_blur = int(math.floor(n * self.noise + 0.5)), int(math.floor(n * self.blur + 0.5))
        return n - k_noise - k_blur, k_noise, k_blur


PLANS = {"clean": BatchPlan(1.0, 0.0, 0.0), "noise": BatchPlan(0.5, 0.5, 0.0), "blur": BatchPlan(0.5, 0.0, 0.5),
         "all": BatchPlan(0.5, 0.25, 0.25)}


def mixed_batch(images: Tensor, plan: BatchPlan, noise_levels: Tensor, blur_levels: Tensor,
                generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """Distort a training batch by `plan`: the first images stay clean, the next get AWGN, the last blur.

    Args:
        images: `[B, 3, H, W]` float in [0, 1] (already shuffled: positions carry no meaning).
        plan: the shares; counts by `plan.counts(B)`.
        noise_levels: `[n_noise]` σ on 0–255, one per noisy image (e.g. U(0, 100) draws or grid levels).
        blur_levels: `[n_blur]` σ in px, one per blurred image.
        generator: draws the noise.

    Returns:
        (`[B, 3, H, W]` float in [0, 1] (noise clipped, not quantised), `[B]` int64 kind: 0 clean,
        1 noise, 2 blur).
    """
    n_clean, n_noise, n_blur = plan.counts(len(images))
    if noise_levels.shape != (n_noise,) or blur_levels.shape != (n_blur,):
        raise ValueError(f"plan {plan} on {len(images)} images needs {n_noise} noise and {n_blur} blur levels, "
                         f"got {tuple(noise_levels.shape)} and {tuple(blur_levels.shape)}")
    parts = [images[:n_clean]]
    if n_noise:
        parts.append(awgn_per_sample(images[n_clean:n_clean + n_noise], noise_levels, generator, clip=True))
    if n_blur:
        parts.append(blur_per_sample(images[n_clean + n_noise:], blur_levels))
    kinds = torch.cat([torch.full((k,), i, dtype=torch.int64) for i, k in enumerate((n_clean, n_noise, n_blur))])
    return torch.cat(parts), kinds.to(images.device)


def uniform_levels(n: int, maximum: float, generator: torch.Generator | None, device: torch.device | str = "cpu"
                   ) -> Tensor:
    """`[n]` float32 levels drawn from U(0, maximum) (Section 2's random per-image levels)."""
    return torch.rand(n, generator=generator, device=device) * float(maximum)


def level_grid(maximum: float, n: int = 10) -> list[float]:
    """The `n` evaluation levels 0 … maximum, equally spaced (the paper tests 10 levels, values unstated)."""
    return [float(v) for v in np.linspace(0.0, float(maximum), n)]


# =============================================================================================
# Ensembles (Eq. 1–3)


def _check_probs(probs: Tensor) -> None:
    if probs.ndim != 3:
        raise ValueError(f"probs must be [N, experts, C] softmax rows, got shape {tuple(probs.shape)}")


def ensemble_avg(probs: Tensor) -> Tensor:
    """M_avg (Eq. 2): the mean of the experts' softmax rows. `[N, K, C]` -> `[N, C]`."""
    _check_probs(probs)
    return probs.mean(1)


def ensemble_max(probs: Tensor) -> Tensor:
    """M_max: the class of the largest single entry of P(x), argmax_j max_k P_kj (ties: lowest class
    index). `[N, K, C]` -> `[N]` int64 predictions."""
    _check_probs(probs)
    return probs.amax(1).argmax(1)


def ensemble_mix(probs: Tensor, weights: Tensor) -> Tensor:
    """M_mix (Eq. 3): w(x)ᵀP(x). `probs` `[N, K, C]`, `weights` `[N, K]` (or `[K]` for all) -> `[N, C]`."""
    _check_probs(probs)
    if weights.ndim == 1:
        weights = weights.expand(probs.shape[0], -1)
    if weights.shape != probs.shape[:2]:
        raise ValueError(f"weights {tuple(weights.shape)} do not match probs {tuple(probs.shape)}")
    return (weights.unsqueeze(2) * probs).sum(1)


def ensemble_hardmix(probs: Tensor, weights: Tensor) -> Tensor:
    """M_hardmix: the softmax row of the expert with the largest weight (ties: lowest expert index).
    `[N, K, C]`, `[N, K]` -> `[N, C]`."""
    _check_probs(probs)
    k = weights.argmax(1)
    return probs[torch.arange(len(probs), device=probs.device), k]


# =============================================================================================
# Optimal weights (Eq. 4)


PROB_FLOOR = 1e-12


def _true_class_probs(probs: Tensor, labels: Tensor) -> np.ndarray:
    """`[N, K]` float64: each expert's probability of the true class."""
    _check_probs(probs)
    if labels.shape != (probs.shape[0],):
        raise ValueError(f"labels must be [N] = [{probs.shape[0]}], got {tuple(labels.shape)}")
    if probs.shape[0] == 0:
        raise ValueError("no images to fit weights on")
    q = probs[torch.arange(len(labels), device=probs.device), :, labels.to(probs.device)]
    return q.detach().double().cpu().numpy()


def weights_objective(w: np.ndarray, q: np.ndarray) -> float:
    """Eq. 4 as a mean: −mean_x log(wᵀ q_x), with wᵀq clipped at `PROB_FLOOR` (safe off the simplex)."""
    return float(-np.mean(np.log(np.maximum(q @ w, PROB_FLOOR))))


def _weights_grad(w: np.ndarray, q: np.ndarray) -> np.ndarray:
    mix = q @ w
    inside = mix > PROB_FLOOR
    return -(q * (inside / np.maximum(mix, PROB_FLOOR))[:, None]).mean(0)


def _slsqp(q: np.ndarray, ftol: float = 1e-12, maxiter: int = 1000) -> tuple[np.ndarray, scipy.optimize.OptimizeResult]:
    k = q.shape[1]
    res = scipy.optimize.minimize(
        weights_objective, np.full(k, 1.0 / k), args=(q,), jac=_weights_grad, method="SLSQP",
        bounds=[(0.0, 1.0)] * k,
        constraints=[{"type": "eq", "fun": lambda w: np.sum(w) - 1.0, "jac": lambda w: np.ones_like(w)}],
        options={"ftol": ftol, "maxiter": maxiter})
    w = np.clip(res.x, 0.0, 1.0)        # SLSQP may step marginally outside its bounds
    return w / w.sum(), res


def optimal_weights(probs: Tensor, labels: Tensor) -> Tensor:
    """Eq. 4 by SLSQP: the expert weights on the simplex that maximise the mean log-probability of the
    true class under the mixture w ᵀ P(x).

    Args:
        probs: `[N, K, C]` softmax rows of the K experts (K = 3 in the paper) on the images of one
            distortion type and level.
        labels: `[N]` int64 true classes.

    Returns:
        `[K]` float64 weights, ≥ 0, summing to 1 (SLSQP, bounds [0, 1], equality sum = 1, analytic
        gradient, start at uniform, ftol 1e-12).
    """
    w, _ = _slsqp(_true_class_probs(probs, labels))
    return torch.from_numpy(w)


def optimal_weights_em(probs: Tensor, labels: Tensor, tol: float = 1e-12, max_iter: int = 100_000) -> Tensor:
    """The same optimum by EM for mixture weights: w_k ← mean_x[w_k q_kx / Σ_j w_j q_jx] (monotone,
    stays on the simplex). Shapes as `optimal_weights`; stops when no weight moves more than `tol` or the
    certified objective gap is ≤ 1e-14 nats (`_em`)."""
    w, _ = _em(_true_class_probs(probs, labels), tol, max_iter)
    return torch.from_numpy(w)


def _em(q: np.ndarray, tol: float, max_iter: int, gap_tol: float = 1e-14) -> tuple[np.ndarray, int]:
    """EM from uniform weights. Stops when no weight moves more than `tol`, or when the certified
    objective gap log(max_k r_k) ≤ `gap_tol` (r_k = mean_x q_kx / wᵀq_x; by Jensen, mean log-likelihood
    at the optimum − at w ≤ log max_k r_k), which ends EM's slow crawl on flat optima."""
    k = q.shape[1]
    w = np.full(k, 1.0 / k)
    for it in range(1, max_iter + 1):
        mix = np.maximum(q @ w, PROB_FLOOR)
        r = (q / mix[:, None]).mean(0)
        if np.log(r.max()) <= gap_tol:
            return w, it
        new = w * r
        new /= new.sum()
        if np.abs(new - w).max() < tol:
            return new, it
        w = new
    return w, max_iter


@dataclass
class WeightSolution:
    """Eq. 4 solved twice. `slsqp`, `em`: `[K]` weights; `objective_*`: mean −log-likelihood (nats);
    `max_diff`: max |slsqp − em|; `agree`: max_diff ≤ tol; `slsqp_success`/`slsqp_message` from SciPy;
    `em_iterations`; `n`: images."""

    slsqp: np.ndarray
    em: np.ndarray
    objective_slsqp: float
    objective_em: float
    max_diff: float
    agree: bool
    slsqp_success: bool
    slsqp_message: str
    em_iterations: int
    n: int


def solve_weights(probs: Tensor, labels: Tensor, tol: float = 1e-4, warn: bool = True) -> WeightSolution:
    """Eq. 4 by SLSQP, cross-checked by EM; warns (and says so in the result) when they differ by more
    than `tol` in any weight. Shapes as `optimal_weights`."""
    q = _true_class_probs(probs, labels)
    w_s, res = _slsqp(q)
    w_e, iters = _em(q, 1e-12, 100_000)
    diff = float(np.abs(w_s - w_e).max())
    sol = WeightSolution(w_s, w_e, weights_objective(w_s, q), weights_objective(w_e, q), diff, diff <= tol,
                         bool(res.success), str(res.message), iters, len(q))
    if warn and not sol.agree:
        warnings.warn(f"Eq. 4: SLSQP and EM weights differ by {diff:.2e} > {tol:g} (SLSQP {np.round(w_s, 5)}, "
                      f"objective {sol.objective_slsqp:.8f}; EM {np.round(w_e, 5)}, objective "
                      f"{sol.objective_em:.8f}; SLSQP: {res.message})", stacklevel=2)
    return sol


# =============================================================================================
# Gating loss (Eq. 5) and the metric


def gate_loss(g: Tensor, target: Tensor, lam: float = 0.01) -> Tensor:
    """Eq. 5 per image, averaged over the batch: ‖g(x) − w_{d,v}‖² + λ‖g(x)‖².

    Args:
        g: `[B, K]` gate outputs (softmax weights). target: `[B, K]` optimal weights of each image's
        distortion type and level. lam: λ (paper: 0.01).

    Returns: a scalar tensor.
    """
    if g.shape != target.shape:
        raise ValueError(f"gate output {tuple(g.shape)} and targets {tuple(target.shape)} differ in shape")
    return ((g - target).pow(2).sum(1) + lam * g.pow(2).sum(1)).mean()


def gate_targets(kinds: Tensor, level_index: Tensor, table: dict[str, Tensor]) -> Tensor:
    """Per-image Eq. 5 targets from the optimal-weights table.

    Args:
        kinds: `[B]` int64, 0 clean, 1 noise, 2 blur (as `mixed_batch`).
        level_index: `[B]` int64 index into the level grid (ignored for clean images: level 0).
        table: {"noise": `[L, K]`, "blur": `[L, K]`} weights per grid level (row 0 = level 0, clean).

    Returns: `[B, K]` float32.
    """
    noise, blur = table["noise"].float(), table["blur"].float()
    idx = torch.where(kinds == 0, torch.zeros_like(level_index), level_index).cpu()
    out = torch.where((kinds.cpu() == 2)[:, None], blur[idx], noise[idx])
    return out.to(kinds.device)


def auc(levels: Sequence[float], accuracy: Sequence[float]) -> float:
    """Area under the accuracy-vs-level curve by the trapezoid rule, normalised by the level range:
    1.00 means 100% accuracy at every level (the paper's normalisation).

    Args:
        levels: strictly increasing distortion levels (any unit; ≥ 2 of them).
        accuracy: accuracy at each level as a fraction in [0, 1].
    """
    x, y = np.asarray(levels, dtype=np.float64), np.asarray(accuracy, dtype=np.float64)
    if x.ndim != 1 or x.shape != y.shape or len(x) < 2:
        raise ValueError(f"need ≥ 2 levels and one accuracy per level, got {x.shape} and {y.shape}")
    if not np.all(np.diff(x) > 0):
        raise ValueError(f"levels must be strictly increasing, got {x.tolist()}")
    if not np.all((y >= 0) & (y <= 1)):
        raise ValueError("accuracy must be fractions in [0, 1]")
    return float(trapezoid(y, x) / (x[-1] - x[0]))


def auc_mean(accuracy: Sequence[float]) -> float:
    """The plain mean accuracy over the levels (the rectangle-rule variant)."""
    y = np.asarray(accuracy, dtype=np.float64)
    if y.ndim != 1 or len(y) == 0:
        raise ValueError("need a non-empty vector of accuracies")
    return float(y.mean())


# =============================================================================================
# Training


@dataclass(frozen=True)
class SGDConfig:
    """The paper's fine-tuning recipe: SGD with momentum, constant lr, no weight decay, early stopping
    on the validation loss (checked every `eval_every` steps), best weights kept."""

    lr: float = 0.001
    momentum: float = 0.9
    batch_size: int = 32
    max_epochs: int = 3
    eval_every: int = 0         # steps; 0 = once per epoch
    patience: int = 2           # evaluations without improvement before stopping


@dataclass
class FitHistory:
    """Per evaluation: step, validation loss; the best step; steps run; images per second."""

    steps: list[int] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    best_step: int = 0
    total_steps: int = 0
    images_per_s: float = 0.0


def _set_train(model: nn.Module, frozen: Sequence[nn.Module]) -> None:
    model.train()
    for m in frozen:
        m.eval()


def fit_sgd(model: nn.Module, n: int, batch_loss: Callable[[Tensor, int], Tensor],
            val_loss: Callable[[nn.Module], float], config: SGDConfig, seed: int,
            frozen: Sequence[nn.Module] = (), device: torch.device | str = "cpu",
            lr_for: Callable[[str], float] | None = None) -> FitHistory:
    """SGD with momentum on `model` in place, early stopping on `val_loss`, best weights kept (step 0 included).

    Args:
        n: training set size; each epoch visits a fresh permutation in batches of `config.batch_size`.
        batch_loss: (`[B]` int64 indices into the training set, step) -> scalar loss to minimise.
        val_loss: model -> validation loss (called in eval mode).
        frozen: modules that stay fixed: no updates, eval mode (BN statistics frozen too).
        device: where the permutation is drawn (the training tensors' device).
        lr_for: parameter name -> learning rate (e.g. 10× for a new last layer); default `config.lr`.
    """
    g = torch.Generator(device=device).manual_seed(int(seed))
    torch.manual_seed(int(seed))
    named = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    if not named:
        raise ValueError("nothing to train: every parameter is frozen")
    rates = {name: (lr_for(name) if lr_for else config.lr) for name, _ in named}
    groups = [{"params": [p for name, p in named if rates[name] == lr], "lr": lr} for lr in sorted(set(rates.values()))]
    opt = torch.optim.SGD(groups, lr=config.lr, momentum=config.momentum)
    per_epoch = max(1, n // config.batch_size)
    every = config.eval_every or per_epoch
    total = per_epoch * config.max_epochs
    hist = FitHistory()
    model.eval()
    best = val_loss(model)
    best_state = copy.deepcopy(model.state_dict())
    hist.steps.append(0)
    hist.val_loss.append(best)
    bad, step, t0 = 0, 0, time.perf_counter()
    _set_train(model, frozen)
    while step < total:
        perm = torch.randperm(n, generator=g, device=device)
        for b in range(per_epoch):
            loss = batch_loss(perm[b * config.batch_size:(b + 1) * config.batch_size], step)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            if step % every == 0 or step == total:
                model.eval()
                v = val_loss(model)
                hist.steps.append(step)
                hist.val_loss.append(v)
                if v < best:
                    best, best_state, bad, hist.best_step = v, copy.deepcopy(model.state_dict()), 0, step
                else:
                    bad += 1
                _set_train(model, frozen)
                if bad >= config.patience:
                    total = step
            if step >= total:
                break
    hist.total_steps = step
    hist.images_per_s = step * config.batch_size / max(time.perf_counter() - t0, 1e-9)
    model.load_state_dict(best_state)
    model.eval()
    return hist


def train_classifier(model: nn.Module, images: Tensor, labels: Tensor, make_batch: Callable[[Tensor, int], Tensor],
                     val_loss: Callable[[nn.Module], float], config: SGDConfig, seed: int,
                     frozen: Sequence[nn.Module] = (), lr_for: Callable[[str], float] | None = None) -> FitHistory:
    """Fine-tune a classifier on cross-entropy with `fit_sgd` (the paper's recipe).

    Args:
        model: logits for `[B, 3, H, W]` float input in [0, 1].
        images: `[N, 3, H, W]` uint8 training images on the model's device; labels `[N]` int64.
        make_batch: (uint8 batch `[B, 3, H, W]`, step) -> float batch in [0, 1] (e.g. via `mixed_batch`).
        lr_for: parameter name -> learning rate (see `fit_sgd`).
    """
    def batch_loss(idx: Tensor, step: int) -> Tensor:
        return F.cross_entropy(model(make_batch(images[idx], step)), labels[idx])

    return fit_sgd(model, len(images), batch_loss, val_loss, config, seed, frozen, images.device, lr_for)


def train_gate(gate: GatingNet, images: Tensor, make_batch: Callable[[Tensor, int], tuple[Tensor, Tensor]],
               val_loss: Callable[[nn.Module], float], config: SGDConfig, seed: int, lam: float = 0.01) -> FitHistory:
    """Train the gating network on Eq. 5 with `fit_sgd`.

    Args:
        images: `[N, 3, H, W]` uint8 training images on the gate's device.
        make_batch: (uint8 batch, step) -> (float batch in [0, 1], `[B, K]` targets).
        val_loss: gate -> mean Eq. 5 loss on the validation set.
    """
    def batch_loss(idx: Tensor, step: int) -> Tensor:
        x, target = make_batch(images[idx], step)
        return gate_loss(gate(x), target, lam)

    return fit_sgd(gate, len(images), batch_loss, val_loss, config, seed, (), images.device)


# =============================================================================================
# Fig. 3 proxy


def silent_channels(acts: Tensor, threshold: float = 0.0) -> Tensor:
    """Which channels never fire: `acts` `[N, C, H, W]` post-ReLU activations -> `[C]` bool, True where
    the channel's maximum over images and positions is ≤ `threshold`."""
    if acts.ndim != 4:
        raise ValueError(f"acts must be [N, C, H, W], got {tuple(acts.shape)}")
    return acts.amax((0, 2, 3)) <= threshold


def activation_maximisation(model: VGG16, layer: str, channels: Sequence[int], steps: int, size: int,
                            seed: int, lr: float = 0.05) -> tuple[Tensor, Tensor, Tensor]:
    """Inputs that maximise the mean response of single channels of `layer` (Erhan et al.), one image
    per channel, optimised together (Adam on pixel logits, pixels = sigmoid(logits) in [0, 1]).

    Args:
        model: in eval mode (BN on stored statistics). layer: a `LAYERS` conv name (its post-ReLU,
            post-pool output). channels: channel indices. steps: Adam steps. size: image side (px).
        seed: the random start (the same start for every model, so runs are comparable).

    Returns:
        (`[K, 3, size, size]` float images in [0, 1], `[K]` response at the random start, `[K]` response
        after the last step), responses = the channel's mean activation.
    """
    k = len(channels)
    after = LAYERS[_layer_index(layer) + 1]
    idx = torch.as_tensor(list(channels), dtype=torch.int64)
    dev = next(model.parameters()).device
    g = torch.Generator().manual_seed(int(seed))
    logits = (torch.randn((k, 3, size, size), generator=g) * 0.5).to(dev).requires_grad_(True)
    for p in model.parameters():
        p.requires_grad_(False)

    def response(z: Tensor) -> Tensor:
        a = model.lower(torch.sigmoid(z), after)                     # [K, C, h, w]
        return a[torch.arange(k, device=dev), idx.to(dev)].mean((1, 2))

    try:
        with torch.no_grad():
            start = response(logits).detach().cpu()
        opt = torch.optim.Adam([logits], lr=lr)
        for _ in range(steps):
            loss = -response(logits).sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        with torch.no_grad():
            end = response(logits).detach().cpu()
    finally:
        for p in model.parameters():
            p.requires_grad_(True)
    return torch.sigmoid(logits).detach().cpu(), start, end
