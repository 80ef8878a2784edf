"""Pixel deflection (PD), the Robust Activation Map (R-CAM) and wavelet denoising (WD): Prakash thesis ch. 4.

Thesis sections: 4.5 (Algorithm 2), 4.6 + 4.8 (R-CAM, eq 4.5; targeted deflection), 4.7 + 4.8 (wavelet
denoising, BayesShrink eq 4.6), Tables 4.6-4.8 and 4.11 (JPEG / DCT / thresholding / other denoisers).

Pipeline (one image batch `[N, 3, H, W]` float in [0, 1], thesis setting K = 100, r = 10, sigma = 0.04):

    saliency = robust_cam(model, images, top_k)                       [N, H, W] in [0, 1]  (optional)
    deflected = deflect(images, K, r, saliency, generator)            [N, 3, H, W]
    defended = wavelet_denoise(deflected, sigma)                      [N, 3, H, W]
    (or `defend(...)`, which does both; `DENOISERS` maps Table 4.11 names to the other denoisers)

Readings fixed here (details in the docstrings):

* One *deflection* (`DeflectMode.CHANNEL`, the default) copies ONE channel value from a uniformly random
  neighbour of the same channel, as the public code that produced the thesis numbers does
  (implementation notes Sec. 1); the j-th deflection of an image uses channel j mod C, so the channels
  get deflections in turn. `DeflectMode.PIXEL` is the thesis's Algorithm 2 as printed: all channels
  of the pixel are copied from one neighbour. K counts *performed* copies: locations skipped because
  of the saliency map do not count. Copies are sequential and in place (a later copy may read a value
  an earlier one wrote); the batched implementation reproduces that exactly (`apply_deflections`).
* The neighbour is uniform over the (2r+1)^2 square around the pixel (itself included) intersected
  with the image, i.e. what rejection sampling of offsets in [-r, r]^2 converges to. The public
  code's rejection test is `0 < x + a < H`, so row 0 and column 0 are never sources; we use
  `0 <= x + a < H` (an off-by-one we do not reproduce).
* Table 4.11 ablations (the thesis defines neither; both are OUR CHOICE, the defaults above are
  untouched and draw the same random numbers). `Sampler.GAUSSIAN`: per axis, offset d in [-r, r]
  with probability proportional to exp(-d^2 / (2 s^2)), s = r/2 (the thesis gives no width; r/2
  keeps ~95% of a Gaussian's mass inside the window), truncated to the window and the image.
  `Replacement.MIN/MAX/MEAN` (the guide: "presumably replace the pixel with the min/max/mean of its
  window"): the deflected entry gets that statistic of its (2r+1)^2 window intersected with the
  image, same channel, computed on the INPUT image (not the progressively deflected one); the
  locations are drawn exactly as for `RANDOM`, the source draw is unused.
* R-CAM: CAM with the final linear layer's class weights (standard CAM; the thesis's "global max
  pool" wording is taken as garbled), top-k classes in DESCENDING probability, weights 1/2^i,
  bilinear up-sampling, negatives clamped to 0, divided by the max.
* `wavelet_denoise` defaults to exactly what scikit-image 0.14's
  `denoise_wavelet(x, sigma=0.04, mode='soft', method='BayesShrink', convert2ycbcr=True,
  multichannel=True)` computed (the thesis's and public code's call), including its clipping of each
  rescaled Y/Cb/Cr channel to [0, 1], which the modern recipe of implementation notes Sec. 1 leaves out
  (`clip_channels=False` gives that recipe). float64 images: equal to the scikit-image reference to
  ~1e-15; float32 images are computed in float32 (~5e-7 from it).

Everything except the scikit-image/PIL denoisers (`bilateral`, `tv_chambolle`, `wiener_deconvolution`)
is batched over images and runs on the input tensor's device; `wavelet_denoise` with a wavelet other
than db1/haar goes through PyWavelets on the CPU (vectorised over the batch axis).
"""
from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "DeflectMode", "Sampler", "Replacement", "GAUSSIAN_STD_PER_WINDOW", "Shrink", "Conduction", "Deflections",
    "draw_deflections", "apply_deflections", "window_statistic", "apply_window_statistic", "deflect",
    "reference_deflect_loop", "CamParts", "cam_parts", "class_activation_maps", "robust_cam",
    "rgb_to_ycbcr", "ycbcr_to_rgb", "default_levels", "Coeffs", "wavedec", "waverec", "bayes_threshold",
    "visu_threshold", "sure_threshold", "wavelet_threshold", "wavelet_denoise",
    "reference_wavelet_denoise", "bilateral", "anisotropic_diffusion", "tv_chambolle",
    "wiener_deconvolution", "jpeg", "dct_denoise", "DENOISERS", "defend",
]


class DeflectMode(str, Enum):
    """What one deflection copies (plain strings accepted)."""

    CHANNEL = "channel"   # one channel value from a neighbour in the same channel (public code)
    PIXEL = "pixel"       # the whole pixel (all channels) from one neighbour (thesis Algorithm 2)


class Sampler(str, Enum):
    """How a deflection's source neighbour is drawn (Table 4.11, top; plain strings accepted)."""

    UNIFORM = "uniform"     # uniform over the window inside the image (thesis, public code)
    GAUSSIAN = "gaussian"   # centred discrete Gaussian, s = GAUSSIAN_STD_PER_WINDOW * r, truncated likewise


class Replacement(str, Enum):
    """What value a deflected entry gets (Table 4.11, bottom; plain strings accepted)."""

    RANDOM = "random"   # the sampled neighbour's value (thesis, public code)
    MIN = "min"         # min of the window around the entry (inside the image), same channel
    MAX = "max"         # max of that window
    MEAN = "mean"       # mean of that window


GAUSSIAN_STD_PER_WINDOW = 0.5
"""`Sampler.GAUSSIAN`'s std per axis in units of the window r (OUR CHOICE: the thesis gives none;
s = r/2 keeps ~95% of the untruncated Gaussian's mass inside [-r, r])."""


class Shrink(str, Enum):
    """Wavelet coefficient thresholding of Table 4.8 (plain strings accepted)."""

    BAYES = "bayes"   # BayesShrink, soft (thesis default)
    VISU = "visu"     # VisuShrink (universal threshold), soft
    SURE = "sure"     # SUREShrink (Donoho & Johnstone 1995, hybrid), soft
    HARD = "hard"     # BayesShrink threshold, hard


class Conduction(str, Enum):
    """Perona-Malik edge-stopping function of `anisotropic_diffusion` (plain strings accepted)."""

    EXP = "exp"               # g(s) = exp(-(s / kappa)^2)
    QUADRATIC = "quadratic"   # g(s) = 1 / (1 + (s / kappa)^2)


# ============================================================================================
# Pixel deflection
# ============================================================================================


@dataclass(frozen=True)
class Deflections:
    """The random draws of one `deflect` call, in the order the copies are applied.

    Attributes:
        dst: `[N, K]` int64 destination index per copy: into the flattened `[C*H*W]` image in
            channel mode (`c*H*W + y*W + x`), into the flattened `[H*W]` plane in pixel mode.
        src: `[N, K]` int64 source index, same indexing; `src == dst` is a no-op copy (the offset
            (0, 0) is part of the window, and images whose saliency is 1 everywhere get only no-ops).
        mode: what a copy moves.
        shape: `(C, H, W)` of the images the draws are for.
        active: optional `[N]` bool: False for images that cannot be deflected (saliency 1
            everywhere; their copies are the no-ops `src == dst`); None means all True. Only
            `apply_window_statistic` needs it (a window statistic changes an entry even when src == dst).
    """

    dst: Tensor
    src: Tensor
    mode: DeflectMode
    shape: tuple[int, int, int]
    active: Tensor | None = None


def _sample_locations(u: Tensor, saliency: Tensor | None, hw: int) -> tuple[Tensor, Tensor]:
    """Deflected locations `[N, K]` in `[0, H*W)` and a per-image flag `[N]`: any location possible.

    Inverse-CDF sampling of the density proportional to `1 - saliency` (uniform when `saliency` is
    None) from uniforms `u` `[N, K]` float64 in [0, 1). This is the distribution of the locations the
    public code's skip-and-retry loop ends up deflecting. With a saliency of 0 everywhere the CDF is
    1, 2, ..., H*W and the index is floor(u * H*W), bit-identical to the uniform path.
    """
    n = u.shape[0]
    if saliency is None:
        return (u * hw).floor().long().clamp_(max=hw - 1), torch.ones(n, dtype=torch.bool, device=u.device)
    weight = (1.0 - saliency.to(device=u.device, dtype=torch.float64).reshape(n, hw)).clamp_(0.0, 1.0)
    cdf = weight.cumsum(1)
    total = cdf[:, -1:]
    possible = total[:, 0] > 0
    idx = torch.searchsorted(cdf, u * total, right=True).clamp_(max=hw - 1)
    return idx, possible


def _sample_in_window(centre: Tensor, u: Tensor, window: int, size: int) -> Tensor:
    """Uniform integer in `[max(0, centre - window), min(size - 1, centre + window)]`, elementwise.

    Uniform over the window's intersection with the image = what rejection sampling of offsets in
    [-window, window] converges to (per axis; the 2-D window is a product of the two intervals).
    """
    lo = (centre - window).clamp(min=0)
    hi = (centre + window).clamp(max=size - 1)
    return (lo + (u * (hi - lo + 1)).floor().long()).clamp_(max=hi)


def _sample_gaussian_in_window(centre: Tensor, u: Tensor, window: int, size: int) -> Tensor:
    """Centred, truncated discrete Gaussian integer in the same interval as `_sample_in_window`.

    `centre` `[...]` int64 in [0, size), `u` same shape float64 in [0, 1). The offset d in
    [-window, window] with `0 <= centre + d < size` has probability proportional to
    exp(-d^2 / (2 s^2)), s = `GAUSSIAN_STD_PER_WINDOW * window`. Inverse CDF: one `[2*window + 2]`
    cumulative weight table C (C[i] = weight of the offsets -window .. i-1-window), each element's
    admissible index range [lo, hi] gives the target C[lo] + u * (C[hi+1] - C[lo]), located by one
    `searchsorted` (no `[..., 2*window + 1]` tensor). window = 0 gives `centre`.
    """
    if window == 0:
        return centre.clone()
    std = GAUSSIAN_STD_PER_WINDOW * window
    d = torch.arange(-window, window + 1, dtype=torch.float64, device=u.device)
    weight = torch.exp(-d * d / (2 * std * std))
    cdf = torch.cat([torch.zeros(1, dtype=torch.float64, device=u.device), weight.cumsum(0)])
    lo = (window - centre).clamp(min=0)                        # index of the first offset inside the image
    hi = (window + size - 1 - centre).clamp(max=2 * window)    # index of the last one
    start = cdf[lo]
    target = start + u * (cdf[hi + 1] - start)
    idx = torch.searchsorted(cdf, target, right=True) - 1
    return centre + torch.minimum(torch.maximum(idx, lo), hi) - window


def draw_deflections(shape: tuple[int, int, int, int], deflections: int, window: int,
                     saliency: Tensor | None = None, generator: torch.Generator | None = None,
                     mode: DeflectMode | str = DeflectMode.CHANNEL,
                     device: torch.device | str | None = None, *,
                     sampler: Sampler | str = Sampler.UNIFORM) -> Deflections:
    """Draw the K copies of `deflect` for N images (no image data needed).

    Per image and deflection j = 0..K-1: a location p ~ density proportional to `1 - saliency[p]`
    (uniform without saliency); a source n in the (2*window+1)^2 square around p intersected with
    the image, uniform (`Sampler.UNIFORM`) or a centred truncated Gaussian per axis
    (`Sampler.GAUSSIAN`); in channel mode the channel j mod C. Random numbers are drawn in this
    order: `rand(N, K)` locations, `rand(N, K)` source rows, `rand(N, K)` source columns (float64),
    whatever the sampler, so a given generator state yields the same draws on every call and the
    same locations `dst` for both samplers.

    Args:
        shape: `(N, C, H, W)` of the images.
        deflections: K >= 0, copies per image.
        window: r >= 0, the apothem of the source square (pixels).
        saliency: optional `[N, H, W]` in [0, 1]; a location is skipped with probability equal to its
            saliency (skipped attempts do not count). Images whose saliency is 1 everywhere get no copy.
        generator: torch RNG; None uses torch's global RNG.
        mode: `channel` or `pixel` (`DeflectMode`).
        device: where to draw; default the generator's device (CPU without a generator).
        sampler: `uniform` (default) or `gaussian` (`Sampler`).

    Returns:
        `Deflections` with `[N, K]` int64 `dst` / `src` and `[N]` bool `active` on `device`.
    """
    mode = DeflectMode(mode)
    sampler = Sampler(sampler)
    n, c, h, w = shape
    if deflections < 0 or window < 0:
        raise ValueError(f"deflections and window must be >= 0, got {deflections}, {window}")
    if saliency is not None and tuple(saliency.shape) != (n, h, w):
        raise ValueError(f"saliency must be [N, H, W] = {(n, h, w)}, got {tuple(saliency.shape)}")
    if device is None:
        device = generator.device if generator is not None else torch.device("cpu")

    def uniform() -> Tensor:
        return torch.rand(n, deflections, dtype=torch.float64, generator=generator, device=device)

    loc, possible = _sample_locations(uniform(), saliency, h * w)
    y, x = loc // w, loc % w
    in_window = _sample_in_window if sampler is Sampler.UNIFORM else _sample_gaussian_in_window
    sy = in_window(y, uniform(), window, h)
    sx = in_window(x, uniform(), window, w)
    dst, src = y * w + x, sy * w + sx
    if mode is DeflectMode.CHANNEL:
        plane = (torch.arange(deflections, device=device) % c) * (h * w)
        dst, src = dst + plane, src + plane
    src = torch.where(possible[:, None], src, dst)
    return Deflections(dst, src, mode, (c, h, w), possible)


def _previous_writer(dst: Tensor, src: Tensor, space: int) -> Tensor:
    """For every copy k, the last copy j < k that wrote the entry copy k reads; k itself if none.

    `[N, K]` int64 in, `[N, K]` int64 out. One sort of the 2*N*K read/write events by (image, entry,
    time), reads of copy k at time 2k before its write at time 2k + 1; a running maximum of the write
    times, offset by the (image, entry) segment, finds the latest earlier write of the same entry.
    """
    n, k = dst.shape
    span = 2 * k + 2
    base = torch.arange(n, device=dst.device)[:, None] * space
    steps = torch.arange(k, device=dst.device).expand(n, k)
    read_key = (base + src) * span + 2 * steps
    write_key = (base + dst) * span + 2 * steps + 1
    keys = torch.cat([read_key.reshape(-1), write_key.reshape(-1)])
    order = torch.argsort(keys)
    sorted_keys = keys[order]
    is_write = (sorted_keys % 2) == 1
    running = torch.cummax(torch.where(is_write, sorted_keys, torch.full_like(sorted_keys, -1)), 0).values
    segment_start = (sorted_keys // span) * span
    found = running >= segment_start
    writer_step = torch.where(found, (running - segment_start - 1) // 2, -1)
    reads = ~is_write
    read_ids = order[reads]                       # flat position n*K + k of each read
    prev = torch.empty(n * k, dtype=torch.long, device=dst.device)
    prev[read_ids] = writer_step[reads]
    prev = prev.view(n, k)
    return torch.where(prev >= 0, prev, steps)


def _root_copy(parent: Tensor) -> Tensor:
    """Follow `parent` pointers (`[N, K]`, parent[k] <= k, roots point to themselves) to the roots.

    Pointer jumping: at most ceil(log2 K) + 1 gathers.
    """
    while True:
        nxt = parent.gather(1, parent)
        if torch.equal(nxt, parent):
            return parent
        parent = nxt


def _last_writes(dst: Tensor, space: int) -> Tensor:
    """`[N, K]` bool: copy k is the last one writing its entry (a later copy overwrites it otherwise)."""
    n, k = dst.shape
    key = (torch.arange(n, device=dst.device)[:, None] * space + dst) * k + torch.arange(k, device=dst.device)
    order = torch.argsort(key.reshape(-1))
    entry = key.reshape(-1)[order] // k
    last_sorted = torch.ones_like(entry, dtype=torch.bool)
    last_sorted[:-1] = entry[1:] != entry[:-1]
    last = torch.empty_like(last_sorted)
    last[order] = last_sorted
    return last.view(n, k)


def apply_deflections(images: Tensor, draws: Deflections) -> Tensor:
    """Apply the copies of `draws` to `images`, exactly as a sequential in-place loop would.

    A sequential loop `for k: I[dst_k] = I[src_k]` reads, at copy k, the value the last earlier copy
    wrote into `src_k`, or the original value if none did. So each copy's value is the original value
    at the source of the root of its chain of earlier writers (`_previous_writer`, `_root_copy`), and
    each entry ends with the value of the last copy writing it (`_last_writes`). No approximation:
    the result equals the loop bit for bit (tests replay the loop).

    Args:
        images: `[N, C, H, W]` float (any range), not modified.
        draws: from `draw_deflections` for this shape (on any device; moved to the images' device).

    Returns:
        `[N, C, H, W]` new tensor, same dtype and device.
    """
    n, c, h, w = images.shape
    if (c, h, w) != draws.shape or draws.dst.shape[0] != n:
        raise ValueError(f"draws are for {draws.shape} x {draws.dst.shape[0]}, images are {tuple(images.shape)}")
    out = images.clone(memory_format=torch.contiguous_format)
    if draws.dst.shape[1] == 0:
        return out
    dst, src = draws.dst.to(images.device), draws.src.to(images.device)
    space = c * h * w if draws.mode is DeflectMode.CHANNEL else h * w
    root = _root_copy(_previous_writer(dst, src, space))
    value_src = src.gather(1, root)
    last = _last_writes(dst, space)
    img_idx = torch.arange(n, device=images.device)[:, None].expand(n, dst.shape[1])[last]
    if draws.mode is DeflectMode.CHANNEL:
        flat_in, flat_out = images.reshape(n, space), out.view(n, space)
        flat_out[img_idx, dst[last]] = flat_in[img_idx, value_src[last]]
    else:
        flat_in, flat_out = images.reshape(n, c, space), out.view(n, c, space)
        flat_out[img_idx, :, dst[last]] = flat_in[img_idx, :, value_src[last]]
    return out


def window_statistic(images: Tensor, window: int, statistic: Replacement | str) -> Tensor:
    """Min, max or mean of every entry's (2*window+1)^2 window intersected with the image, per channel.

    Out-of-image cells never count: min/max pad with +inf/-inf, the mean divides by the number of
    in-image cells (`avg_pool2d(count_include_pad=False)`). The window is a product of two intervals,
    so each statistic is computed separably (rows, then columns: O(H W r) per channel). The
    apothem is clamped per axis to size - 1 (then the window spans that whole axis: what the thesis's
    "if r > min(H, W), the neighbourhood is the whole image" amounts to), which also keeps the
    padding within pooling's limit of half the kernel.

    Args:
        images: `[N, C, H, W]` float (any range).
        window: r >= 0.
        statistic: `min`, `max` or `mean` (`Replacement`; `random` is not a statistic).

    Returns:
        `[N, C, H, W]` same dtype and device. The mean is rounded like a pooling sum (~1 ulp per term).
    """
    statistic = Replacement(statistic)
    if statistic is Replacement.RANDOM:
        raise ValueError("window_statistic needs min, max or mean")
    if window < 0:
        raise ValueError(f"window must be >= 0, got {window}")
    h, w = images.shape[-2:]
    ry, rx = min(window, h - 1), min(window, w - 1)
    if statistic is Replacement.MEAN:
        x = F.avg_pool2d(images, (2 * ry + 1, 1), stride=1, padding=(ry, 0), count_include_pad=False)
        return F.avg_pool2d(x, (1, 2 * rx + 1), stride=1, padding=(0, rx), count_include_pad=False)
    sign = 1.0 if statistic is Replacement.MAX else -1.0
    x = F.pad(sign * images, (0, 0, ry, ry), value=-math.inf)
    x = F.max_pool2d(x, (2 * ry + 1, 1), stride=1)
    x = F.pad(x, (rx, rx, 0, 0), value=-math.inf)
    return sign * F.max_pool2d(x, (1, 2 * rx + 1), stride=1)


def apply_window_statistic(images: Tensor, draws: Deflections, window: int,
                           statistic: Replacement | str) -> Tensor:
    """Replace every deflected entry of `draws` by its window statistic over the INPUT image.

    Channel mode: entry `dst` gets `window_statistic(images)[dst]` of its own channel; pixel mode:
    each channel of pixel `dst` gets its own channel's statistic. The statistic is taken over the
    input image, not the progressively deflected one (OUR CHOICE; the thesis does not define these
    rules), so the order of the copies and repeated locations do not matter. `draws.src` is
    unused; images with `draws.active` False are left unchanged.

    Args:
        images: `[N, C, H, W]` float (any range), not modified.
        draws: from `draw_deflections` for this shape (any device).
        window: r >= 0, the apothem of the statistic's window (normally the r of the draws).
        statistic: `min`, `max` or `mean`.

    Returns:
        `[N, C, H, W]` new tensor, same dtype and device; at most K entries (channel mode) or K
        pixels (pixel mode) per image differ from `images`.
    """
    n, c, h, w = images.shape
    if (c, h, w) != draws.shape or draws.dst.shape[0] != n:
        raise ValueError(f"draws are for {draws.shape} x {draws.dst.shape[0]}, images are {tuple(images.shape)}")
    stat = window_statistic(images, window, statistic).contiguous()
    out = images.clone(memory_format=torch.contiguous_format)
    k = draws.dst.shape[1]
    if k == 0:
        return out
    dst = draws.dst.to(images.device)
    active = (torch.ones(n, dtype=torch.bool, device=images.device) if draws.active is None
              else draws.active.to(images.device))
    img_idx = torch.arange(n, device=images.device)[:, None].expand(n, k)[active]
    dst = dst[active].reshape(-1)
    img_idx = img_idx.reshape(-1)
    if draws.mode is DeflectMode.CHANNEL:
        out.view(n, c * h * w)[img_idx, dst] = stat.view(n, c * h * w)[img_idx, dst]
    else:
        out.view(n, c, h * w)[img_idx, :, dst] = stat.view(n, c, h * w)[img_idx, :, dst]
    return out


def deflect(images: Tensor, deflections: int, window: int, saliency: Tensor | None = None,
            generator: torch.Generator | None = None, mode: DeflectMode | str = DeflectMode.CHANNEL, *,
            sampler: Sampler | str = Sampler.UNIFORM, replacement: Replacement | str = Replacement.RANDOM) -> Tensor:
    """Pixel deflection (thesis Algorithm 2; targeted by a saliency map as in thesis Sec. 4.6).

    Each image gets exactly `deflections` copies `I[p] <- I[n]`, sequential and in place: p is drawn
    with density proportional to `1 - saliency` (uniform without a map), n uniformly from the
    `(2*window+1)^2` square around p that lies inside the image. In `channel` mode (default, the
    public code) a copy moves one channel value within the same channel, channels taken in turn; in
    `pixel` mode (the thesis's text) it moves all channels of the pixel. See the module docstring for
    the differences from the public code: exactly K copies (the public loop can overshoot by up to
    C - 1 because it checks K once per channel sweep), rows/column 0 can be sources, seeded torch RNG,
    channel j mod C also when locations are skipped (the public code cycles channels over attempts).

    Table 4.11 ablations: `sampler="gaussian"` draws n from a centred truncated Gaussian instead
    (`draw_deflections`); `replacement="min" | "max" | "mean"` writes the window statistic of p's
    window in the input image instead of I[n] (`apply_window_statistic`). The random numbers drawn
    are the same for every variant, so under one generator state all variants deflect the same
    locations; the defaults are the thesis's method, unchanged.

    Args:
        images: `[N, C, H, W]` float in [0, 1] (any range works), not modified.
        deflections: K >= 0 copies per image (thesis: 100 on 299x299).
        window: r >= 0 (thesis: 10).
        saliency: optional `[N, H, W]` in [0, 1] (e.g. `robust_cam`); 1 = never deflected.
        generator: torch RNG (same state -> same output); None uses the global RNG.
        mode: `channel` or `pixel`.
        sampler: `uniform` (default) or `gaussian` (`Sampler`).
        replacement: `random` (default), `min`, `max` or `mean` (`Replacement`).

    Returns:
        `[N, C, H, W]` new tensor, same dtype and device.
    """
    if images.dim() != 4:
        raise ValueError(f"images must be [N, C, H, W], got {tuple(images.shape)}")
    replacement = Replacement(replacement)
    draws = draw_deflections(tuple(images.shape), deflections, window, saliency, generator, mode, sampler=sampler)
    if replacement is Replacement.RANDOM:
        return apply_deflections(images, draws)
    return apply_window_statistic(images, draws, window, replacement)


def reference_deflect_loop(image: np.ndarray, deflections: int, window: int, rng: random.Random,
                           saliency: np.ndarray | None = None,
                           mode: DeflectMode | str = DeflectMode.CHANNEL) -> np.ndarray:
    """Slow oracle: the public code's per-pixel Python loop, with this module's fixes.

    Like the public `pixel_deflection`: channels in turn, a uniform location per attempt, skipped with
    probability `saliency[y, x]` (not counted), offsets redrawn in `[-window, window]^2` until the
    source is inside the image, one value copied in place. Fixed: sources may lie on row/column 0,
    exactly `deflections` copies, a seeded `random.Random`. Used by `lib.bench` and tests only.

    Args:
        image: `[H, W, C]` float array, not modified.
        deflections: K copies.
        window: r.
        rng: Python RNG (the public code uses the module-level `random` functions).
        saliency: optional `[H, W]` in [0, 1]; must not be 1 everywhere (the loop would not end).
        mode: `channel` or `pixel` (pixel: all channels copied, no channel cycling).

    Returns:
        `[H, W, C]` new array.
    """
    mode = DeflectMode(mode)
    img = image.copy()
    h, w, c = img.shape
    done, attempt = 0, 0
    while done < deflections:
        ch = attempt % c
        attempt += 1
        y, x = rng.randint(0, h - 1), rng.randint(0, w - 1)
        if saliency is not None and rng.uniform(0, 1) < saliency[y, x]:
            continue
        while True:
            a, b = rng.randint(-window, window), rng.randint(-window, window)
            if 0 <= y + a < h and 0 <= x + b < w:
                break
        if mode is DeflectMode.CHANNEL:
            img[y, x, ch] = img[y + a, x + b, ch]
        else:
            img[y, x, :] = img[y + a, x + b, :]
        done += 1
    return img


# ============================================================================================
# Robust activation map (R-CAM)
# ============================================================================================


@dataclass(frozen=True)
class CamParts:
    """A GAP classifier split for CAM: `logits = linear(features(x).mean((2, 3)))`.

    Attributes:
        features: `[N, 3, H, W] -> [N, K, h, w]`, the last conv feature maps (before global average
            pooling, after the last nonlinearity).
        linear: the final `nn.Linear(K, classes)`; its `weight[c]` are the CAM class weights w^c.
    """

    features: Callable[[Tensor], Tensor]
    linear: nn.Linear


def cam_parts(model: nn.Module | CamParts) -> CamParts:
    """The `CamParts` of a GAP classifier.

    Accepted: a `CamParts`; a module with a `features(x) -> [N, K, h, w]` method/module and a
    `classifier` that is an `nn.Linear` (the protocol of this module); `lib.models.ResNetCifar`
    (features = stem + residual blocks, linear = `fc`; its dropout is the identity in eval mode).

    Raises:
        TypeError: for anything else (e.g. a classifier with an MLP head: CAM needs GAP + one linear).
    """
    if isinstance(model, CamParts):
        return model
    classifier = getattr(model, "classifier", None)
    if callable(getattr(model, "features", None)) and isinstance(classifier, nn.Linear):
        return CamParts(model.features, classifier)
    if all(hasattr(model, a) for a in ("centre", "conv", "bn", "blocks")) and isinstance(getattr(model, "fc", None), nn.Linear):
        def resnet_features(x: Tensor) -> Tensor:
            return model.blocks(torch.relu(model.bn(model.conv(model.centre(x)))))
        return CamParts(resnet_features, model.fc)
    raise TypeError(f"{type(model).__name__} is not a GAP classifier with `features` + `classifier: nn.Linear`; "
                    f"pass CamParts(features, linear)")


def class_activation_maps(features: Tensor, weight: Tensor, classes: Tensor) -> Tensor:
    """CAM (thesis eq 4.4): `M_c(x, y) = sum_k w_k^c f_k(x, y)` for the given classes.

    Args:
        features: `[N, K, h, w]` last conv features.
        weight: `[classes, K]` linear class weights (the bias is not part of CAM).
        classes: `[N, k]` int64 class indices per image.

    Returns:
        `[N, k, h, w]` maps at feature resolution (unnormalised, may be negative).
    """
    return torch.einsum("nkhw,nik->nihw", features, weight[classes])


def robust_cam(model: nn.Module | CamParts, images: Tensor, top_k: int) -> Tensor:
    """Robust activation map (thesis eq 4.5): `sum_{i=1..k} M_{c_i} / 2^i`, normalised to [0, 1].

    c_1..c_k are the top-k classes by predicted probability in DESCENDING order (c_1 = the prediction;
    a public PyTorch port used an ascending argsort, i.e. the least likely classes). Steps: CAMs at
    feature resolution -> weighted sum -> bilinear up-sampling to `H x W` (`align_corners=False`) ->
    negative values clamped to 0 (negative evidence is not salient) -> divided by the per-image max.
    An image whose map is <= 0 everywhere gets all zeros (uniform deflection). The public code instead
    min-max normalised the map (matplotlib `Normalize`); we follow the thesis's division by the max.
    Runs under `torch.no_grad()`; put the model in eval mode first.

    Args:
        model: a GAP classifier accepted by `cam_parts`.
        images: `[N, 3, H, W]` float in [0, 1] (what the model takes).
        top_k: k >= 1 (thesis: 5 of 1000 classes; 2-3 suggested for 10 classes).

    Returns:
        `[N, H, W]` float in [0, 1], max 1 per image unless all zeros.
    """
    parts = cam_parts(model)
    with torch.no_grad():
        feats = parts.features(images)
        logits = parts.linear(feats.mean((2, 3)))
        classes = logits.topk(top_k, dim=1, largest=True, sorted=True).indices
        maps = class_activation_maps(feats, parts.linear.weight, classes)
        scale = 0.5 ** torch.arange(1, top_k + 1, device=maps.device, dtype=maps.dtype)
        combined = (maps * scale[None, :, None, None]).sum(1, keepdim=True)
        up = F.interpolate(combined, size=images.shape[-2:], mode="bilinear", align_corners=False)[:, 0]
        up = up.clamp(min=0)
        peak = up.amax((1, 2), keepdim=True)
        return torch.where(peak > 0, up / peak.clamp(min=torch.finfo(up.dtype).tiny), torch.zeros_like(up))


# ============================================================================================
# Wavelet denoising
# ============================================================================================

# scikit-image's rgb2ycbcr convention (ITU-R BT.601, Y in [16, 235], Cb/Cr in [16, 240] for RGB in [0, 1]).
_YCBCR_FROM_RGB = np.array([[65.481, 128.553, 24.966],
                            [-37.797, -74.203, 112.0],
                            [112.0, -93.786, -18.214]])
_YCBCR_OFFSET = np.array([16.0, 128.0, 128.0])
_RGB_FROM_YCBCR = np.linalg.inv(_YCBCR_FROM_RGB)
_HAAR = ("db1", "haar")   # wavelets done in torch; the others go through PyWavelets
_EPS64 = float(np.finfo(np.float64).eps)


def rgb_to_ycbcr(images: Tensor) -> Tensor:
    """`[N, 3, H, W]` RGB in [0, 1] -> YCbCr in scikit-image's `rgb2ycbcr` units (Y 16..235)."""
    m = torch.as_tensor(_YCBCR_FROM_RGB, dtype=images.dtype, device=images.device)
    off = torch.as_tensor(_YCBCR_OFFSET, dtype=images.dtype, device=images.device)
    n, c, h, w = images.shape
    return (m @ images.reshape(n, c, h * w)).view(n, c, h, w) + off[None, :, None, None]


def ycbcr_to_rgb(images: Tensor) -> Tensor:
    """Inverse of `rgb_to_ycbcr` (scikit-image's `ycbcr2rgb`; no clipping)."""
    m = torch.as_tensor(_RGB_FROM_YCBCR, dtype=images.dtype, device=images.device)
    off = torch.as_tensor(_YCBCR_OFFSET, dtype=images.dtype, device=images.device)
    n, c, h, w = images.shape
    return (m @ (images - off[None, :, None, None]).reshape(n, c, h * w)).view(n, c, h, w)


def default_levels(height: int, width: int, wavelet: str = "db1") -> int:
    """scikit-image's default: `max(dwt_max_level - 3, 1)` with PyWavelets' max level of the image.

    PyWavelets' max level of a side n for a filter of length L is floor(log2(n / (L - 1))); for
    db1/haar (L = 2) that is floor(log2(min(H, W))), computed here without PyWavelets
    (32x32 -> 2 levels, 299x299 -> 5).
    """
    if wavelet in _HAAR:
        return max(min(height, width).bit_length() - 1 - 3, 1)
    import pywt

    return max(pywt.dwtn_max_level((height, width), wavelet) - 3, 1)




@dataclass
class Coeffs:
    """Multi-level 2-D DWT of B planes (layout shared by the torch Haar and the PyWavelets paths).

    Attributes:
        approx: `[B, h_L, w_L]` approximation band of the coarsest level L.
        details: per level, coarsest first, `[B, 3, h_l, w_l]` detail bands.
        sizes: per level, coarsest first, the `(H, W)` the level's analysis started from (the
            inverse crops to it, as PyWavelets + scikit-image do for odd sides).
    """

    approx: Tensor
    details: list[Tensor]
    sizes: list[tuple[int, int]]


def _haar_step(x: Tensor) -> tuple[Tensor, Tensor]:
    """One 2-D Haar analysis step of `[B, H, W]` in PyWavelets' 'symmetric' mode.

    An odd side is extended by repeating its last row/column (symmetric extension of a length-2
    filter). With p_ij the four samples of each 2x2 block: approximation
    `(p00 + p01 + p10 + p11) / 2` and details `(p00 + p01 - p10 - p11) / 2`, `(p00 - p01 + p10 - p11) / 2`,
    `(p00 - p01 - p10 + p11) / 2` (= PyWavelets' `(a +- b) / sqrt(2)` along rows then columns).

    Returns:
        approximation `[B, ceil(H/2), ceil(W/2)]` and details `[B, 3, ceil(H/2), ceil(W/2)]`.
    """
    if x.shape[-2] % 2:
        x = torch.cat([x, x[..., -1:, :]], dim=-2)
    if x.shape[-1] % 2:
        x = torch.cat([x, x[..., :, -1:]], dim=-1)
    p00, p01, p10, p11 = x[..., 0::2, 0::2], x[..., 0::2, 1::2], x[..., 1::2, 0::2], x[..., 1::2, 1::2]
    top_sum, bottom_sum, top_diff, bottom_diff = p00 + p01, p10 + p11, p00 - p01, p10 - p11
    out = x.new_empty(x.shape[0], 4, x.shape[-2] // 2, x.shape[-1] // 2)
    torch.add(top_sum, bottom_sum, out=out[:, 0])
    torch.sub(top_sum, bottom_sum, out=out[:, 1])
    torch.add(top_diff, bottom_diff, out=out[:, 2])
    torch.sub(top_diff, bottom_diff, out=out[:, 3])
    out.mul_(0.5)
    return out[:, 0], out[:, 1:]


def _haar_inverse(approx: Tensor, details: Tensor, size: tuple[int, int]) -> Tensor:
    """Inverse of `_haar_step`, cropped to `size` (the side lengths before extension)."""
    b, h2, w2 = approx.shape
    d1, d2, d3 = details.unbind(1)
    top_sum, bottom_sum, top_diff, bottom_diff = approx + d1, approx - d1, d2 + d3, d2 - d3
    x = approx.new_empty(b, 2 * h2, 2 * w2)
    torch.add(top_sum, top_diff, out=x[..., 0::2, 0::2])
    torch.sub(top_sum, top_diff, out=x[..., 0::2, 1::2])
    torch.add(bottom_sum, bottom_diff, out=x[..., 1::2, 0::2])
    torch.sub(bottom_sum, bottom_diff, out=x[..., 1::2, 1::2])
    return x.mul_(0.5)[..., :size[0], :size[1]]


def wavedec(x: Tensor, wavelet: str, levels: int) -> Coeffs:
    """Multi-level 2-D DWT of `[B, H, W]` over the last two axes, batched over B.

    db1/haar: torch (`_haar_step`, on x's device). Other wavelets: `pywt.wavedec2(mode='symmetric',
    axes=(-2, -1))` on the CPU (vectorised over B). Coefficients equal PyWavelets' (to rounding;
    the order of the three detail bands is irrelevant to the per-band thresholds used here).
    """
    sizes, details = [], []
    if wavelet in _HAAR:
        approx = x
        for _ in range(levels):
            sizes.append((approx.shape[-2], approx.shape[-1]))
            approx, d = _haar_step(approx)
            details.append(d)
        return Coeffs(approx, details[::-1], sizes[::-1])
    import pywt

    coeffs = pywt.wavedec2(x.detach().cpu().numpy(), wavelet, mode="symmetric", level=levels, axes=(-2, -1))
    approx = torch.from_numpy(np.ascontiguousarray(coeffs[0])).to(x.device)
    details = [torch.from_numpy(np.stack(level, axis=1)).to(x.device) for level in coeffs[1:]]
    return Coeffs(approx, details, [])


def waverec(coeffs: Coeffs, wavelet: str, size: tuple[int, int]) -> Tensor:
    """Inverse of `wavedec`, cropped to `size` `(H, W)` (as scikit-image crops PyWavelets' output)."""
    if wavelet in _HAAR:
        approx = coeffs.approx
        for details, shape in zip(coeffs.details, coeffs.sizes):
            approx = _haar_inverse(approx, details, shape)
        return approx[..., :size[0], :size[1]]
    import pywt

    levels = [tuple(d.detach().cpu().numpy()[:, i] for i in range(3)) for d in coeffs.details]
    arr = pywt.waverec2([coeffs.approx.detach().cpu().numpy(), *levels], wavelet, mode="symmetric", axes=(-2, -1))
    return torch.from_numpy(np.ascontiguousarray(arr[..., :size[0], :size[1]])).to(coeffs.approx.device)


def bayes_threshold(d: Tensor, sigma: float) -> Tensor:
    """BayesShrink (Chang, Yu & Vetterli 2000; thesis eq 4.6) per sub-band, as scikit-image computes it.

    `T = sigma^2 / sqrt(max(mean(d^2) - sigma^2, eps))`, eps = float64 machine epsilon (scikit-image
    works in float64; also used for float32 d), so a sub-band whose energy is below the noise variance
    gets a huge threshold: zeroed.

    Args:
        d: `[B, S, h, w]` detail coefficients of S sub-bands for B planes.
        sigma: noise standard deviation (in d's units).

    Returns:
        `[B, S, 1, 1]` thresholds.
    """
    var = sigma * sigma
    signal = ((d * d).mean((-2, -1), keepdim=True) - var).clamp(min=_EPS64)
    return var / signal.sqrt()


def visu_threshold(n_pixels: int, sigma: float) -> float:
    """VisuShrink's universal threshold `sigma * sqrt(2 ln n)` (Donoho & Johnstone 1994), n = pixels
    of the 2-D channel (scikit-image uses the channel's size; the thesis writes N pixels)."""
    return sigma * math.sqrt(2.0 * math.log(n_pixels))


def sure_threshold(d: Tensor, sigma: float) -> Tensor:
    """SUREShrink threshold per sub-band (Donoho & Johnstone 1995, "hybrid" SureShrink).

    On x = d / sigma (n coefficients of a sub-band): Stein's unbiased risk estimate of soft
    thresholding at t is `SURE(t) = n - 2 #{|x_i| <= t} + sum_i min(x_i^2, t^2)`; it is minimised
    over t in {|x_i|} (between consecutive |x_i| it increases with t), batched with sorted x^2 and
    cumulative sums. The minimiser is capped at the universal threshold sqrt(2 ln n). Hybrid rule:
    if the sub-band looks sparse, `(sum x^2 - n) / n <= (log2 n)^(3/2) / sqrt(n)`, the universal
    threshold is used instead. scikit-image has no SUREShrink; this is our implementation.

    Args:
        d: `[B, S, h, w]` detail coefficients.
        sigma: noise standard deviation.

    Returns:
        `[B, S, 1, 1]` thresholds `sigma * t`.
    """
    b, s_bands, h, w = d.shape
    x2 = (d / sigma).square().reshape(b, s_bands, h * w)
    n = h * w
    s = x2.sort(dim=-1).values
    k = torch.arange(1, n + 1, device=d.device, dtype=d.dtype)
    risk = n - 2.0 * k + s.cumsum(-1) + (n - k) * s
    best = s.gather(-1, risk.argmin(-1, keepdim=True)).sqrt()
    universal = math.sqrt(2.0 * math.log(n)) if n > 1 else 0.0
    t = best.clamp(max=universal)
    sparse = (x2.sum(-1, keepdim=True) - n) / n <= math.log2(max(n, 2)) ** 1.5 / math.sqrt(n)
    t = torch.where(sparse, torch.full_like(t, universal), t)
    return (sigma * t).view(b, s_bands, 1, 1)


def _soft(d: Tensor, t: Tensor | float) -> Tensor:
    """Soft thresholding `sign(d) * max(|d| - t, 0)`, computed as `d - clamp(d, -t, t)`."""
    return d - d.clamp(-t, t)


def _hard(d: Tensor, t: Tensor | float) -> Tensor:
    """Hard thresholding: keep `d` where `|d| >= t` (PyWavelets' rule; the thesis writes `>`), else 0."""
    return torch.where(d.abs() >= t, d, torch.zeros_like(d))


def wavelet_threshold(x: Tensor, sigma: float, method: Shrink | str = Shrink.BAYES, wavelet: str = "db1",
                      levels: int | None = None) -> Tensor:
    """The 2-D wavelet denoiser (scikit-image's `_wavelet_threshold`), batched over `[B, H, W]`.

    DWT (PyWavelets 'symmetric' extension, `levels` default `default_levels`), one threshold per
    detail sub-band (BayesShrink / SURE) or one for all (VisuShrink, `sigma sqrt(2 ln(H W))`), soft
    or hard (`Shrink`), the approximation band untouched, inverse DWT, cropped to `H x W`.

    Args:
        x: `[B, H, W]` float planes (e.g. rescaled Y/Cb/Cr channels).
        sigma: noise standard deviation in x's units.

    Returns:
        `[B, H, W]` denoised, same dtype/device.
    """
    method = Shrink(method)
    h, w = x.shape[-2:]
    if levels is None:
        levels = default_levels(h, w, wavelet)
    coeffs = wavedec(x, wavelet, levels)
    for i, d in enumerate(coeffs.details):
        if method is Shrink.VISU:
            coeffs.details[i] = _soft(d, visu_threshold(h * w, sigma))
        elif method is Shrink.SURE:
            coeffs.details[i] = _soft(d, sure_threshold(d, sigma))
        elif method is Shrink.HARD:
            coeffs.details[i] = _hard(d, bayes_threshold(d, sigma))
        else:
            coeffs.details[i] = _soft(d, bayes_threshold(d, sigma))
    return waverec(coeffs, wavelet, (h, w))


def wavelet_denoise(images: Tensor, sigma: float = 0.04, method: Shrink | str = Shrink.BAYES,
                    wavelet: str = "db1", levels: int | None = None, ycbcr: bool = True,
                    clip_channels: bool = True) -> Tensor:
    """The thesis's wavelet denoiser (Sec. 4.7), batched; defaults = scikit-image 0.14's call.

    Default computes `denoise_wavelet(img, sigma=0.04, mode='soft', method='BayesShrink',
    convert2ycbcr=True, multichannel=True)` of scikit-image 0.14 for every image:

    1. RGB -> YCbCr (`rgb_to_ycbcr`, scikit-image's convention);
    2. each Y/Cb/Cr channel min-max rescaled to [0, 1] (a constant channel is left as it is: 0.14
       divided by zero there, modern scikit-image skips it);
    3. `wavelet_threshold` with `sigma` used as given in the rescaled channel (0.14's meaning;
       modern scikit-image rescales sigma, see implementation notes Sec. 1);
    4. the result clipped to [0, 1] (0.14 denoised each channel by a recursive call that clipped
       its output; `clip_channels=False` drops this step = the notes' modern recipe);
    5. the rescale undone, YCbCr -> RGB, clipped to [0, 1].

    With `ycbcr=False` each RGB channel is denoised as it is (no rescale, `convert2ycbcr=False`).

    Precision: computed in float64 for float64 images (equal to the scikit-image reference to
    ~1e-15) and in float32 otherwise (~5e-7 from it, below uint8 quantisation; 1.7x faster; a
    `hard` coefficient within rounding of its threshold may flip). db1/haar run in torch on the
    images' device; other wavelets go through PyWavelets on the CPU.

    Args:
        images: `[N, 3, H, W]` float in [0, 1].
        sigma: noise std in the rescaled channel (thesis 0.04).
        method: `bayes` (default), `visu`, `sure`, `hard` (Table 4.8; `Shrink`).
        wavelet: PyWavelets name (thesis db1; db2/haar "similar").
        levels: decomposition levels; default `default_levels(H, W, wavelet)`.
        ycbcr: denoise in YCbCr (thesis) or RGB.
        clip_channels: clip each denoised rescaled channel to [0, 1] (0.14 behaviour).

    Returns:
        `[N, 3, H, W]` in [0, 1], dtype/device of `images`.
    """
    n, c, h, w = images.shape
    dtype = torch.float64 if images.dtype == torch.float64 else torch.float32
    x = images.to(dtype).reshape(n, c, h * w)
    if ycbcr:
        if c != 3:
            raise ValueError(f"YCbCr needs 3 channels, got {c}")
        # YCbCr without its offset (it cancels in the min-max rescale), then rescaled to [0, 1]
        x = torch.as_tensor(_YCBCR_FROM_RGB, dtype=dtype, device=x.device) @ x
        lo, hi = x.amin(2, keepdim=True), x.amax(2, keepdim=True)
        scale = hi - lo
        x = (x - lo) / torch.where(scale == 0, torch.ones_like(scale), scale)
    den = wavelet_threshold(x.view(n * c, h, w), sigma, method, wavelet, levels).reshape(n, c, h * w)
    if ycbcr:
        if clip_channels:
            den = den.clamp_(0.0, 1.0)
        # undo the rescale and convert back in one batched affine map per image:
        # rgb = M^-1 (den * scale + lo); a constant channel (scale 0) returns to its value lo
        inverse = torch.as_tensor(_RGB_FROM_YCBCR, dtype=dtype, device=x.device)
        den = torch.baddbmm(inverse @ lo, inverse * scale.view(n, 1, c), den)
    return den.clamp_(0.0, 1.0).view(n, c, h, w).to(images.dtype)


def reference_wavelet_denoise(image: np.ndarray, sigma: float = 0.04, method: Shrink | str = Shrink.BAYES,
                              wavelet: str = "db1", clip_channels: bool = True) -> np.ndarray:
    """Slow oracle: scikit-image 0.14's call emulated with modern scikit-image, one image.

    Per implementation notes Sec. 1: `rgb2ycbcr`, per-channel min-max to [0, 1] done here, the 2-D
    `denoise_wavelet(channel, sigma, rescale_sigma=False)` per channel (float input: no rescale, no
    clip), then (0.14's recursive-call clip, `clip_channels`) clip to [0, 1], undo, `ycbcr2rgb`,
    clip to [0, 1]. `hard` = BayesShrink with `mode='hard'`; `sure` is not in scikit-image.

    Args:
        image: `[H, W, 3]` float in [0, 1].

    Returns:
        `[H, W, 3]` float64 in [0, 1].
    """
    from skimage.color import rgb2ycbcr, ycbcr2rgb
    from skimage.restoration import denoise_wavelet

    method = Shrink(method)
    sk_method = {Shrink.BAYES: "BayesShrink", Shrink.HARD: "BayesShrink", Shrink.VISU: "VisuShrink"}[method]
    sk_mode = "hard" if method is Shrink.HARD else "soft"
    out = rgb2ycbcr(image.astype(np.float64))
    for i in range(3):
        lo, hi = out[..., i].min(), out[..., i].max()
        if hi == lo:
            continue
        channel = (out[..., i] - lo) / (hi - lo)
        den = denoise_wavelet(channel, sigma=sigma, wavelet=wavelet, mode=sk_mode, method=sk_method,
                              rescale_sigma=False)
        if clip_channels:
            den = np.clip(den, 0.0, 1.0)
        out[..., i] = den * (hi - lo) + lo
    return np.clip(ycbcr2rgb(out), 0.0, 1.0)


# ============================================================================================
# Other denoisers (Table 4.11) and JPEG / DCT (Tables 4.6-4.7); common signature
# `(images [N, 3, H, W] in [0, 1], **params) -> [N, 3, H, W] in [0, 1]`
# ============================================================================================


def _per_image(images: Tensor, fn: Callable[[np.ndarray], np.ndarray]) -> Tensor:
    """Apply `fn` (`[H, W, C]` float64 -> same) to every image on the CPU; clip to [0, 1]."""
    arr = images.detach().to("cpu", torch.float64).permute(0, 2, 3, 1).numpy()
    out = np.stack([fn(np.ascontiguousarray(a)) for a in arr])
    return torch.from_numpy(np.clip(out, 0.0, 1.0)).permute(0, 3, 1, 2).to(images.device, images.dtype).contiguous()


def bilateral(images: Tensor, sigma_color: float | None = None, sigma_spatial: float = 1.0,
              bins: int = 1000) -> Tensor:
    """Bilateral filter: scikit-image `denoise_bilateral(channel_axis=-1, bins=1000)` per image.

    The public code's call (`bins=1000`, other parameters default: `sigma_color` = std of the image,
    `sigma_spatial` = 1, window 7x7, 'constant' border). Per-image loop: ~1.1 ms per 32x32 image on
    one busy core (scikit-image's Cython filter), ~1 s per 1000 images.
    """
    from skimage.restoration import denoise_bilateral

    return _per_image(images, lambda a: denoise_bilateral(a, sigma_color=sigma_color, sigma_spatial=sigma_spatial,
                                                          bins=bins, channel_axis=-1))


def tv_chambolle(images: Tensor, weight: float = 0.1, max_num_iter: int = 200) -> Tensor:
    """Total-variation denoising ("TVM"): scikit-image `denoise_tv_chambolle(weight=0.1, channel_axis=-1)`
    per image (each channel separately, as 0.14's `multichannel=True`). The public code's call. ~3 ms per
    32x32 image (per-image loop), ~3 s per 1000 images."""
    from skimage.restoration import denoise_tv_chambolle

    return _per_image(images, lambda a: denoise_tv_chambolle(a, weight=weight, max_num_iter=max_num_iter,
                                                             channel_axis=-1))


def wiener_deconvolution(images: Tensor, psf_size: int = 3, balance: float = 0.1) -> Tensor:
    """Wiener deconvolution ("Deconv"): scikit-image `restoration.wiener` per channel of every image.

    The public code calls `wiener(img)` without the required `psf` and `balance` (a TypeError as
    written), so the thesis's setting is unknown. OUR CHOICE: a `psf_size x psf_size` uniform box PSF,
    `balance = 0.1` with scikit-image's default Laplacian regulariser, output clipped to [0, 1].
    Per-image, per-channel loop: ~0.8 ms per 32x32 image.
    """
    from skimage.restoration import wiener

    psf = np.full((psf_size, psf_size), 1.0 / psf_size ** 2)
    return _per_image(images, lambda a: np.stack([wiener(a[..., i], psf, balance) for i in range(a.shape[-1])], -1))


def anisotropic_diffusion(images: Tensor, n_iter: int = 10, kappa: float = 0.2, gamma: float = 0.1,
                          conduction: Conduction | str = Conduction.EXP) -> Tensor:
    """Perona-Malik anisotropic diffusion, batched in torch, each channel separately.

    `I <- I + gamma * sum_{d in N,S,E,W} g(grad_d I) * grad_d I` for `n_iter` steps with
    `g(s) = exp(-(s/kappa)^2)` (`Conduction.EXP`, Perona-Malik's first function) or
    `1 / (1 + (s/kappa)^2)` (`Conduction.QUADRATIC`); zero flux across the border. The thesis gives
    no parameters: OUR CHOICE kappa = 0.2 on [0, 1] (medpy's default 50 on 0..255), gamma = 0.1
    (stable for gamma <= 0.25), 10 iterations. Batched in torch (~0.1-0.9 ms per 32x32 image).
    """
    conduction = Conduction(conduction)
    x = images.clone()
    for _ in range(n_iter):
        padded = F.pad(x, (1, 1, 1, 1), mode="replicate")
        grads = [padded[..., :-2, 1:-1] - x, padded[..., 2:, 1:-1] - x,
                 padded[..., 1:-1, :-2] - x, padded[..., 1:-1, 2:] - x]
        if conduction is Conduction.EXP:
            flux = sum(torch.exp(-(g / kappa) ** 2) * g for g in grads)
        else:
            flux = sum(g / (1.0 + (g / kappa) ** 2) for g in grads)
        x = x + gamma * flux
    return x.clamp(0.0, 1.0)


def jpeg(images: Tensor, quality: int = 75) -> Tensor:
    """JPEG compression round trip at `quality` with PIL (libjpeg; 4:2:0 chroma subsampling, PIL's default).

    Images are quantised to uint8 (round(255 x)) first. The thesis does not give its JPEG quality
    (Table 4.7): OUR CHOICE 75, PIL's and libjpeg's default. A Python loop over images, in-memory
    buffers (~0.3 ms per 32x32 image).
    """
    import io

    from PIL import Image

    u8 = (images.detach().cpu() * 255.0).round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()
    out = []
    for arr in u8:
        buf = io.BytesIO()
        Image.fromarray(np.ascontiguousarray(arr)).save(buf, format="JPEG", quality=quality)
        out.append(np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB")))
    decoded = torch.from_numpy(np.stack(out)).permute(0, 3, 1, 2)
    return (decoded.to(images.dtype) / 255.0).to(images.device).contiguous()


def _dct_matrix(size: int, dtype: torch.dtype, device: torch.device) -> Tensor:
    """Orthonormal DCT-II matrix `[size, size]`: `D[k, n] = a_k cos(pi (2n + 1) k / (2 size))`."""
    k = torch.arange(size, dtype=torch.float64)[:, None]
    i = torch.arange(size, dtype=torch.float64)[None, :]
    d = torch.cos(math.pi * (2 * i + 1) * k / (2 * size)) * math.sqrt(2.0 / size)
    d[0] /= math.sqrt(2.0)
    return d.to(dtype=dtype, device=device)


def dct_denoise(images: Tensor, sigma: float = 0.04, block: int = 8, threshold: float | None = None) -> Tensor:
    """Block-DCT soft thresholding ("DCT" of Table 4.6), batched in torch.

    Each channel is cut into `block x block` blocks (the image edge-replicated to a multiple of
    `block`, cropped back afterwards); the orthonormal 2-D DCT-II of every block has its AC
    coefficients soft-thresholded at `threshold` (default the per-block universal threshold
    `sigma * sqrt(2 ln block^2)` = 0.115 for sigma = 0.04; the DC coefficient is kept); inverse DCT.
    The thesis does not define its DCT variant: this is OUR CHOICE (JPEG's transform, denoised
    like VisuShrink). RGB channels, values in [0, 1].
    """
    n, c, h, w = images.shape
    t = sigma * math.sqrt(2.0 * math.log(block * block)) if threshold is None else threshold
    ph, pw = (-h) % block, (-w) % block
    x = F.pad(images, (0, pw, 0, ph), mode="replicate") if ph or pw else images
    hb, wb = x.shape[-2] // block, x.shape[-1] // block
    blocks = x.reshape(n, c, hb, block, wb, block).permute(0, 1, 2, 4, 3, 5)
    d = _dct_matrix(block, images.dtype, images.device)
    coef = d @ blocks @ d.T
    dc = coef[..., :1, :1].clone()
    coef = _soft(coef, t)
    coef[..., :1, :1] = dc
    rec = (d.T @ coef @ d).permute(0, 1, 2, 4, 3, 5).reshape(n, c, hb * block, wb * block)
    return rec[..., :h, :w].clamp(0.0, 1.0)


DENOISERS: dict[str, Callable[..., Tensor]] = {
    "wavelet": wavelet_denoise,
    "bilateral": bilateral,
    "anisotropic": anisotropic_diffusion,
    "tvm": tv_chambolle,
    "deconv": wiener_deconvolution,
    "jpeg": jpeg,
    "dct": dct_denoise,
}
"""Table 4.11 (and 4.6/4.7) denoisers by name; each `(images [N, 3, H, W] in [0, 1], **params) -> same`."""


def defend(images: Tensor, deflections: int = 100, window: int = 10, sigma: float = 0.04,
           saliency: Tensor | None = None, generator: torch.Generator | None = None,
           mode: DeflectMode | str = DeflectMode.CHANNEL, method: Shrink | str = Shrink.BAYES, *,
           sampler: Sampler | str = Sampler.UNIFORM, replacement: Replacement | str = Replacement.RANDOM) -> Tensor:
    """PD (+ R-CAM when `saliency` is given) + WD with the thesis's one setting (K=100, r=10, sigma=0.04).

    `[N, 3, H, W]` in [0, 1] -> same. See `deflect` (`sampler`, `replacement`: the Table 4.11
    ablations) and `wavelet_denoise`.
    """
    deflected = deflect(images, deflections, window, saliency, generator, mode, sampler=sampler,
                        replacement=replacement)
    return wavelet_denoise(deflected, sigma, method)
