"""Thesis ch. 3's algorithms: the single-step L2 gradient attack (GA), Aug-MSROI maps (MS-ROI maps averaged over
randomly perturbed inputs and activations), semantic JPEG at fixed quality levels (Algorithm 1 of ch. 2 with
Q_f = the top level's quality), standard JPEG round trips, and the image-quality numbers of Table 3.1.

Conventions: images are float32 `[N, 3, H, W]` in [0, 1] (tensors) unless stated; JPEG works on uint8 (the
float image rounded to 0–255); saliency maps are float32 `[N, H, W]` in [0, 1]; qualities are IJG 1–100.
No Config and no I/O here.
"""
from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lib import attacks, iqa
from lib import jpeg as jpeg_lib
from lib.papers.msroi import method as msroi_method

_UNIT = {"4:4:4": 8, "4:2:0": 16}


# ---------------------------------------------------------------------------------------------
# GA: single-step L2 gradient attack (§3.3)


def gradient_attack(model: nn.Module, images: Tensor, labels: Tensor, budget: float) -> Tensor:
    """GA: one step x' = x + ε·G/‖G‖₂ along the loss gradient G = ∇_x CE(model(x), y), at an exact RMSE.

    ε is set per image so that the normalised RMSE sqrt(mean((x' − x)²)) equals `budget` after clipping to
    [0, 1] (without clipping ε = budget·sqrt(C·H·W); with it, `lib.attacks.scale_to_budget` stretches the step
    along G's direction until the clipped RMSE is the budget). Images whose gradient is zero are returned as is.

    Args:
        model: logits model on [0, 1] images (eval mode is used and restored; parameters are not changed).
        images: float `[N, 3, H, W]` in [0, 1]. labels: int64 `[N]` (the thesis attacks the clean prediction).
        budget: normalised RMSE on [0, 1] pixels, in (0, 1].

    Returns:
        float32 `[N, 3, H, W]` in [0, 1].
    """
    if not isinstance(images, Tensor) or images.dim() != 4 or not images.is_floating_point():
        raise ValueError("images must be a float tensor [N, C, H, W] in [0, 1]")
    if images.numel() and (images.min() < 0 or images.max() > 1):
        raise ValueError("images must lie in [0, 1]")
    if not (isinstance(budget, (int, float)) and 0 < budget <= 1):
        raise ValueError(f"budget must be a normalised RMSE in (0, 1], got {budget!r}")
    labels = torch.as_tensor(labels, device=images.device)
    if labels.shape != images.shape[:1]:
        raise ValueError(f"labels must be [N] = [{len(images)}], got {tuple(labels.shape)}")
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad():
            x = images.detach().float().clone().requires_grad_(True)
            loss = F.cross_entropy(model(x), labels, reduction="sum")
            grad, = torch.autograd.grad(loss, x)
    finally:
        model.train(was_training)
    x0 = images.detach().float()
    norm = grad.flatten(1).norm(dim=1)
    radius = budget * math.sqrt(x0[0].numel())
    step = torch.where(norm[:, None, None, None] > 0, grad / norm.clamp_min(1e-30)[:, None, None, None],
                       torch.zeros_like(grad))
    direction = x0 + radius * step          # unclipped: scale_to_budget clips and solves the exact step size
    out = attacks.scale_to_budget(x0, direction, float(budget))
    return torch.where((norm > 0)[:, None, None, None], out, x0).float()


# ---------------------------------------------------------------------------------------------
# MS-ROI and Aug-MSROI maps of float images


def net_input(images: Tensor, side: int) -> Tensor:
    """float `[N, 3, H, W]` in [0, 1] -> the map network's input, longer side `side` (antialiased bilinear, the
    same resize as `lib.papers.msroi.method.resize_for_map`, which takes uint8)."""
    h, w = images.shape[-2:]
    scale = side / max(h, w)
    size = (max(8, round(h * scale)), max(8, round(w * scale)))
    x = images.float()
    if size != (h, w):
        x = F.interpolate(x, size=size, mode="bilinear", antialias=True, align_corners=False)
    return x


def translate(x: Tensor, dy: int, dx: int) -> Tensor:
    """Shift `[..., H, W]` by (dy, dx) whole pixels (content moves down/right for positive values), filling the
    uncovered border by replicating the edge."""
    if dy == 0 and dx == 0:
        return x
    h, w = x.shape[-2:]
    p = max(abs(dy), abs(dx))
    lead = x.shape[:-2]
    flat = x.reshape(-1, 1, h, w)
    padded = F.pad(flat, (p, p, p, p), mode="replicate")
    out = padded[..., p - dy:p - dy + h, p - dx:p - dx + w]
    return out.reshape(*lead, h, w)


@contextlib.contextmanager
def activation_noise(net: msroi_method.MSROINet, scale: float, generator: torch.Generator) -> Iterator[None]:
    """Add N(0, (scale·std)²) to the output of every ReLU of the map network's trunk while active (forward
    hooks). `std` is each image's standard deviation of that activation (so the noise of one image does not
    depend on the rest of the batch); draws come from `generator` (CPU). scale 0 adds nothing."""
    hooks = []
    if scale > 0:
        def hook(_module, _inputs, out):
            std = out.flatten(1).std(1).view(-1, *([1] * (out.dim() - 1)))
            noise = torch.randn(out.shape, generator=generator).to(out.device, out.dtype)
            return out + scale * std * noise

        hooks = [m.register_forward_hook(hook) for m in net.trunk if isinstance(m, nn.ReLU)]
    try:
        yield
    finally:
        for h in hooks:
            h.remove()


@torch.no_grad()
def aug_msroi_maps(net: msroi_method.MSROINet, images: Tensor, side: int, weights: Sequence[float], n: int = 5,
                   sigma_in: float = 0.0, act_scale: float = 0.0, shift: int = 0,
                   generator: torch.Generator | None = None, keep_each: bool = False, batch: int = 256
                   ) -> tuple[Tensor, Tensor | None]:
    """Aug-MSROI (§3.6): the MS-ROI map averaged over `n` randomly perturbed passes of the map network.

    Each pass perturbs (i) the input with Gaussian noise of std `sigma_in` (on [0, 1] pixels, then clipped) and a
    random integer translation of up to ±`shift` image pixels (undone on the map: the "jittered inputs" of
    Fig. 3.4), and (ii) every trunk activation with `activation_noise(act_scale)`. Each pass gives the rank-weighted
    map of its own top classes (eq 2.5 in practice, `lib.papers.msroi.method.rank_weighted`); the passes are
    averaged, resized to the image and min-max normalised. With sigma_in = act_scale = shift = 0 every pass is
    the plain MS-ROI map, so the result equals `lib.papers.msroi.method.msroi_map` (any n).

    Args:
        net: trained `MSROINet` in eval mode. images: float `[N, 3, H, W]` in [0, 1].
        side: the network's input side (the image's longer side is resized to it).
        weights: rank weights of the top classes. n: passes (≥ 1).
        generator: CPU generator of the perturbations (None: a fresh one seeded 0).
        keep_each: also return each pass's map (Fig. 3.4).

    Returns:
        (maps float32 `[N, H, W]` in [0, 1], each float32 `[n, N, H, W]` in [0, 1] or None), on images' device.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if sigma_in < 0 or act_scale < 0 or shift < 0:
        raise ValueError(f"perturbation scales must be >= 0, got sigma_in={sigma_in} act_scale={act_scale} "
                         f"shift={shift}")
    if images.dim() != 4 or not images.is_floating_point():
        raise ValueError("images must be a float tensor [N, 3, H, W] in [0, 1]")
    g = generator if generator is not None else torch.Generator().manual_seed(0)
    size = tuple(images.shape[-2:])
    outs, each_out = [], []
    for start in range(0, len(images), batch):
        x = net_input(images[start:start + batch], side)
        px = x.shape[-1] / size[1]                     # map-input pixels per image pixel
        total, each = None, []
        for _ in range(n):
            dy, dx = (torch.randint(-shift, shift + 1, (2,), generator=g).tolist() if shift > 0 else (0, 0))
            dy, dx = round(dy * px), round(dx * px)
            xi = x
            if sigma_in > 0:
                xi = (xi + sigma_in * torch.randn(xi.shape, generator=g).to(xi.device)).clamp(0, 1)
            xi = translate(xi, dy, dx)
            with activation_noise(net, act_scale, g):
                z, per_class = net.scores(xi)
            m, _ = msroi_method.rank_weighted(per_class, z, weights)               # [B, h, w]
            if shift > 0:   # undo the jitter at the input's resolution
                m = F.interpolate(m[:, None], size=tuple(x.shape[-2:]), mode="bilinear", align_corners=False)[:, 0]
                m = translate(m, -dy, -dx)
            total = m if total is None else total + m
            if keep_each:
                each.append(msroi_method._to_size(m, size))
        outs.append(msroi_method._to_size(total / n, size))
        if keep_each:
            each_out.append(torch.stack(each))
    maps = torch.cat(outs) if outs else images.new_zeros((0, *size))
    return maps, (torch.cat(each_out, 1) if keep_each and each_out else None)


# ---------------------------------------------------------------------------------------------
# JPEG defences


def to_uint8(images: Tensor) -> np.ndarray:
    """float `[N, 3, H, W]` in [0, 1] -> uint8 `[N, H, W, 3]` (rounded), the JPEG encoders' input."""
    return (images.detach().float().clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


def from_uint8(arrays: np.ndarray, like: Tensor) -> Tensor:
    """uint8 `[N, H, W, 3]` -> float32 `[N, 3, H, W]` in [0, 1] on `like`'s device."""
    return torch.from_numpy(np.ascontiguousarray(arrays)).permute(0, 3, 1, 2).float().div(255).to(like.device)


def _roundtrip(arrays: np.ndarray, quality: float, subsampling: str) -> np.ndarray:
    """Pillow JPEG encode + decode of each uint8 `[H, W, 3]` of `[N, H, W, 3]` (inherently one call per image)."""
    return np.stack([jpeg_lib.decode(jpeg_lib.pillow_jpeg(a, quality, subsampling)) for a in arrays]) \
        if len(arrays) else arrays.copy()


def standard_jpeg(images: Tensor, quality: float, subsampling: str = "4:4:4") -> Tensor:
    """Standard JPEG defence: float `[N, 3, H, W]` in [0, 1] -> decoded JPEG at `quality`, float in [0, 1]."""
    if not 1 <= float(quality) <= 100:
        raise ValueError(f"quality must be in [1, 100], got {quality!r}")
    return from_uint8(_roundtrip(to_uint8(images), quality, subsampling), images)


def level_set(k: int, q_low: float, q_high: float, shift: float) -> np.ndarray:
    """The k level qualities Q_l…Q_h in equal steps (ch. 2's "increments of ten" for 30…70, k = 5), all shifted by
    `shift` and clipped to [1, 100]: float `[k]`."""
    return np.clip(jpeg_lib.level_qualities(k, q_low, q_high, "k-1") + shift, 1.0, 100.0)


def semantic_jpeg(images: Tensor, saliency: Tensor, qualities: Sequence[float], subsampling: str = "4:4:4"
                  ) -> tuple[Tensor, np.ndarray]:
    """Semantic JPEG at fixed levels (Algorithm 1 of ch. 2; ch. 3 quantises "non-salient blocks strongly, salient
    blocks weakly"): each 8×8 block (16×16 MCU with 4:2:0) takes the mean of its saliency, is put in level
    n = min(k−1, ceil(s·k) − 1) and takes the pixels of the whole image's JPEG at `qualities[n]`; the mosaic is
    encoded once more at Q_f = the top level's quality (our choice: ch. 3 does not state Q_f) and decoded.

    Args:
        images: float `[N, 3, H, W]` in [0, 1]. saliency: float `[N, H, W]` in [0, 1].
        qualities: k increasing level qualities in [1, 100].

    Returns:
        (decoded float32 `[N, 3, H, W]` in [0, 1], the share of pixels in the top level per image float `[N]`).
    """
    q = np.asarray(qualities, dtype=float)
    if q.ndim != 1 or len(q) < 1 or (q < 1).any() or (q > 100).any():
        raise ValueError(f"qualities must be k values in [1, 100], got {qualities!r}")
    if saliency.shape != (images.shape[0], *images.shape[-2:]):
        raise ValueError(f"saliency must be [N, H, W] = {(images.shape[0], *images.shape[-2:])}, got "
                         f"{tuple(saliency.shape)}")
    unit = _UNIT[subsampling]
    arrays = to_uint8(images)                                                     # [N, H, W, 3]
    n, h, w = saliency.shape
    sal = saliency.detach().float()[:, None]
    hb, wb = math.ceil(h / unit), math.ceil(w / unit)
    pad = (0, wb * unit - w, 0, hb * unit - h)
    block = F.avg_pool2d(F.pad(sal, pad, mode="replicate"), unit)[:, 0].cpu().numpy()   # [N, hb, wb]
    level = jpeg_lib.saliency_levels(block, len(q))                                     # [N, hb, wb]
    pixel_level = np.repeat(np.repeat(level, unit, 1), unit, 2)[:, :h, :w]              # [N, H, W]
    stack = np.stack([_roundtrip(arrays, float(qn), subsampling) for qn in q])          # [k, N, H, W, 3]
    mosaic = np.take_along_axis(stack, pixel_level[None, :, :, :, None], axis=0)[0]     # [N, H, W, 3]
    out = _roundtrip(mosaic, float(q[-1]), subsampling)
    return from_uint8(out, images), (pixel_level == len(q) - 1).reshape(n, -1).mean(1)


# ---------------------------------------------------------------------------------------------
# Table 3.1's image-quality numbers


def quality_numbers(reference: Tensor, images: Tensor) -> dict[str, np.ndarray]:
    """Per image, `images` against `reference` (both float `[N, 3, H, W]` in [0, 1]):

    rmse255: RMSE on RGB 0–255 (Table 3.1's "MSE" column behaves like this, see paper.py); psnr: RGB PSNR in dB
    (peak 255, per image; inf for identical images); ssim: SSIM on BT.601 luma of the uint8-rounded images
    (`lib.iqa.ssim`: Gaussian 11×11, σ 1.5). Arrays float64 `[N]`.
    """
    if reference.shape != images.shape:
        raise ValueError(f"shapes differ: {tuple(reference.shape)} vs {tuple(images.shape)}")
    d = (images.double() - reference.double()).flatten(1) * 255
    rmse = d.pow(2).mean(1).sqrt().cpu().numpy()
    with np.errstate(divide="ignore"):
        psnr = np.where(rmse > 0, 20 * np.log10(255.0 / np.maximum(rmse, 1e-300)), np.inf)
    ref8, img8 = to_uint8(reference), to_uint8(images)
    ssim = np.array([iqa.ssim(iqa.luma(a), iqa.luma(b)) for a, b in zip(ref8, img8)], dtype=float)
    return {"rmse255": rmse, "psnr": psnr, "ssim": ssim}


def map_correlation(a: Tensor, b: Tensor) -> Tensor:
    """Pearson correlation per image of two maps `[N, H, W]` -> float32 `[N]` (0 where a map is constant)."""
    x, y = a.flatten(1).double(), b.flatten(1).double()
    x, y = x - x.mean(1, keepdim=True), y - y.mean(1, keepdim=True)
    den = (x.pow(2).sum(1) * y.pow(2).sum(1)).sqrt()
    return torch.where(den > 0, (x * y).sum(1) / den.clamp_min(1e-300), torch.zeros_like(den)).float()
