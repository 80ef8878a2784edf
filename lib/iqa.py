"""Full-reference image-quality metrics on luma, as VQMT computed them for the Prakash thesis's Table 2.1.

The public code (`get_metrics.py`) converted both images to yuv420p with ffmpeg and ran VQMT (rolinh/VQMT)
on the luma plane. Here every metric takes 2-D luma arrays (float, 0–255) and follows VQMT's definitions:

    luma        BT.601 limited range, rounded to 8 bits: Y = round(16 + (65.481 R + 128.553 G + 24.966 B) / 255)
                (RGB 0–255; Y in 16…235). This is `psnr_hvsm.bt601ycbcr` (×255) and, up to ffmpeg's integer
                rounding, what ffmpeg's rgb24 -> yuv420p gives.
    psnr        10·log10(255² / MSE) in dB over all pixels, or over a boolean mask (PSNR-S); inf when MSE = 0.
    ssim        Gaussian window 11×11, σ = 1.5, 'valid' (no padding), C1 = (0.01·255)², C2 = (0.03·255)²,
                population (co)variances, mean of the map. Computed by scikit-image
                `structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                data_range=255)`, which equals VQMT's 'valid' mean (its padded border is cropped).
    ms_ssim     5 scales, weights [0.0448, 0.2856, 0.3001, 0.2363, 0.1333]; between scales a ½ bilinear resize
                (for even sides exactly a 2×2 mean, what OpenCV's INTER_LINEAR does at factor 2); result
                mssim[5]·Π_{l<5} mcs[l]^w[l] (the last scale is *not* raised to w5, as VQMT). Own NumPy port:
                no PyPI package matches (pytorch-msssim / sewar / piq raise the last scale to w5 or filter
                differently). Sides must be multiples of 16 and ≥ 176.
    vifp        pixel-domain VIF (vifp_mscale.m): 4 scales, Gaussian N = 17, 9, 5, 3 with σ = N/5, 'valid',
                [::2] subsampling, σ²_n = 2 on the 0–255 scale. Our separable NumPy port, equal to sewar
                `vifp(ref, dist, sigma_nsq=2)` (a port of the same .m file, 50× slower; `backend="sewar"`);
                with sides multiple of 16 the subsampling equals VQMT's. Sides must be ≥ 80.
    psnr_hvs, psnr_hvsm   non-overlapping 8×8 orthonormal DCT blocks, Ponomarenko's CSF and masking tables,
                peak 255, dB. Computed by psnr-hvsm 0.3.0 (NumPy backend) on luma / 255. Flat blocks: the
                masking variance ratio is 0 (VQMT divides 0/0 there). Sides must be multiples of 8.

`vqmt_metrics(ref_rgb, dist_rgb, salient=None)` computes all of them (and PSNR-S on a mask) for one pair of
uint8 RGB images, after cropping both to multiples of 16 (top-left; the original rescaled with ffmpeg
instead). `salient_mask` gives the PSNR-S pixel set from a saliency map.
"""
from __future__ import annotations

import contextlib
import io
import math
from typing import Literal

import numpy as np
from scipy.ndimage import correlate1d

MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
SSIM_K = (0.01, 0.03)
PEAK = 255.0
VIFP_SIGMA_NSQ = 2.0
METRIC_UNITS = {"psnr": "dB", "psnr_s": "dB", "psnr_hvs": "dB", "psnr_hvsm": "dB", "ssim": "1", "ms_ssim": "1",
                "vifp": "1", "salient_fraction": "1"}


# ----------------------------------------------------------------------------------- inputs


def luma(rgb: np.ndarray) -> np.ndarray:
    """BT.601 limited-range luma rounded to 8 bits: float64 `[H, W]` with integer values in 16…235.

    Args:
        rgb: uint8 `[H, W, 3]` RGB, 0–255.
    """
    if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise TypeError(f"luma needs a uint8 RGB array [H, W, 3], got "
                        f"{getattr(rgb, 'dtype', type(rgb).__name__)} {getattr(rgb, 'shape', '')}")
    r, g, b = np.moveaxis(rgb.astype(np.float64), 2, 0)
    return np.round(16.0 + (65.481 * r + 128.553 * g + 24.966 * b) / 255.0)


def _pair(ref: np.ndarray, dist: np.ndarray, name: str, multiple: int = 1, min_side: int = 1
          ) -> tuple[np.ndarray, np.ndarray]:
    """Check two 2-D luma arrays (same shape, finite) and return them as float64."""
    for label, a in (("ref", ref), ("dist", dist)):
        if not isinstance(a, np.ndarray) or a.ndim != 2:
            raise ValueError(f"{name}: {label} must be a 2-D luma array [H, W] (use iqa.luma on RGB), "
                             f"got {getattr(a, 'shape', type(a).__name__)}")
    if ref.shape != dist.shape:
        raise ValueError(f"{name}: ref and dist shapes differ: {ref.shape} vs {dist.shape}")
    h, w = ref.shape
    if h % multiple or w % multiple:
        raise ValueError(f"{name} needs sides that are multiples of {multiple} (as VQMT), got {ref.shape}; "
                         "crop first (iqa.crop_to_multiple)")
    if min(h, w) < min_side:
        raise ValueError(f"{name} needs sides >= {min_side} px, got {ref.shape}")
    ref, dist = ref.astype(np.float64), dist.astype(np.float64)
    if not (np.isfinite(ref).all() and np.isfinite(dist).all()):
        raise ValueError(f"{name}: images have NaN or infinite values")
    return ref, dist


def crop_to_multiple(image: np.ndarray, multiple: int = 16) -> np.ndarray:
    """The top-left `[H − H mod m, W − W mod m, ...]` crop of an image (any trailing channels)."""
    h, w = image.shape[:2]
    if h < multiple or w < multiple:
        raise ValueError(f"image {image.shape[:2]} is smaller than one {multiple}×{multiple} block")
    return image[: h - h % multiple, : w - w % multiple]


def salient_mask(saliency: np.ndarray, rule: Literal["median", "threshold"] = "median",
                 threshold: float = 0.5) -> np.ndarray:
    """The PSNR-S pixel set: bool `[H, W]`.

    rule "median" (our default): saliency ≥ the map's median (the public code's model-6 salient set, about half
    the pixels); "threshold": saliency > `threshold` (e.g. 0.8, the thesis's top level of five, or 0.5 on a
    binary oracle mask). The thesis does not say which it used.
    """
    s = np.asarray(saliency, dtype=np.float64)
    if s.ndim != 2:
        raise ValueError(f"saliency must be [H, W], got {s.shape}")
    if rule == "median":
        return s >= np.median(s)
    if rule == "threshold":
        return s > threshold
    raise ValueError(f"rule must be 'median' or 'threshold', got {rule!r}")


# ----------------------------------------------------------------------------------- PSNR


def psnr(ref: np.ndarray, dist: np.ndarray, mask: np.ndarray | None = None) -> float:
    """PSNR in dB (peak 255) of two luma arrays `[H, W]` (0–255), over `mask` (bool `[H, W]`) if given.

    PSNR-S is `psnr(ref, dist, salient_mask(saliency))`. Returns inf when the (masked) MSE is 0.
    """
    ref, dist = _pair(ref, dist, "psnr")
    err = (ref - dist) ** 2
    if mask is not None:
        mask = np.asarray(mask)
        if mask.shape != ref.shape or mask.dtype != bool:
            raise ValueError(f"mask must be bool with shape {ref.shape}, got {mask.dtype} {mask.shape}")
        if not mask.any():
            raise ValueError("mask selects no pixels")
        err = err[mask]
    mse = float(err.mean())
    return math.inf if mse == 0 else 10.0 * math.log10(PEAK ** 2 / mse)


# ----------------------------------------------------------------------------------- SSIM, MS-SSIM


def ssim(ref: np.ndarray, dist: np.ndarray) -> float:
    """SSIM (VQMT/Wang 2004: Gaussian 11×11, σ 1.5, 'valid' mean) of two luma arrays `[H, W]` ≥ 11 px, 0–255."""
    from skimage.metrics import structural_similarity

    ref, dist = _pair(ref, dist, "ssim", min_side=11)
    return float(structural_similarity(ref, dist, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                       data_range=PEAK, K1=SSIM_K[0], K2=SSIM_K[1]))


def _gaussian_1d(size: int, sigma: float) -> np.ndarray:
    x = np.arange(size) - (size - 1) / 2
    g = np.exp(-(x ** 2) / (2 * sigma ** 2))
    return g / g.sum()


def _filter_valid(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Separable symmetric filter, 'valid' output `[..., H − n + 1, W − n + 1]` (correlation = convolution)."""
    n = len(kernel)
    r = n // 2
    y = correlate1d(correlate1d(x, kernel, axis=-1, mode="nearest"), kernel, axis=-2, mode="nearest")
    return y[..., r: x.shape[-2] - (n - 1 - r), r: x.shape[-1] - (n - 1 - r)]


def _ssim_cs(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(mean SSIM, mean contrast-structure) with VQMT's window and constants, 'valid'."""
    g = _gaussian_1d(11, 1.5)
    c1, c2 = (SSIM_K[0] * PEAK) ** 2, (SSIM_K[1] * PEAK) ** 2
    stack = _filter_valid(np.stack([x, y, x * x, y * y, x * y]), g)
    mu1, mu2 = stack[0], stack[1]
    s11, s22, s12 = stack[2] - mu1 ** 2, stack[3] - mu2 ** 2, stack[4] - mu1 * mu2
    cs = (2 * s12 + c2) / (s11 + s22 + c2)
    lum = (2 * mu1 * mu2 + c1) / (mu1 ** 2 + mu2 ** 2 + c1)
    return float((lum * cs).mean()), float(cs.mean())


def ms_ssim(ref: np.ndarray, dist: np.ndarray) -> float:
    """MS-SSIM as VQMT: 5 scales, 2×2-mean downsampling, mssim[5]·Π_{l<5} mcs[l]^w[l].

    Args: two luma arrays `[H, W]`, 0–255, sides multiples of 16 and ≥ 176 (11 px at the 5th scale).
    """
    x, y = _pair(ref, dist, "ms_ssim", multiple=16, min_side=176)
    out = 1.0
    for level, weight in enumerate(MS_SSIM_WEIGHTS):
        mssim, mcs = _ssim_cs(x, y)
        if level == len(MS_SSIM_WEIGHTS) - 1:
            return out * mssim
        out *= mcs ** weight
        h, w = x.shape
        x = x.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
        y = y.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
    raise AssertionError("unreachable")


# ----------------------------------------------------------------------------------- VIFP


def vifp(ref: np.ndarray, dist: np.ndarray, backend: Literal["numpy", "sewar"] = "numpy") -> float:
    """Pixel-domain VIF (Sheikh & Bovik 2006, vifp_mscale.m; σ²_n = 2) on luma `[H, W]`, 0–255.

    backend "numpy": our separable port of the same steps (about 50× faster than sewar's 2-D convolutions;
    tests/test_iqa.py checks it against sewar to 1e-9); "sewar": sewar.full_ref.vifp(ref, dist, sigma_nsq=2).
    Sides must be multiples of 16 (so that [::2] equals VQMT's subsampling) and ≥ 80.
    """
    ref, dist = _pair(ref, dist, "vifp", multiple=16, min_side=80)
    if backend == "sewar":
        from sewar.full_ref import vifp as sewar_vifp

        return float(sewar_vifp(ref, dist, sigma_nsq=VIFP_SIGMA_NSQ))
    if backend != "numpy":
        raise ValueError(f"backend must be 'numpy' or 'sewar', got {backend!r}")
    eps = 1e-10
    num = den = 0.0
    x, y = ref, dist
    for scale in range(4):
        n = 2 ** (4 - scale) + 1
        g = _gaussian_1d(n, n / 5.0)
        if scale > 0:
            x, y = _filter_valid(np.stack([x, y]), g)[:, ::2, ::2]
        mu1, mu2, sxx, syy, sxy = _filter_valid(np.stack([x, y, x * x, y * y, x * y]), g)
        s11 = np.maximum(sxx - mu1 * mu1, 0.0)
        s22 = np.maximum(syy - mu2 * mu2, 0.0)
        s12 = sxy - mu1 * mu2
        gain = s12 / (s11 + eps)
        sv = s22 - gain * s12
        flat_ref, flat_dist = s11 < eps, s22 < eps
        gain = np.where(flat_ref | flat_dist, 0.0, gain)
        sv = np.where(flat_ref, s22, sv)
        s11 = np.where(flat_ref, 0.0, s11)
        sv = np.where(flat_dist, 0.0, sv)
        sv = np.where(gain < 0, s22, sv)
        gain = np.maximum(gain, 0.0)
        sv = np.maximum(sv, eps)
        num += float(np.log10(1.0 + gain ** 2 * s11 / (sv + VIFP_SIGMA_NSQ)).sum())
        den += float(np.log10(1.0 + s11 / VIFP_SIGMA_NSQ).sum())
    return num / den


# ----------------------------------------------------------------------------------- PSNR-HVS(-M)


def _psnr_hvsm_backend():
    """psnr-hvsm's NumPy function, imported without its banner (it prints when its torch backend fails)."""
    with contextlib.redirect_stdout(io.StringIO()):
        from psnr_hvsm.numpy import psnr_hvs_hvsm
    return psnr_hvs_hvsm


def psnr_hvs_hvsm(ref: np.ndarray, dist: np.ndarray) -> tuple[float, float]:
    """(PSNR-HVS, PSNR-HVS-M) in dB of luma `[H, W]` (0–255, sides multiples of 8); inf when identical."""
    ref, dist = _pair(ref, dist, "psnr_hvs", multiple=8, min_side=8)
    fn = _psnr_hvsm_backend()
    with np.errstate(divide="ignore", invalid="ignore"):       # flat blocks: the library takes the 0 branch
        hvs, hvsm = fn(ref / PEAK, dist / PEAK)
    if np.array_equal(ref, dist):
        return math.inf, math.inf
    return float(hvs), float(hvsm)


def psnr_hvs(ref: np.ndarray, dist: np.ndarray) -> float:
    """PSNR-HVS in dB (Egiazarian et al. 2006); see `psnr_hvs_hvsm`."""
    return psnr_hvs_hvsm(ref, dist)[0]


def psnr_hvsm(ref: np.ndarray, dist: np.ndarray) -> float:
    """PSNR-HVS-M in dB (Ponomarenko et al. 2007); see `psnr_hvs_hvsm`."""
    return psnr_hvs_hvsm(ref, dist)[1]


# ----------------------------------------------------------------------------------- all of Table 2.1


def vqmt_metrics(ref_rgb: np.ndarray, dist_rgb: np.ndarray, salient: np.ndarray | None = None,
                 strict: bool = True) -> dict[str, float]:
    """Table 2.1's metrics for one image pair, on BT.601 luma after a top-left crop to multiples of 16.

    Args:
        ref_rgb, dist_rgb: uint8 `[H, W, 3]` RGB (reference and decoded), same shape, sides ≥ 16.
        salient: optional bool `[H, W]` PSNR-S pixel set (e.g. `salient_mask(saliency)`), cropped alike.
        strict: raise when an image is too small for MS-SSIM (176 px) or VIFP (80 px); False gives NaN.

    Returns:
        {"psnr", "psnr_s" (NaN without a mask), "psnr_hvs", "psnr_hvsm" (dB), "ssim", "ms_ssim", "vifp",
        "salient_fraction" (share of the cropped pixels in the mask, NaN without one)}.
    """
    for label, a in (("ref_rgb", ref_rgb), ("dist_rgb", dist_rgb)):
        if not isinstance(a, np.ndarray) or a.dtype != np.uint8 or a.ndim != 3 or a.shape[2] != 3:
            raise TypeError(f"{label} must be uint8 [H, W, 3], got {getattr(a, 'dtype', type(a).__name__)} "
                            f"{getattr(a, 'shape', '')}")
    if ref_rgb.shape != dist_rgb.shape:
        raise ValueError(f"image shapes differ: {ref_rgb.shape} vs {dist_rgb.shape}")
    y_ref, y_dist = luma(crop_to_multiple(ref_rgb)), luma(crop_to_multiple(dist_rgb))
    out: dict[str, float] = {"psnr": psnr(y_ref, y_dist), "psnr_s": math.nan, "salient_fraction": math.nan}
    if salient is not None:
        salient = np.asarray(salient)
        if salient.shape != ref_rgb.shape[:2]:
            raise ValueError(f"salient must have shape {ref_rgb.shape[:2]}, got {salient.shape}")
        mask = crop_to_multiple(salient)
        out["psnr_s"] = psnr(y_ref, y_dist, mask)
        out["salient_fraction"] = float(mask.mean())
    out["psnr_hvs"], out["psnr_hvsm"] = psnr_hvs_hvsm(y_ref, y_dist)
    out["ssim"] = ssim(y_ref, y_dist)
    side = min(y_ref.shape)
    out["ms_ssim"] = ms_ssim(y_ref, y_dist) if strict or side >= 176 else math.nan
    out["vifp"] = vifp(y_ref, y_dist) if strict or side >= 80 else math.nan
    return out
