"""Bartschat et al.: the distortions on the paper's [−1, 1] scale, training at a distortion level, evaluation.

Pixel convention here: images are float32 `[N, 3, H, W]` on the paper's scale x = u8 / 127.5 − 1 ∈ [−1, 1]
(`to_pm1`). One unit on this scale is 127.5 grey levels of the 8-bit image.

Distortions (§2.3, levels σ ∈ {0, 0.01, 0.05, 0.1, 0.5, 1, 5}):
    noise  x + σ·N(0, 1) per pixel and channel, σ on the [−1, 1] scale, added after normalisation,
           **no clipping and no 8-bit quantisation** (the paper: "small changes are kept in the image and
           not discarded due to rounding"); σ = 1 is 127.5 grey levels.
    blur   per-channel Gaussian with std σ in pixels, scipy semantics (`scipy.ndimage.gaussian_filter`,
           truncate 4.0 → radius int(4σ + 0.5), border 'reflect'), via `lib.distortions.blur_per_sample`.
           Radius 0 for σ < 0.125, so **blur at σ ∈ {0.01, 0.05, 0.1} is the identity**: those models see
           clean images and differ from the σ = 0 model only by training randomness. At σ = 5 the kernel
           (radius 20, 41 taps) exceeds the 32-pixel image and the reflected border matters.

Training (`train`): SGD with momentum, cosine learning-rate decay to 0, weight decay, cross-entropy; a
fresh distortion draw per batch at the model's training level (augmentation-like; the paper does not say
whether noise is fixed per image). Every random draw comes from generators seeded by the caller's seed.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lib import distortions

KINDS = ("noise", "blur")


def to_pm1(images: Tensor) -> Tensor:
    """uint8 `[N, 3, H, W]` (0–255) → float32 on the [−1, 1] scale (u8 / 127.5 − 1)."""
    if images.dtype != torch.uint8:
        raise ValueError(f"expected uint8 images (0–255), got {images.dtype}")
    return images.float().div_(127.5).sub_(1.0)


def distort(x: Tensor, kind: str, sigma: float, generator: torch.Generator | None = None) -> Tensor:
    """One distortion of `x` (float `[N, 3, H, W]`, [−1, 1] scale) at level `sigma` (module docstring).

    noise: σ on the [−1, 1] scale, no clipping or quantisation; blur: σ in pixels (scipy rule, reflect).
    σ = 0 returns `x` unchanged (a copy). The noise draw comes from `generator` (on x's device).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown distortion {kind!r}; valid: {', '.join(KINDS)}")
    if not (sigma >= 0 and math.isfinite(sigma)):
        raise ValueError(f"sigma must be finite and ≥ 0, got {sigma}")
    if sigma == 0:
        return x.clone()
    if kind == "noise":
        return x + sigma * torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return distortions.blur_per_sample(x, float(sigma), rule=distortions.KernelRule.SCIPY,
                                       border=distortions.Border.REFLECT)


def blur_is_identity(sigma: float) -> bool:
    """True when the scipy-rule kernel at `sigma` pixels has radius 0 (σ < 0.125): the blur changes nothing."""
    return int(distortions.blur_radius(torch.tensor(float(sigma))).item()) == 0


@dataclass(frozen=True)
class Recipe:
    """Optimisation settings (the paper: SGD, categorical cross-entropy, 90 epochs; the rest is our choice)."""

    epochs: int
    batch_size: int = 128
    lr: float = 0.05              # peak learning rate, cosine-decayed to 0 over all steps
    momentum: float = 0.9
    weight_decay: float = 5e-4
    flip: bool = False            # random horizontal flips (the paper names no augmentation)


def train(net: nn.Module, images: Tensor, labels: Tensor, kind: str, sigma: float, recipe: Recipe,
          seed: int) -> dict:
    """Train `net` in place on `images` distorted at (`kind`, `sigma`), a fresh draw per batch.

    Args:
        net: on the compute device; maps `[B, 3, 32, 32]` [−1, 1] floats to logits `[B, 10]`.
        images: uint8 `[N, 3, 32, 32]` (0–255) on the same device; labels int64 `[N]`.
        kind, sigma: the training distortion (`distort`).
        recipe: optimisation settings.
        seed: fixes the batch order, the distortion draws and the flips (not the initialisation: see
            `archs.build`).

    Returns:
        {"loss": per-epoch mean training loss (list of floats), "seconds": wall time, "images_per_s": float}.
    """
    if len(images) != len(labels) or len(images) == 0:
        raise ValueError(f"need as many labels as images (> 0), got {len(images)} images and {len(labels)} labels")
    device = images.device
    g = torch.Generator(device=device).manual_seed(int(seed))
    steps_per_epoch = math.ceil(len(images) / recipe.batch_size)
    total = steps_per_epoch * recipe.epochs
    opt = torch.optim.SGD(net.parameters(), lr=recipe.lr, momentum=recipe.momentum,
                          weight_decay=recipe.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, total) / total)))
    net.train()
    losses, start = [], time.perf_counter()
    for _ in range(recipe.epochs):
        order = torch.randperm(len(images), generator=g, device=device)
        running = 0.0
        for b in range(steps_per_epoch):
            idx = order[b * recipe.batch_size:(b + 1) * recipe.batch_size]
            x = distort(to_pm1(images[idx]), kind, sigma, g)
            if recipe.flip:
                flip = torch.rand(len(idx), generator=g, device=device) < 0.5
                x = torch.where(flip.view(-1, 1, 1, 1), x.flip(3), x)
            loss = F.cross_entropy(net(x.contiguous(memory_format=torch.channels_last)), labels[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            running += loss.item() * len(idx)
        losses.append(running / len(images))
    seconds = time.perf_counter() - start
    net.eval()
    return {"loss": losses, "seconds": seconds, "images_per_s": recipe.epochs * len(images) / max(seconds, 1e-9)}


@torch.no_grad()
def predict(net: nn.Module, x: Tensor, batch_size: int = 500) -> Tensor:
    """Predicted classes int64 `[N]` of `x` (float `[N, 3, H, W]`, [−1, 1] scale) in eval mode."""
    net.eval()
    return torch.cat([net(x[i:i + batch_size].contiguous(memory_format=torch.channels_last)).argmax(1)
                      for i in range(0, len(x), batch_size)]) if len(x) else torch.zeros(0, dtype=torch.long)


def test_sets(images: Tensor, kind: str, sigmas: list[float], seed: int) -> dict[float, Tensor]:
    """The evaluation sets of one distortion: per level σ, `images` (uint8 `[N, 3, H, W]`) distorted once from a
    generator seeded by (`seed`, level index) → float `[N, 3, H, W]` on the [−1, 1] scale. Every model is
    evaluated on these same tensors (paired comparisons)."""
    x = to_pm1(images)
    out = {}
    for i, s in enumerate(sigmas):
        g = torch.Generator(device=images.device).manual_seed(int(seed) * 1000 + i)
        out[float(s)] = distort(x, kind, float(s), g)
    return out
