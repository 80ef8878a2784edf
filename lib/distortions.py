"""Image distortions, batched and seeded, with their units stated.

Convention: images are `[N, 3, H, W]` float32 in [0, 1] on any device. Each distortion returns the
same shape and range. Levels are given in the papers' units:

    awgn   sigma on the 0–255 scale, mean 0 (Bianchi et al. §4.2: 5, 15, 25)
    blur   Gaussian sigma in pixels; kernel size 4·sigma (Bianchi et al. §4.2: 0.25, 1.25, 2.25)

By default outputs are clipped to [0, 1] and quantised to 8 bits (rounded to multiples of 1/255),
i.e. what a stored distorted image would contain. Both are one argument away (`clip`, `quantize`);
DeepCorrect, for instance, adds noise without clipping (implementation-notes §7).
"""
from __future__ import annotations

from enum import Enum

import torch
import torch.nn.functional as F
from torch import Tensor

UNITS: dict[str, str] = {"awgn": "σ on the 0–255 scale", "blur": "σ in pixels, kernel 4σ"}


class Distortion(str, Enum):
    """Distortion names (plain strings are accepted wherever a `Distortion` is)."""

    AWGN = "awgn"
    BLUR = "blur"


def _finish(x: Tensor, clip: bool, quantize: bool) -> Tensor:
    if clip:
        x = x.clamp(0.0, 1.0)
    if quantize:
        x = torch.round(x * 255.0) / 255.0
    return x


def awgn(images: Tensor, sigma: float, generator: torch.Generator | None = None,
         clip: bool = True, quantize: bool = True) -> Tensor:
    """Additive white Gaussian noise.

    Args:
        images: `[N, C, H, W]` float in [0, 1].
        sigma: standard deviation on the 0–255 scale (the noise added is N(0, (sigma/255)²)).
        generator: a `torch.Generator` on the images' device (fixes the noise).
        clip, quantize: clip to [0, 1]; round to 8-bit levels.
    """
    noise = torch.randn(images.shape, generator=generator, device=images.device, dtype=images.dtype)
    return _finish(images + noise * (sigma / 255.0), clip, quantize)


def gaussian_kernel1d(sigma: float, size: int) -> Tensor:
    """Normalised 1-D Gaussian taps at integer offsets -(size-1)/2 … (size-1)/2, float32 `[size]`."""
    if size % 2 == 0 or size < 1:
        raise ValueError(f"kernel size must be odd and positive, got {size}")
    x = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    k = torch.exp(-(x**2) / (2 * sigma**2))
    return (k / k.sum()).float()


def blur_kernel_size(sigma: float) -> int:
    """The paper's kernel size rule, 4·sigma, rounded to the nearest odd integer ≥ 1.

    For sigma = 0.25, 1.25, 2.25 this gives 1, 5, 9: note that size 1 makes the mildest blur the
    identity.
    """
    size = max(1, int(round(4 * sigma)))
    return size if size % 2 == 1 else size + 1


def gaussian_blur(images: Tensor, sigma: float, kernel_size: int | None = None,
                  clip: bool = True, quantize: bool = True) -> Tensor:
    """Separable Gaussian blur with reflected borders (OpenCV's default BORDER_REFLECT_101).

    Args:
        images: `[N, C, H, W]` float in [0, 1].
        sigma: standard deviation in pixels.
        kernel_size: odd taps per axis; default `blur_kernel_size(sigma)` (the paper's 4σ rule).
        clip, quantize: clip to [0, 1]; round to 8-bit levels.
    """
    size = kernel_size or blur_kernel_size(sigma)
    if size == 1:
        return _finish(images.clone(), clip, quantize)
    c = images.shape[1]
    k = gaussian_kernel1d(sigma, size).to(images.device, images.dtype)
    pad = size // 2
    x = F.pad(images, (pad, pad, pad, pad), mode="reflect")
    x = F.conv2d(x, k.view(1, 1, 1, size).expand(c, 1, 1, size), groups=c)
    x = F.conv2d(x, k.view(1, 1, size, 1).expand(c, 1, size, 1), groups=c)
    return _finish(x, clip, quantize)


def distort(images: Tensor, kind: Distortion | str, level: float,
            generator: torch.Generator | None = None, **kwargs) -> Tensor:
    """Apply distortion `kind` at `level` (units in the module docstring) to a batch."""
    kind = Distortion(kind)
    if kind is Distortion.AWGN:
        return awgn(images, level, generator, **kwargs)
    return gaussian_blur(images, level, **kwargs)


def distort_set(images: Tensor, kind: Distortion | str, level: float, seed: int, batch_size: int = 2048) -> Tensor:
    """Distort a whole uint8 image set once (a fixed distorted dataset `D_T`), batch by batch.

    Args:
        images: `[N, C, H, W]` uint8 (0–255).
        seed: fixes the noise (drawn on the CPU, so the same on every device); the result does
            not depend on `batch_size` for a given N.

    Returns:
        `[N, C, H, W]` uint8, the distorted images quantised to 8 bits.
    """
    g = torch.Generator().manual_seed(int(seed))
    out = torch.empty_like(images)
    kind = Distortion(kind)
    if kind is Distortion.AWGN:   # draw all noise in one go so batching cannot change it
        noise = (torch.randn(images.shape, generator=g) * (level / 255.0)).to(images.device)
    for start in range(0, len(images), batch_size):
        sl = slice(start, start + batch_size)
        x = images[sl].float() / 255.0
        y = _finish(x + noise[sl], True, True) if kind is Distortion.AWGN else gaussian_blur(x, level)
        out[sl] = torch.round(y * 255.0).to(torch.uint8)
    return out


def describe(kind: Distortion | str, level: float) -> str:
    """Human label with units, e.g. 'AWGN σ=15 (0–255)' or 'blur σ=1.25 px (kernel 5)'."""
    kind = Distortion(kind)
    if kind is Distortion.AWGN:
        return f"AWGN σ={level:g} (0–255)"
    return f"blur σ={level:g} px (kernel {blur_kernel_size(level)})"


def psnr(clean: Tensor, distorted: Tensor) -> Tensor:
    """Peak signal-to-noise ratio in dB per image, for [0, 1] images `[N, C, H, W]` -> `[N]`."""
    mse = (clean - distorted).pow(2).flatten(1).mean(1)
    return 10 * torch.log10(1.0 / mse.clamp_min(1e-12))

