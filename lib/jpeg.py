"""Variable-quality (semantic) JPEG at the file size of a standard JPEG (Prakash thesis ch. 2, MS-ROI).

One entry point, `msroi_jpeg(image, saliency, variant, reference_quality=50) -> bytes` (also `lib.msroi_jpeg`),
and `encode_msroi(...)`, which returns the bytes with what was chosen (`MsroiJpeg`). Three encoders:

    thesis  Algorithm 1 of the thesis: the saliency of each block (8×8, or the 16×16 MCU with 4:2:0) is
            quantised into k levels with qualities Q_l…Q_h; every used level's JPEG of the whole image is
            decoded, each block takes the pixels of its level (a mosaic), and the mosaic is encoded once more
            at the final quality Q_f. Knob: Q_f.
    code    the public code's scheme (iamaaditya/image-compression-cnn `combine_images.py`, `-model 6`, which
            produced the authors' logs): per pixel, saliency below the map median takes the decoded Q80 JPEG,
            the rest the decoded Q100 JPEG; the mosaic is encoded at Q_f. `-model 3` (map deciles -> Q20…Q100)
            is `CodeParams(rule="model3")`. Knob: Q_f.
    dct     true per-block quantisation in one pass: the JPEG forward path in NumPy (JFIF YCbCr, 8×8 DCT),
            each block quantised with its level's IJG tables, the coefficients re-expressed in the finest
            level's table and written by libjpeg (jpeglib `from_dct` / `write_dct`) as a standard baseline JPEG.
            Knob: a shift δ added to every level's quality (Q_n + δ).

Equal size: the reference is Pillow's JPEG of the same image at `reference_quality` (integer quality,
same chroma subsampling, `optimize=False`). Each variant bisects its knob, a *real* quality in [1, 100]
(tables by the IJG scaling formula with a real scale; at an integer quality they are exactly Pillow's /
libjpeg's), until |size / reference − 1| ≤ `tol` (default 0.01). A variant that cannot get there raises
`SizeMatchError` with the closest size it reached. `jpeg_at_size` is the second reference: a standard
JPEG whose quality is bisected to match a given byte count.

Units and conventions: images are uint8 RGB `[H, W, 3]` (0–255); saliency is float `[H, W]` in [0, 1] (1 =
most salient); qualities are IJG quality factors (1–100); sizes are bytes of the whole JFIF file.
Subsampling "4:4:4" (Pillow `subsampling=0`, the default here: 8×8 luma and chroma blocks coincide) or
"4:2:0" (Pillow's default and the public code's; the unit of a level is then the 16×16 MCU).
"""
from __future__ import annotations

import io
import math
import os
import tempfile
from dataclasses import dataclass, field
from typing import Callable, Literal

import numpy as np
from PIL import Image

Variant = Literal["thesis", "code", "dct"]
Subsampling = Literal["4:4:4", "4:2:0"]
VARIANTS: tuple[str, ...] = ("thesis", "code", "dct")
_PIL_SUBSAMPLING = {"4:4:4": 0, "4:2:0": 2}
_UNIT = {"4:4:4": 8, "4:2:0": 16}          # pixels per side of one quality decision (a block or an MCU)

# ITU-T T.81 Annex K base tables (K.1 luminance, K.2 chrominance), natural (row-major) order.
IJG_LUMA = np.array([
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99], dtype=np.int64).reshape(8, 8)
IJG_CHROMA = np.full((8, 8), 99, dtype=np.int64)
IJG_CHROMA[:4, :4] = np.array([17, 18, 24, 47, 18, 21, 26, 66, 24, 26, 56, 99, 47, 66, 99, 99]).reshape(4, 4)


class SizeMatchError(RuntimeError):
    """A variant could not bring its file within the size tolerance of the reference.

    Attributes: `variant`, `target_bytes` (the reference size), `closest_bytes` (the nearest size reached),
    `closest_knob` (the knob value that gave it), `tol` (relative tolerance), `knob_range` (searched interval).
    """

    def __init__(self, variant: str, target_bytes: int, closest_bytes: int, closest_knob: float, tol: float,
                 knob_range: tuple[float, float], knob_name: str):
        self.variant, self.target_bytes, self.closest_bytes = variant, target_bytes, closest_bytes
        self.closest_knob, self.tol, self.knob_range = closest_knob, tol, knob_range
        super().__init__(
            f"{variant!r} JPEG could not match the reference size {target_bytes} B within ±{tol:.1%}: "
            f"the closest was {closest_bytes} B ({closest_bytes / target_bytes - 1:+.2%}) at {knob_name}="
            f"{closest_knob:.3f}, searching {knob_name} in [{knob_range[0]:.2f}, {knob_range[1]:.2f}]")


# ----------------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class ThesisParams:
    """Algorithm 1 (thesis §2.4-2.5). Defaults: five levels, Q 30…70 in steps of ten.

    k: number of saliency levels; level n = min(k−1, ceil(s·k) − 1) for block saliency s (s = 0 -> 0).
    q_low, q_high: Q_l and Q_h (IJG quality). step: "k-1" gives Q_n = Q_l + n·(Q_h−Q_l)/(k−1)
    ({30,40,50,60,70}, the thesis's "increments of ten"); "k" is eq. 2.7 as printed, /k ({30,38,46,54,62}).
    block_stat: how the map is reduced to one value per block/MCU ("mean" or "max").
    q_final_range: the interval searched for the final quality Q_f.
    """

    k: int = 5
    q_low: float = 30.0
    q_high: float = 70.0
    step: Literal["k-1", "k"] = "k-1"
    block_stat: Literal["mean", "max"] = "mean"
    q_final_range: tuple[float, float] = (1.0, 100.0)


@dataclass(frozen=True)
class CodeParams:
    """The public code's mosaic (`combine_images.py`). Defaults: `-model 6` (the authors' logs).

    rule: "model6" (saliency < map median -> Q80, else Q100) or "model3" (index = 1 + number of map
    percentiles 10, 20, …, 100 at or below the pixel's saliency, clipped to 1…9 -> Q = 10·(index+1)).
    search: "bisect" (a real Q_f in `q_final_range`, to the size tolerance) or "descending" (the code's
    `-find_best`: integer Q_f = 90, 89, …, 21, the first whose size ≤ reference·(1 + threshold_pct/100);
    the size tolerance is still checked afterwards).
    """

    rule: Literal["model6", "model3"] = "model6"
    search: Literal["bisect", "descending"] = "bisect"
    threshold_pct: float = 1.0
    q_final_range: tuple[float, float] = (1.0, 100.0)


@dataclass(frozen=True)
class DctParams:
    """True per-block quantisation. Levels as `ThesisParams`; knob: a shift δ of every level's quality.

    Level n is quantised with the IJG tables of quality clip(Q_n + δ, 1, 100); δ is searched in
    [1 − Q_l, 100 − Q_h] (both ends reachable) unless `shift_range` is given.
    """

    k: int = 5
    q_low: float = 30.0
    q_high: float = 70.0
    step: Literal["k-1", "k"] = "k-1"
    block_stat: Literal["mean", "max"] = "mean"
    shift_range: tuple[float, float] | None = None


_PARAMS = {"thesis": ThesisParams, "code": CodeParams, "dct": DctParams}


@dataclass(frozen=True)
class MsroiJpeg:
    """One semantic JPEG and what was chosen to make it.

    data: the JFIF bytes. n_bytes / ref_bytes: its size and the reference's (bytes); size_error = n/ref − 1.
    knob_name / knob: "final_quality" (thesis, code) or "level_shift" (dct) and its value.
    final_quality: Q_f for thesis/code; for dct the area-weighted mean of the per-block qualities.
    unit_quality: `[ceil(H/u), ceil(W/u)]` float, the quality each block/MCU (u = 8 or 16 px) was coded with
    before any final re-encode (thesis, dct); for `code`, whose decision is per pixel, the mean over the unit.
    levels: the level qualities before the shift (thesis, dct) or the mosaic's qualities (code).
    n_encodes: encoder calls made (the reference included).
    """

    data: bytes
    variant: str
    subsampling: str
    reference_quality: int
    n_bytes: int
    ref_bytes: int
    size_error: float
    knob_name: str
    knob: float
    final_quality: float
    unit_quality: np.ndarray = field(repr=False)
    levels: tuple[float, ...]
    n_encodes: int


@dataclass(frozen=True)
class StandardJpeg:
    """A standard JPEG: bytes, its quality (a real IJG quality) and its size in bytes."""

    data: bytes
    quality: float
    n_bytes: int


# ----------------------------------------------------------------------------------- validation


def _check_image(image: np.ndarray) -> np.ndarray:
    if not isinstance(image, np.ndarray):
        raise TypeError(f"image must be a NumPy uint8 array [H, W, 3], got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise TypeError(f"image must be uint8 (0-255), got dtype {image.dtype}")
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image must have shape [H, W, 3] (RGB), got {image.shape}")
    if min(image.shape[:2]) < 1 or max(image.shape[:2]) > 65500:
        raise ValueError(f"image sides must be 1…65500 pixels for JPEG, got {image.shape[:2]}")
    return np.ascontiguousarray(image)


def _check_saliency(saliency: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    if not isinstance(saliency, np.ndarray):
        raise TypeError(f"saliency must be a NumPy float array [H, W], got {type(saliency).__name__}")
    if not np.issubdtype(saliency.dtype, np.floating):
        raise TypeError(f"saliency must be a float array in [0, 1], got dtype {saliency.dtype}")
    if saliency.shape != tuple(shape):
        raise ValueError(f"saliency must have the image's shape {tuple(shape)} ([H, W]), got {saliency.shape}")
    if not np.isfinite(saliency).all():
        raise ValueError("saliency has NaN or infinite values")
    lo, hi = float(saliency.min()), float(saliency.max())
    if lo < 0.0 or hi > 1.0:
        raise ValueError(f"saliency must lie in [0, 1], got values in [{lo:.4g}, {hi:.4g}]")
    return saliency.astype(np.float64, copy=False)


def _check_subsampling(subsampling: str) -> str:
    if subsampling not in _PIL_SUBSAMPLING:
        raise ValueError(f"subsampling must be one of {sorted(_PIL_SUBSAMPLING)}, got {subsampling!r}")
    return subsampling


def _check_quality(quality: float, name: str, integer: bool = False) -> None:
    if integer and (not isinstance(quality, (int, np.integer)) or isinstance(quality, bool)):
        raise TypeError(f"{name} must be an int (Pillow quality), got {quality!r}")
    if not 1 <= quality <= 100:
        raise ValueError(f"{name} must be in [1, 100], got {quality}")


# ----------------------------------------------------------------------------------- standard JPEG


def ijg_scale(quality: float) -> float:
    """The IJG percentage scale of a quality factor: 5000/Q below 50, 200 − 2Q from 50 (Q real, 1…100)."""
    return 5000.0 / quality if quality < 50 else 200.0 - 2.0 * quality


def ijg_tables(quality: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """IJG (libjpeg `jpeg_quality_scaling` + `jpeg_add_quant_table`, baseline) tables for a real quality.

    Args:
        quality: scalar or array `[...]` of qualities in [1, 100]; integers give exactly libjpeg's tables.

    Returns:
        (luma, chroma): int64 `[..., 8, 8]` in natural (row-major) order, entries in 1…255.
    """
    q = np.asarray(quality, dtype=np.float64)
    if np.any((q < 1) | (q > 100)):
        raise ValueError(f"quality must be in [1, 100], got {quality}")
    scale = np.where(q < 50, 5000.0 / q, 200.0 - 2.0 * q)[..., None, None]
    luma = np.clip(np.floor((IJG_LUMA * scale + 50.0) / 100.0), 1, 255).astype(np.int64)
    chroma = np.clip(np.floor((IJG_CHROMA * scale + 50.0) / 100.0), 1, 255).astype(np.int64)
    return luma, chroma


def pillow_jpeg(image: np.ndarray, quality: float, subsampling: Subsampling = "4:4:4") -> bytes:
    """A standard JPEG by Pillow (libjpeg), `optimize=False`, no metadata.

    An integer `quality` goes through Pillow's `quality=`; a real one through `qtables=` with the IJG
    tables of that quality (identical bytes at integer qualities).

    Args:
        image: uint8 `[H, W, 3]` RGB. quality: IJG quality in [1, 100]. subsampling: "4:4:4" or "4:2:0".
    """
    _check_quality(quality, "quality")
    pil = Image.fromarray(image)
    buf = io.BytesIO()
    kw = dict(format="JPEG", subsampling=_PIL_SUBSAMPLING[subsampling], optimize=False)
    if float(quality).is_integer():
        pil.save(buf, quality=int(quality), **kw)
    else:
        luma, chroma = ijg_tables(quality)
        pil.save(buf, qtables=[luma.ravel().tolist(), chroma.ravel().tolist()], **kw)
    return buf.getvalue()


def decode(data: bytes) -> np.ndarray:
    """Decode JPEG bytes with Pillow: uint8 `[H, W, 3]` RGB."""
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"))


def reference_jpeg(image: np.ndarray, reference_quality: int = 50, subsampling: Subsampling = "4:4:4") -> bytes:
    """The size reference: Pillow's JPEG of `image` at integer `reference_quality` (same subsampling)."""
    image = _check_image(image)
    _check_quality(reference_quality, "reference_quality", integer=True)
    return pillow_jpeg(image, int(reference_quality), _check_subsampling(subsampling))


# ----------------------------------------------------------------------------------- size matching


def _bisect_size(encode: Callable[[float], bytes], lo: float, hi: float, target: int, tol: float,
                 variant: str, knob_name: str, guess: float | None = None, step: float = 6.0,
                 aim: float | None = None, max_iter: int = 40) -> tuple[bytes, float, int]:
    """Search a knob in [lo, hi] (size non-decreasing in it) until |size/target − 1| ≤ tol.

    Starts at `guess` (clipped; the middle when None) and steps outward by `step`, doubling, until the target
    is bracketed (or an end of [lo, hi] is reached), then narrows the bracket by false position on log(size)
    (points kept 5% away from the ends; a bisection whenever the same end moved twice in a row). Stops at the
    first size within `aim` (default tol/2) or when the bracket is narrower than 1e-3, and returns the trial
    closest to the
    target: (bytes, knob, number of encodes). Raises SizeMatchError when [lo, hi] cannot reach the target, or
    the size jumps over the tolerance band (sizes are integers and tables change in steps).
    """
    seen: dict[float, tuple[float, bytes]] = {}          # knob -> (|error|, data)

    def trial(knob: float) -> int:
        if knob not in seen:
            data = encode(knob)
            seen[knob] = (abs(len(data) / target - 1.0), data)
        return len(seen[knob][1])

    def done() -> tuple[bytes, float, int]:
        knob = min(seen, key=lambda k: seen[k][0])
        err, data = seen[knob]
        if err <= tol:
            return data, knob, len(seen)
        raise SizeMatchError(variant, target, len(data), knob, tol, (lo, hi), knob_name)

    aim = tol / 2 if aim is None else min(aim, tol)
    x = min(max(0.5 * (lo + hi) if guess is None else guess, lo), hi)
    size = trial(x)
    if abs(size / target - 1.0) <= aim:
        return done()
    # bracket: a with size < target, b with size > target
    a = b = None
    if size < target:
        a, d = x, step
        while b is None:
            if a >= hi:
                return done()                                # even the top of the range is too small
            nxt = min(a + d, hi)
            s_n = trial(nxt)
            if abs(s_n / target - 1.0) <= aim:
                return done()
            if s_n < target:
                a, d = nxt, 2 * d
            else:
                b = nxt
    else:
        b, d = x, step
        while a is None:
            if b <= lo:
                return done()                                # even the bottom of the range is too large
            nxt = max(b - d, lo)
            s_n = trial(nxt)
            if abs(s_n / target - 1.0) <= aim:
                return done()
            if s_n > target:
                b, d = nxt, 2 * d
            else:
                a = nxt
    la, lb, lt = math.log(trial(a)), math.log(trial(b)), math.log(target)
    last_side = prev_side = 0
    for _ in range(max_iter):
        if b - a < 1e-3:
            break
        if (last_side != 0 and last_side == prev_side) or lb <= la:
            x = 0.5 * (a + b)
        else:
            x = a + (b - a) * min(max((lt - la) / (lb - la), 0.05), 0.95)
        size = trial(x)
        if abs(size / target - 1.0) <= aim:              # inside the band, not at its edge
            break
        prev_side, last_side = last_side, (-1 if size < target else 1)
        if size < target:
            a, la = x, math.log(size)
        else:
            b, lb = x, math.log(size)
    return done()


def jpeg_at_size(image: np.ndarray, target_bytes: int, subsampling: Subsampling = "4:4:4", tol: float = 0.01,
                 integer: bool = False, guess: float = 50.0, aim: float = 0.001) -> StandardJpeg:
    """The second reference: a standard JPEG whose quality is chosen to match `target_bytes`.

    Args:
        image: uint8 `[H, W, 3]`. target_bytes: the size to match (bytes). subsampling: "4:4:4" / "4:2:0".
        tol: relative size tolerance. integer: search integer Pillow qualities only (then the nearest
            size is returned, and `tol` is not enforced); otherwise a real quality is searched, starting
            at `guess`, until the size is within `aim` (0.1%; or the closest a 1e-3 quality step gives),
            and must end within `tol`.

    Raises:
        SizeMatchError: when no quality in [1, 100] comes within `tol` (real search only).
    """
    image = _check_image(image)
    _check_subsampling(subsampling)
    if target_bytes <= 0:
        raise ValueError(f"target_bytes must be positive, got {target_bytes}")
    if integer:
        lo, hi = 1, 100
        while hi - lo > 1:                                   # smallest Q with size >= target
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if len(pillow_jpeg(image, mid, subsampling)) < target_bytes else (lo, mid)
        cands = [(q, pillow_jpeg(image, q, subsampling)) for q in (lo, hi)]
        q, data = min(cands, key=lambda c: abs(len(c[1]) - target_bytes))
        return StandardJpeg(data, float(q), len(data))
    data, q, _ = _bisect_size(lambda x: pillow_jpeg(image, x, subsampling), 1.0, 100.0, int(target_bytes), tol,
                              "standard", "quality", guess=guess, aim=aim)
    return StandardJpeg(data, float(q), len(data))


# ----------------------------------------------------------------------------------- blocks and levels


def _unit_reduce(saliency: np.ndarray, unit: int, stat: str) -> np.ndarray:
    """`[H, W]` -> `[ceil(H/u), ceil(W/u)]` mean or max over u×u units (edge units padded by replication)."""
    h, w = saliency.shape
    hb, wb = -(-h // unit), -(-w // unit)
    padded = np.pad(saliency, ((0, hb * unit - h), (0, wb * unit - w)), mode="edge")
    blocks = padded.reshape(hb, unit, wb, unit)
    return blocks.mean(axis=(1, 3)) if stat == "mean" else blocks.max(axis=(1, 3))


def level_qualities(k: int, q_low: float, q_high: float, step: str = "k-1") -> np.ndarray:
    """`[k]` float qualities Q_n = Q_l + n·(Q_h − Q_l)/(k−1) ("k-1") or /k (eq. 2.7 as printed, "k")."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if step not in ("k-1", "k"):
        raise ValueError(f"step must be 'k-1' or 'k', got {step!r}")
    _check_quality(q_low, "q_low")
    _check_quality(q_high, "q_high")
    if q_high < q_low:
        raise ValueError(f"q_high ({q_high}) must be >= q_low ({q_low})")
    denom = max(k - 1, 1) if step == "k-1" else k
    return q_low + np.arange(k) * (q_high - q_low) / denom


def saliency_levels(unit_saliency: np.ndarray, k: int) -> np.ndarray:
    """Level n = min(k−1, ceil(s·k) − 1), s = 0 -> 0: the intervals [0,1/k], (1/k,2/k], … (int64, same shape)."""
    return np.clip(np.ceil(unit_saliency * k).astype(np.int64) - 1, 0, k - 1)


def _expand(unit_map: np.ndarray, unit: int, shape: tuple[int, int]) -> np.ndarray:
    """`[hb, wb]` -> `[H, W]`: each unit's value repeated over its u×u pixels, cropped to the image."""
    return np.repeat(np.repeat(unit_map, unit, axis=0), unit, axis=1)[: shape[0], : shape[1]]


def _mosaic(image: np.ndarray, qualities: np.ndarray, pixel_level: np.ndarray, subsampling: str) -> np.ndarray:
    """Each pixel takes its level's decoded JPEG: `[H, W, 3]` uint8 (only the used levels are encoded)."""
    used = np.unique(pixel_level)
    stack = np.stack([decode(pillow_jpeg(image, float(qualities[n]), subsampling)) for n in used])   # [u, H, W, 3]
    index = np.searchsorted(used, pixel_level)                                                     # [H, W]
    return np.take_along_axis(stack, index[None, :, :, None], axis=0)[0]


# ----------------------------------------------------------------------------------- DCT-domain writer


def _rgb_to_ycbcr(rgb: np.ndarray) -> np.ndarray:
    """JFIF full-range YCbCr (libjpeg's `rgb_ycc` coefficients), float64 `[3, H, W]`, 0–255."""
    r, g, b = np.moveaxis(rgb.astype(np.float64), 2, 0)
    return np.stack([0.299 * r + 0.587 * g + 0.114 * b,
                     -0.168735892 * r - 0.331264108 * g + 0.5 * b + 128.0,
                     0.5 * r - 0.418687589 * g - 0.081312411 * b + 128.0])


_C8 = np.array([[math.sqrt((1 if u == 0 else 2) / 8) * math.cos((2 * x + 1) * u * math.pi / 16) for x in range(8)]
                for u in range(8)])                                                    # orthonormal DCT-II


def _block_dct(plane: np.ndarray) -> np.ndarray:
    """`[Hp, Wp]` (multiples of 8) -> `[Hp/8, Wp/8, 8, 8]` JPEG forward DCT of (plane − 128)."""
    hp, wp = plane.shape
    blocks = (plane - 128.0).reshape(hp // 8, 8, wp // 8, 8).transpose(0, 2, 1, 3)
    return _C8 @ blocks @ _C8.T


def _round_half_away(x: np.ndarray) -> np.ndarray:
    """Round half away from zero, as libjpeg's quantiser does."""
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


class _DctPlanes:
    """The image's unquantised DCT coefficients, computed once per image and reused across the bisection."""

    def __init__(self, image: np.ndarray, subsampling: str):
        h, w = image.shape[:2]
        mcu = _UNIT[subsampling]
        hp, wp = -(-h // mcu) * mcu, -(-w // mcu) * mcu
        ycc = _rgb_to_ycbcr(np.pad(image, ((0, hp - h), (0, wp - w), (0, 0)), mode="edge"))
        chroma = ycc[1:]
        if subsampling == "4:2:0":                                # 2×2 box average, as libjpeg's h2v2 downsample
            chroma = chroma.reshape(2, hp // 2, 2, wp // 2, 2).mean(axis=(2, 4))
        self.shape, self.subsampling = (h, w), subsampling
        self.luma = _block_dct(ycc[0])                                                # [Hp/8, Wp/8, 8, 8]
        self.chroma = np.stack([_block_dct(c) for c in chroma])                       # [2, Hc/8, Wc/8, 8, 8]

    def write(self, unit_quality: np.ndarray) -> bytes:
        """Quantise every block with its unit's quality `[hb, wb]` and write a baseline JPEG (bytes).

        Block coefficients are quantised with their level's tables T_n and re-expressed in the finest used
        level's tables T_f (stored in the file): c = round(round(D / T_n)·T_n / T_f). Where T_n is not a
        multiple of T_f this adds at most T_f/2 of error per coefficient; blocks at the finest level are exact.
        """
        q_store = float(unit_quality.max())
        luma_store, chroma_store = ijg_tables(q_store)                                 # finest used level
        luma_t, chroma_t = ijg_tables(unit_quality)                                    # [hb, wb, 8, 8]
        if self.subsampling == "4:2:0":                                              # luma blocks: 2×2 per MCU
            luma_t = np.repeat(np.repeat(luma_t, 2, axis=0), 2, axis=1)

        def coeffs(dct: np.ndarray, tables: np.ndarray, store: np.ndarray) -> np.ndarray:
            levels = _round_half_away(dct / tables) * tables                          # dequantised values
            return np.clip(_round_half_away(levels / store), -2047, 2047).astype(np.int16)

        return _write_dct(coeffs(self.luma, luma_t, luma_store),
                          coeffs(self.chroma[0], chroma_t, chroma_store),
                          coeffs(self.chroma[1], chroma_t, chroma_store),
                          luma_store, chroma_store, self.shape)


def _write_dct(y: np.ndarray, cb: np.ndarray, cr: np.ndarray, luma_table: np.ndarray, chroma_table: np.ndarray,
               shape: tuple[int, int]) -> bytes:
    """Entropy-code quantised coefficients with libjpeg through jpeglib; returns the JFIF bytes.

    jpeglib 1.0.2's `qf_to_qt` ignores its quality, so the tables are always passed explicitly; slot 0 is
    luma, slot 1 chroma (`quant_tbl_no`). The image size is set to the true size (blocks are padded).
    """
    import jpeglib

    jpeg = jpeglib.from_dct(y, cb, cr, qt=np.stack([luma_table, chroma_table]).astype(np.uint16),
                            quant_tbl_no=[0, 1, 1])
    jpeg.height, jpeg.width = shape
    fd, path = tempfile.mkstemp(suffix=".jpg")
    os.close(fd)
    try:
        jpeg.write_dct(path)
        with open(path, "rb") as f:
            return f.read()
    finally:
        os.remove(path)


# ----------------------------------------------------------------------------------- the encoders


def _check_range(rng: tuple[float, float], name: str, lo: float, hi: float) -> tuple[float, float]:
    a, b = (float(v) for v in rng)
    if not lo <= a < b <= hi:
        raise ValueError(f"{name} must be an interval (a, b) with {lo:g} <= a < b <= {hi:g}, got {rng}")
    return a, b


def _resolve_params(variant: str, params):
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; expected one of {VARIANTS}")
    cls = _PARAMS[variant]
    if params is None:
        return cls()
    if not isinstance(params, cls):
        raise TypeError(f"variant {variant!r} takes {cls.__name__}, got {type(params).__name__}")
    return params


def encode_msroi(image: np.ndarray, saliency: np.ndarray, variant: Variant, reference_quality: int = 50,
                 subsampling: Subsampling = "4:4:4", params: ThesisParams | CodeParams | DctParams | None = None,
                 tol: float = 0.01) -> MsroiJpeg:
    """Semantic JPEG of `image` whose size matches Pillow's JPEG at `reference_quality` within ±`tol`.

    Args:
        image: uint8 `[H, W, 3]` RGB, 0–255.
        saliency: float `[H, W]` in [0, 1] (1 = most salient).
        variant: "thesis", "code" or "dct" (module docstring).
        reference_quality: integer Pillow quality of the reference JPEG (same `subsampling`).
        subsampling: "4:4:4" or "4:2:0", used for the reference and for every encode of the variant.
        params: `ThesisParams`, `CodeParams` or `DctParams` matching `variant` (defaults when None).
        tol: relative size tolerance (0.01 = ±1%).

    Returns:
        `MsroiJpeg` (bytes and the chosen knob, per-unit qualities, sizes).

    Raises:
        TypeError / ValueError: bad input (dtype, shape, saliency range, variant, params, quality).
        SizeMatchError: the knob range cannot reach the reference size within `tol`.
    """
    image = _check_image(image)
    saliency = _check_saliency(saliency, image.shape[:2])
    _check_subsampling(subsampling)
    _check_quality(reference_quality, "reference_quality", integer=True)
    if not 0 < tol < 1:
        raise ValueError(f"tol must be in (0, 1), got {tol}")
    p = _resolve_params(variant, params)
    ref = pillow_jpeg(image, int(reference_quality), subsampling)
    target = len(ref)
    unit = _UNIT[subsampling]
    shape = image.shape[:2]
    common = dict(variant=variant, subsampling=subsampling, reference_quality=int(reference_quality),
                  ref_bytes=target)

    if variant in ("thesis", "dct"):
        levels = level_qualities(p.k, p.q_low, p.q_high, p.step)
        unit_level = saliency_levels(_unit_reduce(saliency, unit, p.block_stat), p.k)        # [hb, wb]

    if variant == "thesis":
        mosaic = _mosaic(image, levels, _expand(unit_level, unit, shape), subsampling)
        n_pre = len(np.unique(unit_level))
        q_range = _check_range(p.q_final_range, "q_final_range", 1.0, 100.0)
        data, qf, n = _bisect_size(lambda q: pillow_jpeg(mosaic, q, subsampling), *q_range, target, tol,
                                   variant, "final_quality", guess=float(reference_quality))
        return MsroiJpeg(data=data, n_bytes=len(data), size_error=len(data) / target - 1, knob_name="final_quality",
                         knob=qf, final_quality=qf, unit_quality=levels[unit_level], levels=tuple(levels),
                         n_encodes=1 + n_pre + n, **common)

    if variant == "code":
        qualities = np.arange(10.0, 101.0, 10.0)                                        # Q10…Q100, index 0…9
        if p.rule == "model6":
            index = np.where(saliency < np.percentile(saliency, 50), 7, 9)
        elif p.rule == "model3":
            deciles = np.percentile(saliency, np.arange(10, 101, 10))
            index = 1 + np.searchsorted(deciles, saliency, side="right")
        else:
            raise ValueError(f"CodeParams.rule must be 'model6' or 'model3', got {p.rule!r}")
        index = np.clip(index, 1, 9)
        mosaic = _mosaic(image, qualities, index, subsampling)
        n_pre = len(np.unique(index))
        if p.search == "descending":
            cap = target * (1 + p.threshold_pct / 100.0)
            n = 0
            for q in range(90, 20, -1):
                data = pillow_jpeg(mosaic, q, subsampling)
                n += 1
                if len(data) <= cap:
                    break
            qf = float(q)
            if abs(len(data) / target - 1) > tol:
                raise SizeMatchError(variant, target, len(data), qf, tol, (21.0, 90.0), "final_quality")
        elif p.search == "bisect":
            q_range = _check_range(p.q_final_range, "q_final_range", 1.0, 100.0)
            data, qf, n = _bisect_size(lambda q: pillow_jpeg(mosaic, q, subsampling), *q_range, target,
                                       tol, variant, "final_quality", guess=float(reference_quality))
        else:
            raise ValueError(f"CodeParams.search must be 'bisect' or 'descending', got {p.search!r}")
        unit_q = _unit_reduce(qualities[index], unit, "mean")
        return MsroiJpeg(data=data, n_bytes=len(data), size_error=len(data) / target - 1, knob_name="final_quality",
                         knob=qf, final_quality=qf, unit_quality=unit_q, levels=tuple(qualities[np.unique(index)]),
                         n_encodes=1 + n_pre + n, **common)

    # dct
    full = (1.0 - float(levels.min()), 100.0 - float(levels.max()))
    lo, hi = full if p.shift_range is None else _check_range(p.shift_range, "shift_range", -99.0, 99.0)
    planes = _DctPlanes(image, subsampling)
    unit_base = levels[unit_level]

    def shifted(delta: float) -> np.ndarray:
        return np.clip(unit_base + delta, 1.0, 100.0)

    guess = float(reference_quality) - float(np.mean(unit_base))           # mean block quality = the reference's
    data, delta, n = _bisect_size(lambda d: planes.write(shifted(d)), lo, hi, target, tol, variant, "level_shift",
                                  guess=guess)
    unit_q = shifted(delta)
    rows = np.minimum(unit, shape[0] - unit * np.arange(unit_q.shape[0]))    # pixels of each unit in the image
    cols = np.minimum(unit, shape[1] - unit * np.arange(unit_q.shape[1]))
    weights = np.outer(rows, cols).astype(np.float64)
    return MsroiJpeg(data=data, n_bytes=len(data), size_error=len(data) / target - 1, knob_name="level_shift",
                     knob=delta, final_quality=float((unit_q * weights).sum() / weights.sum()), unit_quality=unit_q,
                     levels=tuple(levels), n_encodes=1 + n, **common)


def msroi_jpeg(image: np.ndarray, saliency: np.ndarray, variant: Variant, reference_quality: int = 50,
               **kwargs) -> bytes:
    """Semantic JPEG bytes at the size of Pillow's JPEG at `reference_quality` (±1%); see `encode_msroi`.

    Args:
        image: uint8 `[H, W, 3]`. saliency: float `[H, W]` in [0, 1]. variant: "thesis", "code" or "dct".
        reference_quality: integer Pillow quality of the size reference.
        **kwargs: `subsampling` ("4:4:4" default, or "4:2:0"), `params`, `tol` of `encode_msroi`.

    Raises:
        SizeMatchError when the size cannot be matched; TypeError / ValueError for bad input.
    """
    return encode_msroi(image, saliency, variant, reference_quality, **kwargs).data
