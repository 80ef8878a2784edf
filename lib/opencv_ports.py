"""Batched NumPy ports of the few OpenCV routines that `make_cifar_c.py` calls (no OpenCV needed).

Each function follows OpenCV 4's scalar (non-SIMD, non-IPP) code path for the argument types the
CIFAR-10-C generator uses: the fixed-point arithmetic, rounding and border rules are reproduced; where
OpenCV would use a different algorithm (a DFT for large `filter2D` kernels) the docstring says so.
Every function works on a batch: the leading axis indexes images, and images never interact.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

# ----------------------------------------------------------------------------------------------
# Gaussian kernel, separable 3x3 blur, 2-D correlation


def gaussian_kernel_1d(ksize: int, sigma: float) -> np.ndarray:
    """`cv2.getGaussianKernel(ksize, sigma, CV_32F)` for sigma > 0.

    Returns:
        float32 `[ksize]`: exp(-x^2 / (2 sigma^2)) for x = -(ksize-1)/2 .. (ksize-1)/2, normalised in
        double precision, then rounded to float32.
    """
    if sigma <= 0:
        raise ValueError("only sigma > 0 is ported")
    x = np.arange(ksize, dtype=np.float64) - (ksize - 1) * 0.5
    t = np.exp((-0.5 / (sigma * sigma)) * x * x)
    total = 0.0
    for v in t:          # OpenCV accumulates left to right
        total += v
    return (t * (1.0 / total)).astype(np.float32)


def _pad_reflect101(x: np.ndarray, pad: int, axes: tuple[int, int]) -> np.ndarray:
    widths = [(0, 0)] * x.ndim
    for a in axes:
        widths[a] = (pad, pad)
    return np.pad(x, widths, mode="reflect")      # numpy "reflect" == OpenCV BORDER_REFLECT_101


def gaussian_blur_3x3_f32(images: np.ndarray, sigma: float) -> np.ndarray:
    """`cv2.GaussianBlur(img, (3, 3), sigmaX=sigma)` on float32 images, BORDER_REFLECT_101.

    OpenCV's small symmetric row/column filters compute `c*k_centre + (left + right)*k_side` in
    float32; a sum of two rounded products does not depend on the operand order.

    Args:
        images: float32 `[N, H, W]`.

    Returns:
        float32 `[N, H, W]`.
    """
    k = gaussian_kernel_1d(3, sigma)
    k_side, k_centre = k[0], k[1]
    x = np.asarray(images, dtype=np.float32)
    p = _pad_reflect101(x, 1, (2,))
    rows = p[:, :, 1:-1] * k_centre + (p[:, :, :-2] + p[:, :, 2:]) * k_side
    p = _pad_reflect101(rows, 1, (1,))
    return p[:, 1:-1] * k_centre + (p[:, :-2] + p[:, 2:]) * k_side


def correlate_reflect101(images: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """`cv2.filter2D(img, -1, kernel)` per channel (correlation, centred anchor, BORDER_REFLECT_101).

    Computed directly in float64 (scipy `correlate`, mode "mirror" = REFLECT_101). OpenCV may take a
    DFT path for large kernels; for the generator's `defocus_blur` the uint8 results equal cv2 4.10's
    on 100 real CIFAR images x 5 severities.

    Args:
        images: float64 `[N, H, W, C]`.
        kernel: `[kh, kw]` (odd sizes), any float dtype; used in float64.

    Returns:
        float64 `[N, H, W, C]`.
    """
    k = np.asarray(kernel, dtype=np.float64)[None, :, :, None]
    return ndimage.correlate(np.asarray(images, dtype=np.float64), k, mode="mirror")


# ----------------------------------------------------------------------------------------------
# Affine warp (elastic_transform)


def get_affine_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """`cv2.getAffineTransform` for a batch of triangles.

    Args:
        src, dst: float32 or float64 `[N, 3, 2]`, (x, y) points.

    Returns:
        float64 `[N, 2, 3]` mapping src to dst (solved by LU in double, as OpenCV does; last-bit
        differences from OpenCV's own solver are possible).
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    n = src.shape[0]
    a = np.zeros((n, 6, 6))
    a[:, 0::2, 0:2] = src
    a[:, 0::2, 2] = 1.0
    a[:, 1::2, 3:5] = src
    a[:, 1::2, 5] = 1.0
    b = dst.reshape(n, 6, 1)
    return np.linalg.solve(a, b).reshape(n, 2, 3)


_AB_BITS = 10
_INTER_BITS = 5
_INTER_TAB = 1 << _INTER_BITS


def warp_affine_linear_f32(images: np.ndarray, matrices: np.ndarray) -> np.ndarray:
    """`cv2.warpAffine(img, M, (W, H), flags=INTER_LINEAR, borderMode=BORDER_REFLECT_101)`, float32.

    Follows OpenCV's fixed-point path: the inverse map is evaluated in 1/1024 px
    (`cvRound`, round half to even), quantised to 1/32 px, and the four bilinear weights
    `(1-fy)(1-fx), (1-fy)fx, fy(1-fx), fy fx` (exact in float32) are summed in float32 in that order.

    Args:
        images: float32 `[N, H, W, C]`.
        matrices: float64 `[N, 2, 3]`, forward maps (src -> dst), as `cv2.warpAffine` takes them.

    Returns:
        float32 `[N, H, W, C]`.
    """
    x = np.asarray(images, dtype=np.float32)
    n, h, w, _ = x.shape
    m = np.asarray(matrices, dtype=np.float64).reshape(n, 6).copy()
    d = m[:, 0] * m[:, 4] - m[:, 1] * m[:, 3]
    d = np.where(d != 0, 1.0 / np.where(d != 0, d, 1.0), 0.0)
    a11, a22 = m[:, 4] * d, m[:, 0] * d
    m[:, 0], m[:, 4] = a11, a22
    m[:, 1] *= -d
    m[:, 3] *= -d
    b1 = -m[:, 0] * m[:, 2] - m[:, 1] * m[:, 5]
    b2 = -m[:, 3] * m[:, 2] - m[:, 4] * m[:, 5]
    m[:, 2], m[:, 5] = b1, b2

    scale = float(1 << _AB_BITS)
    round_delta = (1 << _AB_BITS) // _INTER_TAB // 2
    xs = np.arange(w, dtype=np.float64)
    ys = np.arange(h, dtype=np.float64)
    adelta = np.rint(m[:, 0, None] * xs * scale).astype(np.int64)            # [N, W]
    bdelta = np.rint(m[:, 3, None] * xs * scale).astype(np.int64)
    x0 = np.rint((m[:, 1, None] * ys + m[:, 2, None]) * scale).astype(np.int64) + round_delta   # [N, H]
    y0 = np.rint((m[:, 4, None] * ys + m[:, 5, None]) * scale).astype(np.int64) + round_delta
    shift = _AB_BITS - _INTER_BITS
    big_x = (x0[:, :, None] + adelta[:, None, :]) >> shift                    # [N, H, W] in 1/32 px
    big_y = (y0[:, :, None] + bdelta[:, None, :]) >> shift
    sx, sy = big_x >> _INTER_BITS, big_y >> _INTER_BITS
    fx = ((big_x & (_INTER_TAB - 1)).astype(np.float32) * np.float32(1.0 / _INTER_TAB))[..., None]
    fy = ((big_y & (_INTER_TAB - 1)).astype(np.float32) * np.float32(1.0 / _INTER_TAB))[..., None]
    one = np.float32(1.0)
    w00, w01, w10, w11 = (one - fy) * (one - fx), (one - fy) * fx, fy * (one - fx), fy * fx

    def reflect101(i: np.ndarray, size: int) -> np.ndarray:
        period = 2 * size - 2
        i = np.abs(i) % period
        return np.where(i >= size, period - i, i)

    c0, c1 = reflect101(sx, w), reflect101(sx + 1, w)
    r0, r1 = reflect101(sy, h), reflect101(sy + 1, h)
    b = np.arange(n)[:, None, None]
    out = x[b, r0, c0] * w00 + x[b, r0, c1] * w01
    out = out + x[b, r1, c0] * w10
    return out + x[b, r1, c1] * w11


# ----------------------------------------------------------------------------------------------
# spatter (water): Canny, distance transform, box blur, histogram equalisation


def sobel3_replicate(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """3x3 Sobel derivatives (`CV_16S`, BORDER_REPLICATE) of uint8 `[N, H, W]` images.

    Returns:
        int64 `(dx, dy)` `[N, H, W]`: dx = right minus left column, dy = lower minus upper row,
        each with the (1, 2, 1) smoothing across.
    """
    p = np.pad(np.asarray(images, dtype=np.int64), ((0, 0), (1, 1), (1, 1)), mode="edge")
    smooth_rows = p[:, :-2] + 2 * p[:, 1:-1] + p[:, 2:]        # [N, H, W+2]
    dx = smooth_rows[:, :, 2:] - smooth_rows[:, :, :-2]
    smooth_cols = p[:, :, :-2] + 2 * p[:, :, 1:-1] + p[:, :, 2:]  # [N, H+2, W]
    dy = smooth_cols[:, 2:] - smooth_cols[:, :-2]
    return dx, dy


_TG22 = int(0.4142135623730950488016887242097 * (1 << 15) + 0.5)


def canny_l1(images: np.ndarray, low: float, high: float) -> np.ndarray:
    """`cv2.Canny(img, low, high)` (aperture 3, L1 gradient) on uint8 `[N, H, W]`.

    Non-maximum suppression uses OpenCV's integer tan(22.5 deg) test and its asymmetric comparisons
    (`>` on one side, `>=` on the other; `>` on both for diagonals); magnitudes outside the image
    are 0. Hysteresis keeps the 8-connected components of candidates that contain a pixel above
    `high`.

    Returns:
        uint8 `[N, H, W]`, 255 on edges, 0 elsewhere.
    """
    dx, dy = sobel3_replicate(images)
    mag = np.abs(dx) + np.abs(dy)
    lo, hi = int(np.floor(low)), int(np.floor(high))
    pm = np.pad(mag, ((0, 0), (1, 1), (1, 1)))                 # zero magnitudes outside the image
    centre = pm[:, 1:-1, 1:-1]
    left, right = pm[:, 1:-1, :-2], pm[:, 1:-1, 2:]
    up, down = pm[:, :-2, 1:-1], pm[:, 2:, 1:-1]
    up_left, up_right = pm[:, :-2, :-2], pm[:, :-2, 2:]
    down_left, down_right = pm[:, 2:, :-2], pm[:, 2:, 2:]

    ax = np.abs(dx)
    ay = np.abs(dy) << 15
    tg22x = ax * _TG22
    tg67x = tg22x + (ax << 16)
    horizontal = ay < tg22x
    vertical = ~horizontal & (ay > tg67x)
    same_sign = (dx ^ dy) >= 0
    local_max = np.where(
        horizontal, (centre > left) & (centre >= right),
        np.where(vertical, (centre > up) & (centre >= down),
                 np.where(same_sign, (centre > up_left) & (centre > down_right),
                          (centre > up_right) & (centre > down_left))))
    candidate = (mag > lo) & local_max
    strong = candidate & (mag > hi)

    structure = np.zeros((3, 3, 3), dtype=bool)
    structure[1] = True                                         # 8-connectivity within an image only
    labels, count = ndimage.label(candidate, structure=structure)
    keep = np.zeros(count + 1, dtype=bool)
    keep[np.unique(labels[strong])] = True
    keep[0] = False
    return np.where(keep[labels], 255, 0).astype(np.uint8)


_HV, _DIAG, _LONG = np.float32(1.0), np.float32(1.4), np.float32(2.1969)   # OpenCV's 5x5 L2 metrics
_FAR = np.float32(8192.0)    # "infinity" (anything above the 20 px the generator keeps)


def distance_transform_l2_5x5(images: np.ndarray) -> np.ndarray:
    """`cv2.distanceTransform(img, cv2.DIST_L2, 5)`: 5x5 chamfer distance to the nearest zero pixel.

    The two raster passes (forward: the 8 causal neighbours of the 5x5 mask with weights 1, 1.4,
    2.1969; backward: the mirrored ones), accumulated in float32 as the opencv-python wheels do
    (matches cv2 4.10 and 5.0 bit for bit here; OpenCV's non-IPP source uses 16-bit fixed point).
    The pixel loop is sequential within a row and batched over images.

    Args:
        images: uint8 `[N, H, W]`; zero pixels are the sources.

    Returns:
        float32 `[N, H, W]`, distances in pixels (far from any zero pixel: >= 8192).
    """
    src = np.asarray(images)
    n, h, w = src.shape
    t = np.full((n, h + 4, w + 4), _FAR, dtype=np.float32)     # 2-pixel frame at "infinity"
    zero = src == 0
    # (row offset, column offset, weight) of the forward mask's neighbours in rows above; the
    # backward pass mirrors them. The same-row neighbour (weight 1) is the sequential part.
    above = [(-2, -1, _LONG), (-2, 1, _LONG), (-1, -2, _LONG), (-1, -1, _DIAG), (-1, 0, _HV),
             (-1, 1, _DIAG), (-1, 2, _LONG)]
    for forward in (True, False):
        sign = 1 if forward else -1
        for i in (range(h) if forward else range(h - 1, -1, -1)):
            r = i + 2
            cand = np.full((n, w), _FAR, dtype=np.float32) if forward else t[:, r, 2:w + 2].copy()
            for dr, dc, wt in above:
                rr, cc = r + sign * dr, 2 + sign * dc
                cand = np.minimum(cand, t[:, rr, cc:cc + w] + wt)
            if forward:
                cand[zero[:, i]] = 0
            prev = np.full(n, _FAR, dtype=np.float32)
            for j in (range(w) if forward else range(w - 1, -1, -1)):
                prev = np.minimum(cand[:, j], prev + _HV)
                cand[:, j] = prev
            t[:, r, 2:w + 2] = cand
    return t[:, 2:h + 2, 2:w + 2].copy()


def box_blur3_f32(images: np.ndarray) -> np.ndarray:
    """`cv2.blur(img, (3, 3))` on float32 `[N, H, W]` (BORDER_REFLECT_101).

    OpenCV sums in double and multiplies by the double 1/9 before rounding to float32; for the
    generator's inputs (0 or 1..20 in float32) the double sums are exact, so this equals OpenCV.
    """
    p = _pad_reflect101(np.asarray(images, dtype=np.float64), 1, (1, 2))
    rows = p[:, :, :-2] + p[:, :, 1:-1] + p[:, :, 2:]
    s = rows[:, :-2] + rows[:, 1:-1] + rows[:, 2:]
    return (s * (1.0 / 9.0)).astype(np.float32)


def box_blur3_u8(images: np.ndarray) -> np.ndarray:
    """`cv2.blur(img, (3, 3))` on uint8 `[N, H, W]`: OpenCV's fixed-point `(s + 4) * 7282 >> 16`,
    which equals `(s + 4) // 9` (round half up of s/9; s/9 never ties) for s <= 9*255."""
    p = _pad_reflect101(np.asarray(images, dtype=np.int64), 1, (1, 2))
    rows = p[:, :, :-2] + p[:, :, 1:-1] + p[:, :, 2:]
    s = rows[:, :-2] + rows[:, 1:-1] + rows[:, 2:]
    return (((s + 4) * 7282) >> 16).astype(np.uint8)


def filter2d_u8(images: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """`cv2.filter2D(img, cv2.CV_8U, kernel)` for a 3x3 integer kernel: exact integer correlation,
    BORDER_REFLECT_101, saturated to 0..255.

    Args:
        images: uint8 `[N, H, W]`.
        kernel: integer `[3, 3]`.
    """
    k = np.asarray(kernel, dtype=np.int64)
    p = _pad_reflect101(np.asarray(images, dtype=np.int64), 1, (1, 2))
    h, w = images.shape[1:]
    acc = np.zeros(images.shape, dtype=np.int64)
    for i in range(3):
        for j in range(3):
            acc += k[i, j] * p[:, i:i + h, j:j + w]
    return np.clip(acc, 0, 255).astype(np.uint8)


def equalize_hist(images: np.ndarray) -> np.ndarray:
    """`cv2.equalizeHist` of uint8 `[N, H, W]`, per image.

    The lookup table: 0 at the lowest occupied level `l`, then `round(cum * (255 / (total - hist[l])))`
    with the cumulative count `cum` above `l`, in float32, rounded half to even; a constant image maps
    to itself.
    """
    x = np.asarray(images, dtype=np.uint8)
    n = x.shape[0]
    flat = x.reshape(n, -1)
    total = flat.shape[1]
    hist = np.zeros((n, 256), dtype=np.int64)
    np.add.at(hist, (np.arange(n)[:, None], flat), 1)
    lowest = np.argmax(hist > 0, axis=1)
    h_low = hist[np.arange(n), lowest]
    levels = np.arange(256)
    above = levels[None, :] > lowest[:, None]
    cum = np.cumsum(np.where(above, hist, 0), axis=1)
    denom = np.where(total - h_low > 0, total - h_low, 1)
    scale = (np.float32(255.0) / denom.astype(np.float32)).astype(np.float32)
    lut = np.clip(np.rint(cum.astype(np.float32) * scale[:, None]), 0, 255).astype(np.uint8)
    lut = np.where(above, lut, 0).astype(np.uint8)
    constant = h_low == total
    lut[constant] = levels.astype(np.uint8)[None, :]
    return np.take_along_axis(lut, flat.astype(np.int64), axis=1).reshape(x.shape)


def rgb_to_gray_f32(images: np.ndarray) -> np.ndarray:
    """`cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)` on float32 `[N, H, W, 3]`.

    OpenCV's vector path evaluates `fma(B, 0.114f, fma(R, 0.299f, G * 0.587f))` in float32 (this
    order matches cv2 4.10 and 5.0 bit for bit on 200 random images; plain left-to-right float32
    differs in ~19% of pixels by 1 ulp). Each fma is emulated in float64 (exact product, one sum)
    and rounded to float32. Returns float32 `[N, H, W]`.
    """
    x = np.asarray(images, dtype=np.float32)
    r, g, b = (x[..., k].astype(np.float64) for k in range(3))
    t = (g * np.float64(np.float32(0.587))).astype(np.float32)
    t = (r * np.float64(np.float32(0.299)) + t).astype(np.float32)
    return (b * np.float64(np.float32(0.114)) + t).astype(np.float32)
