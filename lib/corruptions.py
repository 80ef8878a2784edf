"""CIFAR-10-C corruptions: the 19 functions of Hendrycks' `make_cifar_c.py`, batched and seeded.

`corrupt(images, name, severity, seed)` applies one corruption at one severity to a batch.

Images: uint8 `[N, 32, 32, 3]` (HWC, RGB, pixel scale 0-255), the original's layout; output the
same. The constants are the CIFAR ones of `make_cifar_c.py` (`PARAMS`), not the ImageNet-C ones of
the `imagecorruptions` package. Each function follows the original's arithmetic, including its float
dtypes (float64 or float32 where the original uses them), and ends as the original does: the float
result is clipped to [0, 255] by the function and then cast with `np.uint8`, i.e. **truncated
toward zero** (`astype(np.uint8)`), never rounded. `jpeg_compression` and `pixelate` return PIL's
uint8 output and `motion_blur` ImageMagick's 8-bit PNG samples, as in the original.

Randomness (design): every image gets its own `numpy.random.Generator` (PCG64) seeded by
`SeedSequence([seed, corruption number, severity, image index])`, where the image index is the
position in the dataset (`first_index` + position in the batch). An image's output therefore
depends only on (image, corruption, severity, seed, index), never on the batch size, the chunking
or the number of workers. The original used the unseeded global `np.random` stream, so the
released CIFAR-10-C cannot be regenerated bit for bit; our random draws have the original's
distributions and per-image order, not its values.

Dependencies: NumPy, SciPy, scikit-image and Pillow only. The OpenCV calls of the original are
ported in `lib.opencv_ports`, ImageMagick's motion blur (motion_blur, snow) in
`lib.imagemagick_motion`. `frost` needs the original frost photographs, which the PyPI package
`imagecorruptions` (1.1.2) ships; it is an optional extra (`pip install --no-deps
imagecorruptions==1.1.2`: its own dependencies include opencv-python, which this module does not
need), located at run time without importing it, or from the folder `$CIFAR10C_FROST_DIR`.

Faithfulness check (a scratch run here, not part of the suite): the 19 functions of the original
`make_cifar_c.py` (with the 4 modern-stack edits: `channel_axis`, `np.float64`, `scipy.ndimage`,
`np.frombuffer`), run per image with ImageMagick 6.9.11-60 Q16 via Wand, opencv-python-headless
4.10.0.84, the imagecorruptions 1.1.2 frost files, and `np.random` / skimage's `rng` fed from the same
per-image generators, equal `corrupt` **bit for bit on 200 real CIFAR images x 19 corruptions x 5
severities**. With OpenCV 5.0 only `elastic_transform` differs (up to 3 levels in 10-15% of pixels):
OpenCV 5 moved `warpAffine` to float coordinates; we follow OpenCV <= 4.10 (1/32-pixel fixed point),
the generation that produced the released data (2019). The optional tests repeat parts of this when
`cv2` or `wand` are importable.

Differences from the original:
- randomness: per-image seeded generators instead of the global stream (above).
- `spatter` (water) where the liquid layer is empty everywhere: the original divides 0 by 0 (NaN,
  then an undefined uint8 cast); here the water mask is 0 and the image passes through.
- no ImageMagick and no OpenCV: NumPy ports (bit-exact, above); frost files decoded with Pillow.
- OpenCV 5's `warpAffine` is not followed (above).
"""
from __future__ import annotations

import hashlib
import importlib.util
import io
import os
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage
from skimage import color as skcolor

from lib import imagemagick_motion, opencv_ports

SIZE = 32
SEVERITIES: tuple[int, ...] = (1, 2, 3, 4, 5)

# The original's order: 15 benchmark corruptions, then the 4 extra ("validation") ones.
CORRUPTIONS: tuple[str, ...] = (
    "gaussian_noise", "shot_noise", "impulse_noise", "defocus_blur", "glass_blur", "motion_blur",
    "zoom_blur", "snow", "frost", "fog", "brightness", "contrast", "elastic_transform", "pixelate",
    "jpeg_compression", "speckle_noise", "gaussian_blur", "spatter", "saturate",
)
BENCHMARK_CORRUPTIONS: tuple[str, ...] = CORRUPTIONS[:15]
EXTRA_CORRUPTIONS: tuple[str, ...] = CORRUPTIONS[15:]

_IM = SIZE  # make_cifar_c's IMSIZE for elastic_transform
# Per-severity constants of make_cifar_c.py (severity 1 .. 5), in the original's units.
PARAMS: dict[str, tuple] = {
    "gaussian_noise": (0.04, 0.06, 0.08, 0.09, 0.10),                   # sigma on [0, 1]
    "shot_noise": (500, 250, 100, 75, 50),                              # Poisson rate per unit
    "impulse_noise": (0.01, 0.02, 0.03, 0.05, 0.07),                    # s&p amount
    "defocus_blur": ((0.3, 0.4), (0.4, 0.5), (0.5, 0.6), (1, 0.2), (1.5, 0.1)),   # (radius, alias blur)
    "glass_blur": ((0.05, 1, 1), (0.25, 1, 1), (0.4, 1, 1), (0.25, 1, 2), (0.4, 1, 2)),  # (sigma, delta, iterations)
    "motion_blur": ((6, 1), (6, 1.5), (6, 2), (8, 2), (9, 2.5)),      # ImageMagick (radius, sigma)
    "zoom_blur": tuple(np.arange(1, end, 0.01) for end in (1.06, 1.11, 1.16, 1.21, 1.26)),
    "snow": ((0.1, 0.2, 1, 0.6, 8, 3, 0.95), (0.1, 0.2, 1, 0.5, 10, 4, 0.9),
             (0.15, 0.3, 1.75, 0.55, 10, 4, 0.9), (0.25, 0.3, 2.25, 0.6, 12, 6, 0.85),
             (0.3, 0.3, 1.25, 0.65, 14, 12, 0.8)),  # (loc, scale, zoom, threshold, mb radius, mb sigma, blend)
    "frost": ((1, 0.2), (1, 0.3), (0.9, 0.4), (0.85, 0.4), (0.75, 0.45)),     # (image weight, frost weight)
    "fog": ((0.2, 3), (0.5, 3), (0.75, 2.5), (1, 2), (1.5, 1.75)),          # (strength, wibble decay)
    "brightness": (0.05, 0.1, 0.15, 0.2, 0.3),                               # added to HSV value
    "contrast": (0.75, 0.5, 0.4, 0.3, 0.15),                                 # factor about the channel mean
    "elastic_transform": ((_IM * 0, _IM * 0, _IM * 0.08), (_IM * 0.05, _IM * 0.2, _IM * 0.07),
                          (_IM * 0.08, _IM * 0.06, _IM * 0.06), (_IM * 0.1, _IM * 0.04, _IM * 0.05),
                          (_IM * 0.1, _IM * 0.03, _IM * 0.03)),  # (alpha, sigma, affine shift) in px
    "pixelate": (0.95, 0.9, 0.85, 0.75, 0.65),                               # size factor (BOX down, BOX up)
    "jpeg_compression": (80, 65, 58, 50, 40),                                # PIL quality
    "speckle_noise": (0.06, 0.1, 0.12, 0.16, 0.2),                           # multiplicative sigma
    "gaussian_blur": (0.4, 0.6, 0.7, 0.8, 1),                                # sigma in px
    "spatter": ((0.62, 0.1, 0.7, 0.7, 0.5, 0), (0.65, 0.1, 0.8, 0.7, 0.5, 0),
                (0.65, 0.3, 1, 0.69, 0.5, 0), (0.65, 0.1, 0.7, 0.69, 0.6, 1),
                (0.65, 0.1, 0.5, 0.68, 0.6, 1)),  # (loc, scale, sigma, threshold, intensity|mud sigma, mud?)
    "saturate": ((0.3, 0), (0.1, 0), (1.5, 0), (2, 0.1), (2.5, 0.2)),        # HSV S * c0 + c1
}

# Corruptions whose output depends on the seed.
RANDOM_CORRUPTIONS: frozenset[str] = frozenset({
    "gaussian_noise", "shot_noise", "impulse_noise", "glass_blur", "motion_blur", "snow", "frost",
    "fog", "elastic_transform", "speckle_noise", "spatter",
})

Rngs = Sequence[np.random.Generator]
CorruptionFn = Callable[[np.ndarray, int, Rngs], np.ndarray]


# ----------------------------------------------------------------------------------------------
# seeding, conversions, shared helpers


def image_rngs(seed: int, name: str, severity: int, first_index: int, n: int) -> list[np.random.Generator]:
    """One independent generator per image: `SeedSequence([seed, corruption number, severity, index])`."""
    k = CORRUPTIONS.index(name)
    return [np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, k, severity, first_index + i])))
            for i in range(n)]


def _unit(images: np.ndarray) -> np.ndarray:
    """uint8 0-255 -> float64 0-1, as the original's `np.array(x) / 255.`."""
    return images.astype(np.float64) / 255.0


def _unit32(images: np.ndarray) -> np.ndarray:
    """uint8 0-255 -> float32 0-1, as the original's `np.array(x, dtype=np.float32) / 255.`."""
    return images.astype(np.float32) / np.float32(255.0)


def _to_u8(x: np.ndarray) -> np.ndarray:
    """The original's final `np.uint8(...)` of a float array already in [0, 255]: truncation."""
    return x.astype(np.uint8)


def _clip255(x: np.ndarray) -> np.ndarray:
    """`np.clip(x, 0, 1) * 255` then the truncating cast (keeps x's float dtype, as the original)."""
    return _to_u8(np.clip(x, 0, 1) * 255)


def _gaussian(x: np.ndarray, sigma: float, spatial_axes: tuple[int, ...], mode: str = "nearest",
              truncate: float = 4.0) -> np.ndarray:
    """skimage `gaussian` (scipy `gaussian_filter`) over the spatial axes only; other axes untouched."""
    sigmas = [0.0] * x.ndim
    for a in spatial_axes:
        sigmas[a] = sigma
    return ndimage.gaussian_filter(x, sigmas, mode=mode, truncate=truncate)


def _to_hwk(x: np.ndarray) -> np.ndarray:
    """[N, H, W, C] -> [H, W, N*C] (images side by side along the last axis)."""
    n, h, w, c = x.shape
    return np.ascontiguousarray(x.transpose(1, 2, 0, 3)).reshape(h, w, n * c)


def _from_hwk(x: np.ndarray, n: int) -> np.ndarray:
    """[H, W, N*C] -> [N, H, W, C]."""
    h, w, k = x.shape
    return np.ascontiguousarray(x.reshape(h, w, n, k // n).transpose(2, 0, 1, 3))


def clipped_zoom_hwk(x: np.ndarray, zoom_factor: float) -> np.ndarray:
    """The original's `clipped_zoom` on `[H, W, K]` (K = images x channels side by side).

    Crops the central `ceil(H / z)` square, zooms it by `z` with `scipy.ndimage.zoom(order=1)` (zoom 1
    on the last axis, exactly the original's call shape) and trims the centre back to `H x H`.
    """
    h = x.shape[0]
    ch = int(np.ceil(h / zoom_factor))
    top = (h - ch) // 2
    z = ndimage.zoom(x[top:top + ch, top:top + ch], (zoom_factor, zoom_factor, 1), order=1)
    trim = (z.shape[0] - h) // 2
    return z[trim:trim + h, trim:trim + h]


# ----------------------------------------------------------------------------------------------
# noise


def gaussian_noise(images: np.ndarray, severity: int, rngs: Rngs) -> np.ndarray:
    """x + N(0, c^2) on [0, 1], clipped."""
    c = PARAMS["gaussian_noise"][severity - 1]
    noise = np.stack([g.normal(size=images.shape[1:], scale=c) for g in rngs])
    return _clip255(_unit(images) + noise)


def shot_noise(images: np.ndarray, severity: int, rngs: Rngs) -> np.ndarray:
    """Poisson(x c) / c on [0, 1], clipped."""
    c = PARAMS["shot_noise"][severity - 1]
    x = _unit(images)
    counts = np.stack([g.poisson(xi * c) for g, xi in zip(rngs, x)])
    return _clip255(counts / c)


def impulse_noise(images: np.ndarray, severity: int, rngs: Rngs) -> np.ndarray:
    """skimage `random_noise(mode='s&p', amount=c)`: each sample independently (per channel) is
    flipped with probability c (`random() <= c`), to 1 or 0 with probability 1/2 each."""
    c = PARAMS["impulse_noise"][severity - 1]
    x = _unit(images)
    shape = images.shape[1:]
    draws = [(g.random(shape) <= c, g.random(shape) <= 0.5) for g in rngs]
    flipped = np.stack([d[0] for d in draws])
    salted = np.stack([d[1] for d in draws])
    out = x.copy()
    out[flipped & salted] = 1.0
    out[flipped & ~salted] = 0.0
    return _clip255(out)


def speckle_noise(images: np.ndarray, severity: int, rngs: Rngs) -> np.ndarray:
    """x + x N(0, c^2) on [0, 1], clipped."""
    c = PARAMS["speckle_noise"][severity - 1]
    x = _unit(images)
    noise = np.stack([g.normal(size=images.shape[1:], scale=c) for g in rngs])
    return _clip255(x + x * noise)


# ----------------------------------------------------------------------------------------------
# blur


def gaussian_blur(images: np.ndarray, severity: int, rngs: Rngs) -> np.ndarray:
    """skimage `gaussian(x, sigma=c, channel_axis=-1)` (mode 'nearest', truncate 4) on [0, 1]."""
    c = PARAMS["gaussian_blur"][severity - 1]
    return _clip255(_gaussian(_unit(images), c, (1, 2)))


def glass_blur(images: np.ndarray, severity: int, rngs: Rngs) -> np.ndarray:
    """Gaussian blur, truncated to uint8, local pixel "swaps", Gaussian blur again.

    The original's swap `x[h,w], x[h',w'] = x[h',w'], x[h,w]` assigns NumPy views, so it is a
    one-way copy `x[h,w] <- x[h',w']`; offsets come from `randint(-1, 1)`, i.e. dx, dy in {-1, 0};
    (h, w) run over 31..2 x 31..2, descending, row-major, `iterations` times. The copies stay
    sequential per image; the loop runs over positions and is batched over images, and the offsets
    are drawn per image in one call (dx, dy per position, in the original's order).
    """
    sigma, delta, iterations = PARAMS["glass_blur"][severity - 1]
    n = images.shape[0]
    x = _to_u8(_gaussian(_unit(images), sigma, (1, 2)) * 255)
    positions = [(h, w) for h in range(SIZE - delta, delta, -1) for w in range(SIZE - delta, delta, -1)]
    offsets = np.stack([g.integers(-delta, delta, size=(iterations, len(positions), 2)) for g in rngs])
    batch = np.arange(n)
    for it in range(iterations):
        for p, (h, w) in enumerate(positions):
            dx, dy = offsets[:, it, p, 0], offsets[:, it, p, 1]
            x[batch, h, w] = x[batch, h + dy, w + dx]
    return _clip255(_gaussian(x / 255.0, sigma, (1, 2)))


def disk_kernel(radius: float, alias_blur: float) -> np.ndarray:
    """The original's `disk`: a float32 17x17 indicator of x^2 + y^2 <= r^2 (r <= 8), normalised to
    sum 1, then `cv2.GaussianBlur(ksize=(3, 3), sigmaX=alias_blur)`. Returns float32 `[17, 17]`."""
    if radius > 8:
        raise ValueError("only radius <= 8 (the CIFAR constants) is supported")
    grid = np.arange(-8, 8 + 1)
    xx, yy = np.meshgrid(grid, grid)
    aliased = np.array((xx ** 2 + yy ** 2) <= radius ** 2, dtype=np.float32)
    aliased /= np.sum(aliased)
    return opencv_ports.gaussian_blur_3x3_f32(aliased[None], alias_blur)[0]


def defocus_blur(images: np.ndarray, severity: int, rngs: Rngs) -> np.ndarray:
    """Per-channel correlation of x in [0, 1] with `disk_kernel` (REFLECT_101 border)."""
    radius, alias = PARAMS["defocus_blur"][severity - 1]
    kernel = disk_kernel(radius, alias)
    return _clip255(opencv_ports.correlate_reflect101(_unit(images), kernel))


def motion_blur(images: np.ndarray, severity: int, rngs: Rngs) -> np.ndarray:
    """ImageMagick 6 motion blur (radius, sigma), angle ~ U(-45, 45) degrees per image."""
    radius, sigma = PARAMS["motion_blur"][severity - 1]
    angles = np.array([g.uniform(-45, 45) for g in rngs], dtype=np.float64)
    return imagemagick_motion.motion_blur_u8(images, radius, sigma, angles)


def zoom_blur(images: np.ndarray, severity: int, rngs: Rngs) -> np.ndarray:
    """Mean of x and its clipped zooms by `np.arange(1, end, 0.01)` (7, 12, 16, 21, 26 factors), float32."""
    factors = PARAMS["zoom_blur"][severity - 1]
    x = _to_hwk(_unit(images).astype(np.float32))
    out = np.zeros_like(x)
    for z in factors:
        out += clipped_zoom_hwk(x, z)
    x = (x + out) / (len(factors) + 1)
    return _clip255(_from_hwk(x, images.shape[0]))


# ----------------------------------------------------------------------------------------------
# weather


def snow(images: np.ndarray, severity: int, rngs: Rngs) -> np.ndarray:
    """Snow layer N(loc, scale) -> clipped zoom -> threshold -> uint8 -> ImageMagick motion blur
    (angle ~ U(-135, -45)) -> /255; the image is blended towards max(x, 1.5 gray + 0.5) and the layer
    added twice (as is and rotated by 180 degrees)."""
    loc, scale, zoom, threshold, mb_radius, mb_sigma, blend = PARAMS["snow"][severity - 1]
    x = _unit32(images)
    draws = [(g.normal(size=(SIZE, SIZE), loc=loc, scale=scale), g.uniform(-135, -45)) for g in rngs]
    layer = np.stack([d[0] for d in draws], axis=-1)                 # [H, W, N] float64
    angles = np.array([d[1] for d in draws], dtype=np.float64)
    layer = clipped_zoom_hwk(layer, zoom)
    layer[layer < threshold] = 0
    layer8 = (np.clip(layer, 0, 1) * 255).astype(np.uint8).transpose(2, 0, 1)   # [N, H, W]
    blurred = imagemagick_motion.motion_blur_u8(np.ascontiguousarray(layer8), mb_radius, mb_sigma, angles)
    blurred = (blurred / 255.0)[..., None]                             # [N, H, W, 1] float64
    gray = opencv_ports.rgb_to_gray_f32(x)[..., None]
    x = blend * x + (1 - blend) * np.maximum(x, gray * 1.5 + 0.5)
    return _clip255(x + blurred + np.rot90(blurred, k=2, axes=(1, 2)))


FROST_FILES: tuple[str, ...] = ("frost1.png", "frost2.png", "frost3.png", "frost4.jpg", "frost5.jpg")
# frost6.jpg exists but the original draws `randint(5)`, so it is never used.
# SHA-256 of the files of imagecorruptions 1.1.2, whose git blob SHA-1s equal those of
# hendrycks/robustness ImageNet-C/create_c/frost*.{png,jpg} (c7b78a17.., 48f7a861.., d47f9d25..,
# f8b0c413.., 95dc9056..): the original images. Checked when the files are loaded.
FROST_SHA256: dict[str, str] = {
    "frost1.png": "ff9f907860bd7a835d459e32f9d588062b7f61ee267343cc7222b56753a14755",
    "frost2.png": "fe211a89b336999c207a852ce05818d4545d0b57c5beadd824b4cc9d9a9b6137",
    "frost3.png": "2d0d50b4a9bb213f38b024ef7768731bb83cc08d2f26b5766bbc167cdfa0e504",
    "frost4.jpg": "3f8b91ca1a9fa7167b09e773da53f5ae60d0a1fd88f02a783f6e328a72887f6e",
    "frost5.jpg": "5fc6a19df4a429ba68abdcc8f8a4278d4c9f81c9ccafd2c92ab0c8cf8992ebd2",
}
FROST_PACKAGE = "imagecorruptions"
FROST_INSTALL = "pip install --no-deps imagecorruptions==1.1.2"


class FrostImagesMissing(FileNotFoundError):
    """The frost photographs could not be found."""


def frost_dir() -> Path:
    """Folder holding frost1.png ... frost5.jpg: `$CIFAR10C_FROST_DIR`, else `imagecorruptions/frost`
    of the installed `imagecorruptions` package (found without importing it)."""
    candidates: list[Path] = []
    env = os.environ.get("CIFAR10C_FROST_DIR")
    if env:
        candidates.append(Path(env))
    spec = importlib.util.find_spec(FROST_PACKAGE)
    if spec is not None and spec.submodule_search_locations:
        candidates += [Path(p) / "frost" for p in spec.submodule_search_locations]
    for folder in candidates:
        if all((folder / f).is_file() for f in FROST_FILES):
            return folder
    raise FrostImagesMissing(
        f"frost needs the original frost images {', '.join(FROST_FILES)}; they ship with the PyPI "
        f"package '{FROST_PACKAGE}' (1.1.2): `{FROST_INSTALL}` (its other dependencies are not needed), "
        f"or set CIFAR10C_FROST_DIR to a folder holding them. Looked in: "
        f"{', '.join(map(str, candidates)) or 'nowhere (package not installed, variable not set)'}")


def _resize_fifth(img: np.ndarray) -> np.ndarray:
    """`cv2.resize(img, (0, 0), fx=0.2, fy=0.2)` (INTER_LINEAR) on uint8 `[H, W, 3]`.

    At scale 1/5 OpenCV's source coordinate `(d + 0.5) * 5 - 0.5 = 5d + 2` is an integer, so the
    bilinear weights are (1, 0) and the result is the sample at `5d + 2` (clamped to the last pixel);
    the output size is `round(0.2 * size)`.
    """
    h, w = img.shape[:2]
    rows = np.minimum(5 * np.arange(round(h * 0.2)) + 2, h - 1)
    cols = np.minimum(5 * np.arange(round(w * 0.2)) + 2, w - 1)
    return img[rows[:, None], cols[None, :]]


@lru_cache(maxsize=4)
def frost_layers(folder: str | None = None) -> tuple[np.ndarray, ...]:
    """The 5 frost images, RGB uint8, already reduced to 1/5 (`[h_i, w_i, 3]` each), read once."""
    root = Path(folder) if folder else frost_dir()
    layers = []
    for f in FROST_FILES:
        data = (root / f).read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if FROST_SHA256.get(f) != digest:
            raise ValueError(f"{root / f} is not the original frost image (sha256 {digest[:16]}..., "
                             f"expected {FROST_SHA256[f][:16]}...); reinstall with `{FROST_INSTALL}`")
        with Image.open(io.BytesIO(data)) as im:
            layers.append(_resize_fifth(np.asarray(im.convert("RGB"))))
    return tuple(layers)


def frost(images: np.ndarray, severity: int, rngs: Rngs) -> np.ndarray:
    """c0 x + c1 frost, clipped to [0, 255]: one of frost1..5 (`randint(5)`), reduced to 1/5, a random
    32x32 crop with its top-left corner in `[0, h-32) x [0, w-32)` (the original's exclusive bounds)."""
    c0, c1 = PARAMS["frost"][severity - 1]
    layers = frost_layers()
    n = images.shape[0]
    which, top, left = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64)
    for i, g in enumerate(rngs):
        which[i] = g.integers(5)
        h, w = layers[which[i]].shape[:2]
        top[i] = g.integers(0, h - SIZE)
        left[i] = g.integers(0, w - SIZE)
    hmax = max(layer.shape[0] for layer in layers)
    wmax = max(layer.shape[1] for layer in layers)
    stack = np.zeros((len(layers), hmax, wmax, 3), dtype=np.uint8)
    for k, layer in enumerate(layers):
        stack[k, :layer.shape[0], :layer.shape[1]] = layer
    r = np.arange(SIZE)
    crops = stack[which[:, None, None], top[:, None, None] + r[None, :, None], left[:, None, None] + r[None, None, :]]
    return _to_u8(np.clip(c0 * images.astype(np.float64) + c1 * crops, 0, 255))


def plasma_fractal(uniforms: np.ndarray, wibbledecay: float, mapsize: int = SIZE) -> np.ndarray:
    """The original's diamond-square height map, batched.

    Args:
        uniforms: float64 `[N, mapsize^2 - 1]`, U[0, 1) draws, consumed per step in the original's
            order (squares, then the two diamond sets) as `uniform(-wibble, wibble)`.
        wibbledecay: the wibble divisor per step (wibble starts at 100 and is applied twice:
            `mean + wibble * U(-wibble, wibble)`, as in the original).

    Returns:
        float64 `[N, mapsize, mapsize]`, each map rescaled to [0, 1].
    """
    n = uniforms.shape[0]
    m = np.empty((n, mapsize, mapsize), dtype=np.float64)
    m[:, 0, 0] = 0
    step, wibble, used = mapsize, 100.0, 0

    def wibbled_mean(total: np.ndarray) -> np.ndarray:
        nonlocal used
        k = total[0].size
        u = uniforms[:, used:used + k].reshape(total.shape)
        used += k
        return total / 4 + wibble * (-wibble + (wibble - (-wibble)) * u)

    while step >= 2:
        half = step // 2
        corners = m[:, 0:mapsize:step, 0:mapsize:step]
        acc = corners + np.roll(corners, shift=-1, axis=1)
        acc += np.roll(acc, shift=-1, axis=2)
        m[:, half:mapsize:step, half:mapsize:step] = wibbled_mean(acc)
        dr = m[:, half:mapsize:step, half:mapsize:step]
        ul = m[:, 0:mapsize:step, 0:mapsize:step]
        lt = (dr + np.roll(dr, 1, axis=1)) + (ul + np.roll(ul, -1, axis=2))
        m[:, 0:mapsize:step, half:mapsize:step] = wibbled_mean(lt)
        tt = (dr + np.roll(dr, 1, axis=2)) + (ul + np.roll(ul, -1, axis=1))
        m[:, half:mapsize:step, 0:mapsize:step] = wibbled_mean(tt)
        step //= 2
        wibble /= wibbledecay
    m -= m.min(axis=(1, 2), keepdims=True)
    return m / m.max(axis=(1, 2), keepdims=True)


def fog(images: np.ndarray, severity: int, rngs: Rngs) -> np.ndarray:
    """x + c0 plasma, rescaled by max(x) / (max(x) + c0) with max over the whole image, clipped."""
    strength, decay = PARAMS["fog"][severity - 1]
    uniforms = np.stack([g.random(SIZE * SIZE - 1) for g in rngs])
    plasma = plasma_fractal(uniforms, decay)[:, :SIZE, :SIZE, None]
    x = _unit(images)
    max_val = x.max(axis=(1, 2, 3), keepdims=True)
    x += strength * plasma
    return _clip255(x * max_val / (max_val + strength))


# ----------------------------------------------------------------------------------------------
# digital


def _hsv_edit(images: np.ndarray, channel: int, fn: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    hsv = skcolor.rgb2hsv(_unit(images))
    hsv[..., channel] = np.clip(fn(hsv[..., channel]), 0, 1)
    return _clip255(skcolor.hsv2rgb(hsv))


def brightness(images: np.ndarray, severity: int, rngs: Rngs) -> np.ndarray:
    """HSV value + c (skimage rgb2hsv/hsv2rgb), clipped."""
    c = PARAMS["brightness"][severity - 1]
    return _hsv_edit(images, 2, lambda v: v + c)


def saturate(images: np.ndarray, severity: int, rngs: Rngs) -> np.ndarray:
    """HSV saturation * c0 + c1 (skimage rgb2hsv/hsv2rgb), clipped."""
    c0, c1 = PARAMS["saturate"][severity - 1]
    return _hsv_edit(images, 1, lambda s: s * c0 + c1)


def contrast(images: np.ndarray, severity: int, rngs: Rngs) -> np.ndarray:
    """(x - mean) c + mean with the per-image, per-channel mean, on [0, 1], clipped."""
    c = PARAMS["contrast"][severity - 1]
    x = _unit(images)
    means = np.mean(x, axis=(1, 2), keepdims=True)
    return _clip255((x - means) * c + means)


def jpeg_compression(images: np.ndarray, severity: int, rngs: Rngs) -> np.ndarray:
    """PIL JPEG at quality c (default 4:2:0 chroma subsampling), decoded by PIL. Per image (PIL)."""
    c = PARAMS["jpeg_compression"][severity - 1]

    def one(img: np.ndarray) -> np.ndarray:
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, "JPEG", quality=c)
        with Image.open(buf) as im:
            return np.asarray(im.convert("RGB"))

    return np.stack([one(img) for img in images])


def pixelate(images: np.ndarray, severity: int, rngs: Rngs) -> np.ndarray:
    """PIL BOX resize to int(32 c) (30, 28, 27, 24, 20 px) and BOX back to 32. Per image (PIL)."""
    c = PARAMS["pixelate"][severity - 1]
    small = int(SIZE * c)

    def one(img: np.ndarray) -> np.ndarray:
        im = Image.fromarray(img).resize((small, small), Image.BOX).resize((SIZE, SIZE), Image.BOX)
        return np.asarray(im)

    return np.stack([one(img) for img in images])


def elastic_transform(images: np.ndarray, severity: int, rngs: Rngs) -> np.ndarray:
    """Random affine warp (corners of a triangle moved by U(-c2, c2) px; OpenCV bilinear,
    REFLECT_101), then a smooth displacement field (U(-1, 1) blurred with sigma c1, mode 'reflect',
    truncate 3, times alpha c0) sampled by `map_coordinates(order=1, mode='reflect')`; float32."""
    alpha, sigma, shift = PARAMS["elastic_transform"][severity - 1]
    n = images.shape[0]
    x = _unit32(images)
    centre = np.float32((SIZE, SIZE)) // 2
    square = SIZE // 3
    pts1 = np.float32([centre + square, [centre[0] + square, centre[1] - square], centre - square])
    draws = [(g.uniform(-shift, shift, size=pts1.shape).astype(np.float32),
              g.uniform(-1, 1, size=(SIZE, SIZE)), g.uniform(-1, 1, size=(SIZE, SIZE))) for g in rngs]
    pts2 = pts1[None] + np.stack([d[0] for d in draws])
    matrices = opencv_ports.get_affine_transform(np.broadcast_to(pts1, pts2.shape), pts2)
    warped = opencv_ports.warp_affine_linear_f32(x, matrices)
    dx = (_gaussian(np.stack([d[1] for d in draws]), sigma, (1, 2), mode="reflect", truncate=3) * alpha).astype(np.float32)
    dy = (_gaussian(np.stack([d[2] for d in draws]), sigma, (1, 2), mode="reflect", truncate=3) * alpha).astype(np.float32)
    ii, jj = np.meshgrid(np.arange(SIZE), np.arange(SIZE), indexing="ij")          # row, column
    rows = ii[:, :, None, None] + dy.transpose(1, 2, 0)[..., None]                   # [H, W, N, 1] float64
    cols = jj[:, :, None, None] + dx.transpose(1, 2, 0)[..., None]
    ks = np.arange(n * 3).reshape(1, 1, n, 3)
    shape = (SIZE, SIZE, n, 3)
    coords = [np.broadcast_to(a, shape).reshape(-1) for a in (rows, cols, ks)]
    sampled = ndimage.map_coordinates(_to_hwk(warped), coords, order=1, mode="reflect")
    out = sampled.reshape(SIZE, SIZE, n, 3).transpose(2, 0, 1, 3)
    return _clip255(out)


_WATER_KERNEL = np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]])
# float32, as in the original (`175 / 255. * np.ones_like(<float32 array>)` is float32 under NumPy 2).
_WATER_COLOUR = np.array([175 / 255.0, 238 / 255.0, 238 / 255.0], dtype=np.float32)   # "pale turquoise"
_MUD_COLOUR = np.array([63 / 255.0, 42 / 255.0, 20 / 255.0], dtype=np.float32)        # brown


def spatter(images: np.ndarray, severity: int, rngs: Rngs) -> np.ndarray:
    """Liquid layer N(loc, scale), Gaussian-blurred (sigma), thresholded; then either water (mode 0:
    Canny edges -> chamfer distance -> truncate at 20 -> box blur -> equalised -> emboss filter ->
    box blur, times the layer, normalised to `intensity`, added in colour (175, 238, 238)/255) or mud
    (mode 1: the blurred mask >= 0.8 replaces the image by brown (63, 42, 20)/255)."""
    loc, scale, sigma, threshold, strength, mud = PARAMS["spatter"][severity - 1]
    x = _unit32(images)
    liquid = np.stack([g.normal(size=(SIZE, SIZE), loc=loc, scale=scale) for g in rngs])
    liquid = _gaussian(liquid, sigma, (1, 2))
    liquid[liquid < threshold] = 0
    if mud == 0:
        layer8 = (liquid * 255).astype(np.uint8)
        dist = 255 - opencv_ports.canny_l1(layer8, 50, 150)
        dist = opencv_ports.distance_transform_l2_5x5(dist)
        dist = np.minimum(dist, np.float32(20))
        dist = opencv_ports.box_blur3_f32(dist).astype(np.uint8)
        dist = opencv_ports.equalize_hist(dist)
        dist = opencv_ports.filter2d_u8(dist, _WATER_KERNEL)
        dist = opencv_ports.box_blur3_u8(dist).astype(np.float32)
        m = layer8 * dist                                           # float32 [N, H, W]
        peak = m.max(axis=(1, 2), keepdims=True)
        m = np.where(peak > 0, m / np.where(peak > 0, peak, np.float32(1)), np.float32(0)).astype(np.float32)
        m *= strength
        return _clip255(x + m[..., None] * _WATER_COLOUR)
    mask = np.where(liquid > threshold, 1, 0).astype(np.float32)
    mask = _gaussian(mask, strength, (1, 2))
    mask[mask < 0.8] = 0
    colour = _MUD_COLOUR * mask[..., None]
    x *= (1 - mask[..., None])
    return _clip255(x + colour)


# ----------------------------------------------------------------------------------------------
# public API

FUNCTIONS: dict[str, CorruptionFn] = {
    "gaussian_noise": gaussian_noise, "shot_noise": shot_noise, "impulse_noise": impulse_noise,
    "defocus_blur": defocus_blur, "glass_blur": glass_blur, "motion_blur": motion_blur,
    "zoom_blur": zoom_blur, "snow": snow, "frost": frost, "fog": fog, "brightness": brightness,
    "contrast": contrast, "elastic_transform": elastic_transform, "pixelate": pixelate,
    "jpeg_compression": jpeg_compression, "speckle_noise": speckle_noise,
    "gaussian_blur": gaussian_blur, "spatter": spatter, "saturate": saturate,
}
assert tuple(FUNCTIONS) == CORRUPTIONS


def _check_images(images: np.ndarray) -> np.ndarray:
    arr = np.asarray(images)
    if arr.dtype != np.uint8:
        raise TypeError(f"images must be uint8 (0-255), got {arr.dtype}")
    if arr.ndim != 4 or arr.shape[1:] != (SIZE, SIZE, 3):
        raise ValueError(f"images must be [N, {SIZE}, {SIZE}, 3] (HWC), got {list(arr.shape)}")
    return np.ascontiguousarray(arr)


def corrupt(images: np.ndarray, name: str, severity: int, seed: int = 0, *, first_index: int = 0) -> np.ndarray:
    """Apply CIFAR-10-C corruption `name` at `severity` to a batch.

    Args:
        images: uint8 `[N, 32, 32, 3]`, RGB, 0-255 (not modified).
        name: one of `CORRUPTIONS`.
        severity: 1..5.
        seed: base seed (>= 0).
        first_index: dataset index of `images[0]`; image i draws from the stream of index
            `first_index + i`, so splitting a set into chunks gives the same bytes as one call.

    Returns:
        uint8 `[N, 32, 32, 3]`, 0-255.

    Raises:
        FrostImagesMissing: `name == "frost"` and the frost images are not installed.
    """
    if name not in FUNCTIONS:
        raise KeyError(f"unknown corruption {name!r}; expected one of {', '.join(CORRUPTIONS)}")
    if severity not in SEVERITIES:
        raise ValueError(f"severity must be one of {SEVERITIES}, got {severity!r}")
    if seed < 0 or first_index < 0:
        raise ValueError("seed and first_index must be >= 0")
    x = _check_images(images)
    if len(x) == 0:
        return x.copy()
    rngs = image_rngs(seed, name, severity, first_index, len(x)) if name in RANDOM_CORRUPTIONS else []
    out = FUNCTIONS[name](x, severity, rngs)
    assert out.dtype == np.uint8 and out.shape == x.shape, (name, out.dtype, out.shape)
    return out
