"""The input-transformation baselines quoted in thesis Table 4.6, re-measured where cheap.

Each function maps images `[N, 3, H, W]` float in [0, 1] to the same shape, dtype and device
(except `random_resize_pad`, which grows the images; the suite's classifiers have GAP heads and take
any size). The thesis quotes these rows from their papers (ImageNet, 299×299); the parameters here
are those papers' settings, scaled to 32×32 where a size is involved (stated per function).

* `bit_depth` and `median_smooth`: feature squeezing (Xu, Evans, Qi 2017), rows (a)-(d).
* `nl_means`: non-local means, rows (e)-(f), "11-3-2" = search window 11, patch 3, filter strength
  h = 2 (on 0-255 pixels), with scikit-image per image (CPU; a baseline, not a hot path).
* `random_resize_pad`: Xie et al. 2018, resize to a random size in [S, S'), then zero-pad to S' at a
  random offset; ImageNet 299 -> [299, 331) -> 331, here 32 -> [32, 36) -> 36 (same 1.1 ratio).
* TVM (Guo et al. 2018) is `lib.papers.pixel_deflection.method.tv_chambolle` (Chambolle TV denoising,
  not Guo et al.'s pixel-dropout TV minimisation; stated in the report).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["bit_depth", "median_smooth", "nl_means", "random_resize_pad"]


def bit_depth(images: Tensor, bits: int) -> Tensor:
    """Reduce each value to `bits` bits: round(x · (2^bits − 1)) / (2^bits − 1) (Xu et al.)."""
    if not 1 <= bits <= 8:
        raise ValueError(f"bits must be in 1..8, got {bits}")
    levels = 2 ** bits - 1
    return torch.round(images * levels) / levels


def median_smooth(images: Tensor, size: int) -> Tensor:
    """Per-channel median over a `size`×`size` window (stride 1), edges reflected.

    For even sizes the window spans [−size/2, size/2 − 1] around the pixel (as scipy's
    `median_filter` with origin 0) and the median is the lower of the two middle values.
    """
    if size < 1:
        raise ValueError(f"size must be >= 1, got {size}")
    if size == 1:
        return images.clone()
    before, after = size // 2, (size - 1) // 2
    padded = F.pad(images, (before, after, before, after), mode="reflect")
    patches = padded.unfold(2, size, 1).unfold(3, size, 1)            # [N, C, H, W, s, s]
    return patches.reshape(*images.shape, size * size).median(-1).values


def nl_means(images: Tensor, search: int = 11, patch: int = 3, h: float = 2.0) -> Tensor:
    """Non-local means per image and channel jointly (scikit-image `denoise_nl_means`, fast mode).

    Args:
        images: `[N, 3, H, W]` float in [0, 1].
        search: side of the search window (pixels; patch_distance = search // 2).
        patch: side of the compared patches (pixels).
        h: filter strength on the 0-255 scale (divided by 255 here).
    """
    from skimage.restoration import denoise_nl_means

    arr = images.detach().cpu().double().permute(0, 2, 3, 1).numpy()
    out = np.stack([denoise_nl_means(im, patch_size=patch, patch_distance=search // 2, h=h / 255.0,
                                     channel_axis=-1, fast_mode=True) for im in arr])
    return torch.from_numpy(out).permute(0, 3, 1, 2).to(images.dtype).to(images.device).clamp_(0, 1)


def random_resize_pad(images: Tensor, out_size: int, generator: torch.Generator | None = None) -> Tensor:
    """Xie et al.'s randomisation: resize to a random side s in [H, out_size) (nearest, one s per batch
    call and image), then zero-pad to `out_size` × `out_size` at a random offset.

    Returns `[N, 3, out_size, out_size]`. Per image: one draw of s, one of the offset (torch RNG).
    """
    n, c, h, w = images.shape
    if out_size <= max(h, w):
        raise ValueError(f"out_size must exceed the image size {max(h, w)}, got {out_size}")
    sizes = torch.randint(h, out_size, (n,), generator=generator).tolist()
    lefts = torch.rand(n, generator=generator).tolist()
    tops = torch.rand(n, generator=generator).tolist()
    out = images.new_zeros(n, c, out_size, out_size)
    for i, (s, left, top) in enumerate(zip(sizes, lefts, tops)):   # one interpolate per image: s differs
        resized = F.interpolate(images[i:i + 1], size=(s, s), mode="nearest")
        x0, y0 = int(left * (out_size - s + 1)), int(top * (out_size - s + 1))
        out[i, :, y0:y0 + s, x0:x0 + s] = resized[0]
    return out
