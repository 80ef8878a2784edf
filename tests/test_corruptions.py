"""Tests of the CIFAR-10-C generator (`lib.corruptions`, its ports, and the `lib.cifar10c` folders).

Images are uint8 `[N, 32, 32, 3]` (HWC, 0-255). Randomness is per image (`corruptions.image_rngs`),
so the per-image references below draw from the very same generators, in the original's order, and
must agree byte for byte. References are written plainly, one image at a time, after the original
`make_cifar_c.py` formulas (NumPy/SciPy/scikit-image/Pillow; no code shared with the library except
where a test says so). Optional oracles run only when `cv2` or `wand` happen to be importable.
"""
from __future__ import annotations

import ctypes
import io
import itertools
import math
import os

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage
from skimage import color as skcolor
from skimage.filters import gaussian
from skimage.util import random_noise

from lib import cifar10c, imagemagick_motion, opencv_ports
from lib import corruptions as C
from lib.data import synthetic_images

try:
    C.frost_dir()
    HAVE_FROST = True
except C.FrostImagesMissing:
    HAVE_FROST = False

NAMES = [n for n in C.CORRUPTIONS if HAVE_FROST or n != "frost"]
RANDOM = [n for n in NAMES if n in C.RANDOM_CORRUPTIONS]
DETERMINISTIC = [n for n in NAMES if n not in C.RANDOM_CORRUPTIONS]


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    """16 CIFAR-like images (smooth class templates, distractors, pixel noise), uint8 [16, 32, 32, 3]."""
    return synthetic_images(16, 10, seed=3).images.permute(0, 2, 3, 1).numpy().copy()


@pytest.fixture(scope="module")
def corrupted(images: np.ndarray) -> dict[tuple[str, int], np.ndarray]:
    """Every available (corruption, severity) of the 16 images with seed 0, computed once."""
    return {(n, s): C.corrupt(images, n, s, seed=0) for n in NAMES for s in C.SEVERITIES}


# ----------------------------------------------------------------------------------------------
# registry and constants


def test_registry_order_and_constants() -> None:
    assert C.CORRUPTIONS[:3] == ("gaussian_noise", "shot_noise", "impulse_noise")
    assert len(C.CORRUPTIONS) == 19 and len(set(C.CORRUPTIONS)) == 19
    assert C.BENCHMARK_CORRUPTIONS[-1] == "jpeg_compression"
    assert C.EXTRA_CORRUPTIONS == ("speckle_noise", "gaussian_blur", "spatter", "saturate")
    assert C.SEVERITIES == (1, 2, 3, 4, 5)
    assert set(C.PARAMS) == set(C.CORRUPTIONS) and all(len(v) == 5 for v in C.PARAMS.values())
    # CIFAR constants, not the ImageNet-C ones of `imagecorruptions` (e.g. noise .08-.38, JPEG 25-7).
    assert C.PARAMS["gaussian_noise"] == (0.04, 0.06, 0.08, 0.09, 0.10)
    assert C.PARAMS["jpeg_compression"] == (80, 65, 58, 50, 40)
    assert C.PARAMS["motion_blur"][4] == (9, 2.5)
    # float arange quirk: 7, 12, 16, 21, 26 zoom factors ending at 1.06, 1.11, 1.15, 1.20, 1.25
    zooms = C.PARAMS["zoom_blur"]
    assert [len(z) for z in zooms] == [7, 12, 16, 21, 26]
    assert np.allclose([z[-1] for z in zooms], [1.06, 1.11, 1.15, 1.20, 1.25])
    assert [int(32 * c) for c in C.PARAMS["pixelate"]] == [30, 28, 27, 24, 20]
    assert np.allclose(C.PARAMS["elastic_transform"][1], (1.6, 6.4, 2.24))


def test_bad_arguments_are_refused(images: np.ndarray) -> None:
    with pytest.raises(KeyError, match="gaussian_noise"):
        C.corrupt(images, "gaussian", 1)
    with pytest.raises(ValueError, match="severity"):
        C.corrupt(images, "contrast", 6)
    with pytest.raises(TypeError, match="uint8"):
        C.corrupt(images.astype(np.float32), "contrast", 1)
    with pytest.raises(ValueError, match="HWC"):
        C.corrupt(images.transpose(0, 3, 1, 2), "contrast", 1)


# ----------------------------------------------------------------------------------------------
# shape, dtype, range, determinism, batch independence


@pytest.mark.parametrize("name", NAMES)
def test_shape_dtype_and_clipping(name: str, images: np.ndarray, corrupted: dict) -> None:
    before = images.copy()
    for s in C.SEVERITIES:
        out = corrupted[name, s]
        assert out.dtype == np.uint8 and out.shape == images.shape
    assert np.array_equal(images, before), "input modified"
    assert not np.array_equal(corrupted[name, 5], images), "severity 5 left the images unchanged"
    # Values above 255 must be clipped before the uint8 cast (a wrap-around would turn white dark).
    white = np.full((2, 32, 32, 3), 255, dtype=np.uint8)
    assert C.corrupt(white, name, 5).mean() > 150


@pytest.mark.parametrize("name", RANDOM)
def test_seed_determinism(name: str, images: np.ndarray, corrupted: dict) -> None:
    x = images[:4]
    a = C.corrupt(x, name, 3, seed=7)
    assert np.array_equal(a, C.corrupt(x, name, 3, seed=7))
    assert not np.array_equal(a, C.corrupt(x, name, 3, seed=8))
    assert not np.array_equal(a, C.corrupt(x, name, 3, seed=7, first_index=4))   # index is in the stream
    assert not np.array_equal(corrupted[name, 3][:4], C.corrupt(x, name, 3, seed=1))


@pytest.mark.parametrize("name", DETERMINISTIC)
def test_deterministic_corruptions_ignore_the_seed(name: str, images: np.ndarray) -> None:
    x = images[:4]
    assert np.array_equal(C.corrupt(x, name, 4, seed=0), C.corrupt(x, name, 4, seed=123, first_index=9))


@pytest.mark.parametrize("name", NAMES)
def test_batch_split_independence(name: str, images: np.ndarray, corrupted: dict) -> None:
    """Design: image i draws from the stream of dataset index `first_index + i`, so 8 images in one
    call equal two calls of 4 (and any chunking or worker count)."""
    whole = corrupted[name, 2][:8]
    halves = np.concatenate([C.corrupt(images[:4], name, 2, seed=0),
                             C.corrupt(images[4:8], name, 2, seed=0, first_index=4)])
    assert np.array_equal(whole, halves)


# ----------------------------------------------------------------------------------------------
# severity ordering: mean absolute difference to the clean image, over the 16 images

MONOTONE = [n for n in NAMES if n not in
            {"glass_blur", "frost", "elastic_transform", "spatter", "saturate"}]


def _distances(name: str, images: np.ndarray, corrupted: dict) -> list[float]:
    return [float(np.abs(corrupted[name, s].astype(np.float64) - images).mean()) for s in C.SEVERITIES]


@pytest.mark.parametrize("name", MONOTONE)
def test_severity_ordering(name: str, images: np.ndarray, corrupted: dict) -> None:
    d = _distances(name, images, corrupted)
    assert all(b > a for a, b in itertools.pairwise(d)), d


def test_severity_ordering_of_the_non_monotone_constants(images: np.ndarray, corrupted: dict) -> None:
    """Where the original CIFAR constants are not monotone, test what they do imply."""
    # glass_blur: severities 1-3 make one pass of pixel copies, 4-5 two; a stronger blur partly hides
    # the copies, so within each group the distance need not grow (same on real CIFAR images).
    g = _distances("glass_blur", images, corrupted)
    assert min(g[3:]) > max(g[:3]), g
    # elastic_transform: the random affine shift (2.56, 2.24, 1.92, 1.6, 0.96 px) dominates the
    # elastic field, so the distance *falls* with severity (also on real CIFAR images).
    e = _distances("elastic_transform", images, corrupted)
    assert e[0] > e[2] > e[4], e
    # spatter: severities 1-3 are water (growing), 4-5 mud (growing), mud 4 is milder than water 3.
    sp = _distances("spatter", images, corrupted)
    assert sp[0] < sp[1] < sp[2] and sp[3] < sp[4] and sp[3] < sp[2], sp
    # saturate: x0.3, x0.1 (desaturation, 2 stronger than 1), then x1.5, x2+0.1, x2.5+0.2.
    sa = _distances("saturate", images, corrupted)
    assert sa[1] > sa[0] and sa[2] < sa[3] < sa[4], sa
    if HAVE_FROST:
        # frost: image weight 1, 1, .9, .85, .75 and frost weight .2, .3, .4, .4, .45: grows to
        # severity 3; 4 and 5 trade image for frost and are not farther here (nor on real images).
        f = _distances("frost", images, corrupted)
        assert f[0] < f[1] < f[2], f


# ----------------------------------------------------------------------------------------------
# per-image references of the original formulas


def _u8(x: np.ndarray) -> np.ndarray:
    return np.uint8(x)   # the original's final cast (truncation)


def test_truncation_not_rounding() -> None:
    """The original ends with `np.uint8(float array)`: truncation. Contrast 0.5 about the mean 1.5
    maps 0 -> 0.75 and 3 -> 2.25 (0-255 scale): truncated 0 and 2, rounded they would be 1 and 2."""
    img = np.zeros((1, 32, 32, 3), dtype=np.uint8)
    img[:, :16] = 3
    out = C.corrupt(img, "contrast", 2)
    assert set(np.unique(out[:, 16:])) == {0} and set(np.unique(out[:, :16])) == {2}


@pytest.mark.parametrize("severity", C.SEVERITIES)
def test_contrast_brightness_saturate_reference(severity: int, images: np.ndarray, corrupted: dict) -> None:
    c = [.75, .5, .4, .3, 0.15][severity - 1]
    b = [.05, .1, .15, .2, .3][severity - 1]
    s0, s1 = [(0.3, 0), (0.1, 0), (1.5, 0), (2, 0.1), (2.5, 0.2)][severity - 1]
    for i, img in enumerate(images):
        x = np.array(img) / 255.
        means = np.mean(x, axis=(0, 1), keepdims=True)
        assert np.array_equal(corrupted["contrast", severity][i], _u8(np.clip((x - means) * c + means, 0, 1) * 255))
        hsv = skcolor.rgb2hsv(x)
        hsv[:, :, 2] = np.clip(hsv[:, :, 2] + b, 0, 1)
        assert np.array_equal(corrupted["brightness", severity][i], _u8(np.clip(skcolor.hsv2rgb(hsv), 0, 1) * 255))
        hsv = skcolor.rgb2hsv(x)
        hsv[:, :, 1] = np.clip(hsv[:, :, 1] * s0 + s1, 0, 1)
        assert np.array_equal(corrupted["saturate", severity][i], _u8(np.clip(skcolor.hsv2rgb(hsv), 0, 1) * 255))


@pytest.mark.parametrize("severity", C.SEVERITIES)
def test_pixelate_jpeg_gaussian_blur_reference(severity: int, images: np.ndarray, corrupted: dict) -> None:
    p = [0.95, 0.9, 0.85, 0.75, 0.65][severity - 1]
    q = [80, 65, 58, 50, 40][severity - 1]
    sigma = [.4, .6, 0.7, .8, 1][severity - 1]
    for i, img in enumerate(images):
        pil = Image.fromarray(img)
        small = pil.resize((int(32 * p), int(32 * p)), Image.BOX).resize((32, 32), Image.BOX)
        assert np.array_equal(corrupted["pixelate", severity][i], np.uint8(small))
        buf = io.BytesIO()
        pil.save(buf, "JPEG", quality=q)
        assert np.array_equal(corrupted["jpeg_compression", severity][i], np.uint8(Image.open(buf)))
        blurred = gaussian(np.array(img) / 255., sigma=sigma, channel_axis=-1)
        assert np.array_equal(corrupted["gaussian_blur", severity][i], _u8(np.clip(blurred, 0, 1) * 255))


def _plain_disk(radius: float, alias_blur: float) -> np.ndarray:
    grid = np.arange(-8, 9)
    xx, yy = np.meshgrid(grid, grid)
    disk = ((xx ** 2 + yy ** 2) <= radius ** 2).astype(np.float64)
    disk /= disk.sum()
    k = np.exp(-np.arange(-1, 2) ** 2 / (2 * alias_blur ** 2))
    k /= k.sum()
    return ndimage.correlate(disk, np.outer(k, k), mode="mirror")   # 3x3 Gaussian, REFLECT_101


@pytest.mark.parametrize("severity", C.SEVERITIES)
def test_defocus_blur_reference(severity: int, images: np.ndarray, corrupted: dict) -> None:
    radius, alias = [(0.3, 0.4), (0.4, 0.5), (0.5, 0.6), (1, 0.2), (1.5, 0.1)][severity - 1]
    kernel = C.disk_kernel(radius, alias)   # float32, as the original's cv2 kernel
    assert kernel.dtype == np.float32 and kernel.shape == (17, 17)
    assert np.allclose(kernel, _plain_disk(radius, alias), atol=1e-7)
    for i, img in enumerate(images):
        x = np.array(img) / 255.
        ch = np.stack([ndimage.correlate(x[:, :, d], kernel.astype(np.float64), mode="mirror") for d in range(3)], -1)
        assert np.array_equal(corrupted["defocus_blur", severity][i], _u8(np.clip(ch, 0, 1) * 255))


def _clipped_zoom(img: np.ndarray, z: float) -> np.ndarray:
    h = img.shape[0]
    ch = int(np.ceil(h / z))
    top = (h - ch) // 2
    img = ndimage.zoom(img[top:top + ch, top:top + ch], (z, z, 1), order=1)
    trim = (img.shape[0] - h) // 2
    return img[trim:trim + h, trim:trim + h]


@pytest.mark.parametrize("severity", C.SEVERITIES)
def test_zoom_blur_reference(severity: int, images: np.ndarray, corrupted: dict) -> None:
    factors = np.arange(1, [1.06, 1.11, 1.16, 1.21, 1.26][severity - 1], 0.01)
    for i, img in enumerate(images[:4]):
        x = (np.array(img) / 255.).astype(np.float32)
        out = np.zeros_like(x)
        for z in factors:
            out += _clipped_zoom(x, z)
        x = (x + out) / (len(factors) + 1)
        assert np.array_equal(corrupted["zoom_blur", severity][i], _u8(np.clip(x, 0, 1) * 255))


@pytest.mark.parametrize("severity", C.SEVERITIES)
def test_noise_references_with_the_same_generators(severity: int, images: np.ndarray, corrupted: dict) -> None:
    n = len(images)
    for name in ("gaussian_noise", "shot_noise", "impulse_noise", "speckle_noise"):
        c = C.PARAMS[name][severity - 1]
        for i, g in enumerate(C.image_rngs(0, name, severity, 0, n)):
            x = np.array(images[i]) / 255.
            if name == "gaussian_noise":
                ref = np.clip(x + g.normal(size=x.shape, scale=c), 0, 1) * 255
            elif name == "shot_noise":
                ref = np.clip(g.poisson(x * c) / c, 0, 1) * 255
            elif name == "impulse_noise":
                ref = np.clip(random_noise(x, mode="s&p", amount=c, rng=g), 0, 1) * 255
            else:
                ref = np.clip(x + x * g.normal(size=x.shape, scale=c), 0, 1) * 255
            assert np.array_equal(corrupted[name, severity][i], _u8(ref)), (name, i)


@pytest.mark.parametrize("severity", [1, 5])
def test_glass_blur_reference_with_literal_swap(severity: int, images: np.ndarray, corrupted: dict) -> None:
    sigma, delta, iterations = C.PARAMS["glass_blur"][severity - 1]
    for i, g in enumerate(C.image_rngs(0, "glass_blur", severity, 0, 3)):
        x = np.uint8(gaussian(np.array(images[i]) / 255., sigma=sigma, channel_axis=-1) * 255)
        for _ in range(iterations):
            for h in range(32 - delta, delta, -1):
                for w in range(32 - delta, delta, -1):
                    dx, dy = g.integers(-delta, delta, size=(2,))
                    hp, wp = h + dy, w + dx
                    x[h, w], x[hp, wp] = x[hp, wp], x[h, w]   # the original's view "swap"
        ref = np.clip(gaussian(x / 255., sigma=sigma, channel_axis=-1), 0, 1) * 255
        assert np.array_equal(corrupted["glass_blur", severity][i], _u8(ref))


def _plain_plasma(g: np.random.Generator, wibbledecay: float, mapsize: int = 32) -> np.ndarray:
    m = np.empty((mapsize, mapsize))
    m[0, 0] = 0
    step, wibble = mapsize, 100.0
    while step >= 2:
        half = step // 2
        corners = m[0:mapsize:step, 0:mapsize:step]
        acc = corners + np.roll(corners, -1, axis=0)
        acc += np.roll(acc, -1, axis=1)
        m[half::step, half::step] = acc / 4 + wibble * g.uniform(-wibble, wibble, acc.shape)
        dr, ul = m[half::step, half::step], m[0::step, 0::step]
        lt = dr + np.roll(dr, 1, axis=0) + (ul + np.roll(ul, -1, axis=1))
        m[0::step, half::step] = lt / 4 + wibble * g.uniform(-wibble, wibble, lt.shape)
        tt = dr + np.roll(dr, 1, axis=1) + (ul + np.roll(ul, -1, axis=0))
        m[half::step, 0::step] = tt / 4 + wibble * g.uniform(-wibble, wibble, tt.shape)
        step //= 2
        wibble /= wibbledecay
    m -= m.min()
    return m / m.max()


@pytest.mark.parametrize("severity", [1, 4])
def test_fog_reference_with_the_same_generators(severity: int, images: np.ndarray, corrupted: dict) -> None:
    strength, decay = C.PARAMS["fog"][severity - 1]
    for i, g in enumerate(C.image_rngs(0, "fog", severity, 0, 4)):
        x = np.array(images[i]) / 255.
        max_val = x.max()
        x += strength * _plain_plasma(g, decay)[:32, :32][..., np.newaxis]
        assert np.array_equal(corrupted["fog", severity][i], _u8(np.clip(x * max_val / (max_val + strength), 0, 1) * 255))


@pytest.mark.parametrize("severity", C.SEVERITIES)
def test_spatter_reference_with_the_same_generators(severity: int, images: np.ndarray, corrupted: dict) -> None:
    """Per-image composition of the original recipe (the OpenCV steps via `opencv_ports`, which the
    cv2 oracle below pins); colours and masks are float32 as in the original (ones_like(float32))."""
    loc, scale, sigma, thr, strength, mud = C.PARAMS["spatter"][severity - 1]
    for i, g in enumerate(C.image_rngs(0, "spatter", severity, 0, len(images))):
        x = np.array(images[i], dtype=np.float32) / 255.
        liquid = gaussian(g.normal(size=(32, 32), loc=loc, scale=scale), sigma=sigma)
        liquid[liquid < thr] = 0
        if mud:
            m = gaussian(np.where(liquid > thr, 1, 0).astype(np.float32), sigma=strength)
            m[m < 0.8] = 0
            brown = np.ones_like(x) * np.array([63, 42, 20], dtype=np.float32) / np.float32(255) * m[..., None]
            ref = np.clip(x * (1 - m[..., None]) + brown, 0, 1) * 255
        else:
            l8 = (liquid * 255).astype(np.uint8)[None]
            d = opencv_ports.distance_transform_l2_5x5(255 - opencv_ports.canny_l1(l8, 50, 150))
            d = opencv_ports.box_blur3_f32(np.minimum(d, np.float32(20))).astype(np.uint8)
            d = opencv_ports.filter2d_u8(opencv_ports.equalize_hist(d), np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]))
            m = (l8 * opencv_ports.box_blur3_u8(d).astype(np.float32))[0]
            m = m / m.max() * strength
            water = np.array([175, 238, 238], dtype=np.float32) / np.float32(255)
            ref = np.clip(x + m[..., None] * water, 0, 1) * 255
        assert np.array_equal(corrupted["spatter", severity][i], _u8(ref)), i


@pytest.mark.parametrize("severity", [1, 5])
def test_snow_reference_with_the_same_generators(severity: int, images: np.ndarray, corrupted: dict) -> None:
    loc, scale, zoom, thr, radius, sigma, blend = C.PARAMS["snow"][severity - 1]
    for i, g in enumerate(C.image_rngs(0, "snow", severity, 0, 4)):
        x = np.array(images[i], dtype=np.float32) / 255.
        layer = g.normal(size=(32, 32), loc=loc, scale=scale)
        angle = g.uniform(-135, -45)
        layer = _clipped_zoom(layer[..., np.newaxis], zoom)
        layer[layer < thr] = 0
        l8 = (np.clip(layer.squeeze(), 0, 1) * 255).astype(np.uint8)
        flakes = (imagemagick_motion.motion_blur_u8(l8[None], radius, sigma, np.array([angle]))[0] / 255.)[..., None]
        gray = opencv_ports.rgb_to_gray_f32(x[None])[0][..., None]
        x = blend * x + (1 - blend) * np.maximum(x, gray * 1.5 + 0.5)
        ref = np.clip(x + flakes + np.rot90(flakes, k=2), 0, 1) * 255
        assert np.array_equal(corrupted["snow", severity][i], _u8(ref)), i


@pytest.mark.parametrize("severity", [1, 3])
def test_elastic_reference_with_the_same_generators(severity: int, images: np.ndarray, corrupted: dict) -> None:
    alpha, sigma, shift = C.PARAMS["elastic_transform"][severity - 1]
    pts1 = np.float32([[26, 26], [26, 6], [6, 6]])   # centre 16 +- 10 (32 // 3)
    for i, g in enumerate(C.image_rngs(0, "elastic_transform", severity, 0, 4)):
        x = np.array(images[i], dtype=np.float32) / 255.
        pts2 = pts1 + g.uniform(-shift, shift, size=pts1.shape).astype(np.float32)
        m = opencv_ports.get_affine_transform(pts1[None], pts2[None])
        x = opencv_ports.warp_affine_linear_f32(x[None], m)[0]
        dx = (gaussian(g.uniform(-1, 1, size=(32, 32)), sigma, mode="reflect", truncate=3) * alpha).astype(np.float32)
        dy = (gaussian(g.uniform(-1, 1, size=(32, 32)), sigma, mode="reflect", truncate=3) * alpha).astype(np.float32)
        rows, cols, chans = np.meshgrid(np.arange(32), np.arange(32), np.arange(3), indexing="ij")
        coords = (rows + dy[..., None]).ravel(), (cols + dx[..., None]).ravel(), chans.ravel()
        ref = np.clip(ndimage.map_coordinates(x, coords, order=1, mode="reflect").reshape(32, 32, 3), 0, 1) * 255
        assert np.array_equal(corrupted["elastic_transform", severity][i], _u8(ref)), i


# ----------------------------------------------------------------------------------------------
# ImageMagick 6 motion blur port


def test_motion_blur_taps_offsets_and_q16_rounding() -> None:
    taps = imagemagick_motion.kernel_taps(6, 1.0)
    assert len(taps) == 13 and math.isclose(taps.sum(), 1.0) and np.all(np.diff(taps) < 0)
    assert [len(imagemagick_motion.kernel_taps(r, 2)) for r in (8, 9, 14)] == [17, 19, 29]
    off = imagemagick_motion.tap_offsets(13, np.array([0.0, 90.0]))
    assert np.array_equal(off[0, :, 0], np.arange(13)) and not off[0, :, 1].any()   # angle 0: +x
    assert np.array_equal(off[1, :, 1], np.arange(13)) and not off[1, :, 0].any()   # angle 90: +y
    # Flat images keep their value: the Q16 round trip is floor(floor(257 s + .5) / 257), exact for
    # constant input even though the taps sum to 1 only up to rounding.
    flat = np.repeat(np.arange(256, dtype=np.uint8), 4)[:, None, None].repeat(32, 1).repeat(32, 2)[:256]
    out = imagemagick_motion.motion_blur_u8(flat, 9, 2.5, np.full(256, 17.0))
    assert np.array_equal(out, flat)


def test_motion_blur_matches_a_per_pixel_reference(images: np.ndarray) -> None:
    radius, sigma = 8, 2.0
    angles = np.array([-37.5, 12.25])
    out = imagemagick_motion.motion_blur_u8(images[:2], radius, sigma, angles)
    width = 2 * math.ceil(radius) + 1
    k = np.array([math.exp(-(i * i) / (2 * sigma * sigma)) / (math.sqrt(2 * math.pi) * sigma) for i in range(width)])
    k /= k.sum()
    for n, angle in enumerate(angles):
        px, py = width * math.sin(math.radians(angle)), width * math.cos(math.radians(angle))
        hyp = math.hypot(px, py)
        q = images[n].astype(np.float64) * 257
        ref = np.zeros((32, 32, 3), dtype=np.uint8)
        for y in range(32):
            for x in range(32):
                s = np.zeros(3)
                for i in range(width):
                    xx = min(max(x + math.ceil(i * py / hyp - 0.5), 0), 31)
                    yy = min(max(y + math.ceil(i * px / hyp - 0.5), 0), 31)
                    s += k[i] * q[yy, xx]
                ref[y, x] = np.floor(np.clip(np.floor(s + 0.5), 0, 65535) / 257)
        assert np.array_equal(out[n], ref)


def _imagemagick_blur(library, wand_image, arr: np.ndarray, radius: float, sigma: float, angle: float) -> np.ndarray:
    """The original's path: PIL PNG -> Wand -> MagickMotionBlurImage -> 8-bit PNG blob -> decode
    (PIL `convert` expands a greyscale or palette PNG, as the original's cv2.imdecode branch does)."""
    mode = "RGB" if arr.ndim == 3 else "L"
    buf = io.BytesIO()
    Image.fromarray(arr, mode=mode).save(buf, format="PNG")
    with wand_image.Image(blob=buf.getvalue()) as im:
        library.MagickMotionBlurImage(im.wand, radius, sigma, angle)
        return np.asarray(Image.open(io.BytesIO(im.make_blob("png"))).convert(mode))


def test_motion_blur_matches_imagemagick_when_available(images: np.ndarray) -> None:
    """Oracle: ImageMagick 6 (Q16) through Wand with the original's ctypes binding, for the
    motion_blur images (RGB) and the snow layers (greyscale). To run it without installing
    ImageMagick: unpack the Debian 12 .debs of libmagickwand-6.q16-6 and libmagickcore-6.q16-6 (plus
    liblqr-1-0, libfftw3-double3, libltdl7), `pip install --target DIR Wand`, and set MAGICK_HOME (a
    folder whose lib/ has libMagickWand-6.Q16.so), LD_LIBRARY_PATH, MAGICK_CODER_MODULE_PATH
    (.../ImageMagick-6.9.11/modules-Q16/coders) and PYTHONPATH."""
    wand_image = pytest.importorskip("wand.image", reason="Wand + ImageMagick not installed")
    from wand.api import library

    library.MagickMotionBlurImage.argtypes = (ctypes.c_void_p, ctypes.c_double, ctypes.c_double, ctypes.c_double)
    angles = np.linspace(-45, 45, 8)
    for radius, sigma in C.PARAMS["motion_blur"]:
        ours = imagemagick_motion.motion_blur_u8(images[:8], radius, sigma, angles)
        for i in range(8):
            ref = _imagemagick_blur(library, wand_image, images[i], radius, sigma, angles[i])
            assert np.array_equal(ours[i], ref), (radius, sigma, i)
    rng = np.random.default_rng(0)
    for loc, scale, _, thr, radius, sigma, _ in C.PARAMS["snow"]:
        layers = (np.clip(rng.normal(loc, scale, (8, 32, 32)), 0, 1) * 255).astype(np.uint8)
        layers[layers < thr * 255] = 0
        angles = rng.uniform(-135, -45, 8)
        ours = imagemagick_motion.motion_blur_u8(layers, radius, sigma, angles)
        for i in range(8):
            assert np.array_equal(ours[i], _imagemagick_blur(library, wand_image, layers[i], radius, sigma, angles[i]))


# ----------------------------------------------------------------------------------------------
# OpenCV oracle (only when cv2 is importable; the suite does not depend on it)


def test_opencv_ports_match_cv2_when_available(images: np.ndarray) -> None:
    cv2 = pytest.importorskip("cv2", reason="OpenCV not installed (optional oracle)")
    rng = np.random.default_rng(0)
    layer = (np.clip(gaussian(rng.normal(0.65, 0.3, (20, 32, 32)), sigma=(0, 1, 1)), 0, 1) * 255).astype(np.uint8)
    layer[layer < 176] = 0
    edges = np.stack([cv2.Canny(a, 50, 150) for a in layer])
    assert np.array_equal(opencv_ports.canny_l1(layer, 50, 150), edges)
    dist = np.stack([cv2.distanceTransform(255 - a, cv2.DIST_L2, 5) for a in edges])
    assert np.array_equal(np.minimum(opencv_ports.distance_transform_l2_5x5(255 - edges), 20), np.minimum(dist, 20))
    u8 = rng.integers(0, 256, (20, 32, 32)).astype(np.uint8)
    kernel = np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]])
    assert np.array_equal(opencv_ports.equalize_hist(u8 // 12), np.stack([cv2.equalizeHist(a) for a in u8 // 12]))
    assert np.array_equal(opencv_ports.filter2d_u8(u8, kernel), np.stack([cv2.filter2D(a, cv2.CV_8U, kernel) for a in u8]))
    assert np.array_equal(opencv_ports.box_blur3_u8(u8), np.stack([cv2.blur(a, (3, 3)) for a in u8]))
    f = rng.random((20, 32, 32, 3)).astype(np.float32)
    assert np.array_equal(opencv_ports.rgb_to_gray_f32(f), np.stack([cv2.cvtColor(a, cv2.COLOR_RGB2GRAY) for a in f]))
    for r, a in C.PARAMS["defocus_blur"]:
        grid = np.arange(-8, 9)
        xx, yy = np.meshgrid(grid, grid)
        disk = np.array((xx ** 2 + yy ** 2) <= r ** 2, dtype=np.float32)
        disk /= np.sum(disk)
        assert np.array_equal(C.disk_kernel(r, a), cv2.GaussianBlur(disk, ksize=(3, 3), sigmaX=a))
    if int(cv2.__version__.split(".")[0]) < 5:   # OpenCV 5 moved warpAffine to float coordinates
        x = images[:8].astype(np.float32) / 255
        pts1 = np.float32([[26, 26], [26, 6], [6, 6]])
        pts2 = pts1 + rng.uniform(-2.5, 2.5, (8, 3, 2)).astype(np.float32)
        ms = np.stack([cv2.getAffineTransform(pts1, p) for p in pts2])
        ref = np.stack([cv2.warpAffine(x[i], ms[i], (32, 32), borderMode=cv2.BORDER_REFLECT_101) for i in range(8)])
        assert np.array_equal(opencv_ports.warp_affine_linear_f32(x, ms), ref)


# ----------------------------------------------------------------------------------------------
# frost


def test_frost_missing_names_the_package(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("CIFAR10C_FROST_DIR", str(tmp_path))
    monkeypatch.setattr(C.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(C.FrostImagesMissing, match=r"imagecorruptions.*pip install --no-deps imagecorruptions==1\.1\.2"):
        C.frost_dir()


@pytest.mark.skipif(not HAVE_FROST, reason="frost images not installed (pip install --no-deps imagecorruptions==1.1.2)")
def test_frost_layers_are_the_original_images() -> None:
    layers = C.frost_layers()
    assert [layer.shape for layer in layers] == [(120, 180, 3), (63, 112, 3), (63, 112, 3), (70, 105, 3), (99, 132, 3)]
    assert all(layer.dtype == np.uint8 for layer in layers)


# ----------------------------------------------------------------------------------------------
# dataset folders


def test_build_and_load_cifar10c(tmp_path, images: np.ndarray) -> None:
    x, y = images[:6], np.arange(6) % 10
    names = ("contrast", "gaussian_noise")
    folder = cifar10c.build_cifar10c(x, y, tmp_path / "c", names=names, seed=5, progress=False, chunk=4)
    assert sorted(p.name for p in folder.glob("*.npy")) == ["contrast.npy", "gaussian_noise.npy", "labels.npy"]
    labels = np.load(folder / "labels.npy")
    assert labels.dtype == np.uint8 and np.array_equal(labels, np.tile(y, 5))
    for name in names:
        data = np.load(folder / f"{name}.npy")
        assert data.dtype == np.uint8 and data.shape == (30, 32, 32, 3)
        for s in C.SEVERITIES:   # severity blocks in test order, independent of the chunk size
            block = data[(s - 1) * 6:s * 6]
            assert np.array_equal(block, C.corrupt(x, name, s, seed=5))
            got, lab = cifar10c.load_cifar10c(folder, name, s)
            assert np.array_equal(got, block) and lab.dtype == np.int64 and np.array_equal(lab, y)
    mtime = (folder / "contrast.npy").stat().st_mtime_ns
    cifar10c.build_cifar10c(x, y, folder, names=names, seed=5, progress=False)   # same spec: nothing redone
    assert (folder / "contrast.npy").stat().st_mtime_ns == mtime
    with pytest.raises(ValueError, match="another spec"):
        cifar10c.build_cifar10c(x, y, folder, names=names, seed=6, progress=False)
    with pytest.raises(FileNotFoundError, match=r"lacks fog\.npy.*contrast, gaussian_noise"):
        cifar10c.load_cifar10c(folder, "fog", 1)
    parent = tmp_path / "rb"
    (parent / "CIFAR-10-C").mkdir(parents=True)
    for f in folder.glob("*.npy"):
        os.link(f, parent / "CIFAR-10-C" / f.name)
    assert np.array_equal(cifar10c.load_cifar10c(parent, "contrast", 2)[0], C.corrupt(x, "contrast", 2))   # RobustBench data_dir
    assert not list(folder.glob(".*tmp*")), "temporary files left behind"


def test_default_folder_is_keyed_by_the_spec(tmp_path, monkeypatch: pytest.MonkeyPatch, images: np.ndarray) -> None:
    monkeypatch.setenv("REPRO_CACHE", str(tmp_path))
    x, y = images[:2], np.array([3, 4])
    folder = cifar10c.build_cifar10c(x, y, names=("brightness",), progress=False)
    assert folder == cifar10c.cache_folder(x, y) and folder.parent == tmp_path / "cifar10c"
    assert cifar10c.cache_folder(x, y, seed=1) != folder
    assert cifar10c.cache_folder(x, np.array([3, 5])) != folder
    assert cifar10c.cache_folder(x.transpose(0, 3, 1, 2), y) == folder   # NCHW input accepted


def test_load_cifar10c_validates_shapes(tmp_path) -> None:
    np.save(tmp_path / "labels.npy", np.zeros(10, np.uint8))
    np.save(tmp_path / "fog.npy", np.zeros((10, 32, 32), np.uint8))
    with pytest.raises(ValueError, match=r"uint8 \[5\*N, 32, 32, 3\]"):
        cifar10c.load_cifar10c(tmp_path, "fog", 1)
    np.save(tmp_path / "fog.npy", np.zeros((15, 32, 32, 3), np.uint8))
    with pytest.raises(ValueError, match="labels"):
        cifar10c.load_cifar10c(tmp_path, "fog", 1)


def test_builder_workers_give_the_same_bytes(tmp_path, images: np.ndarray) -> None:
    x, y = images[:4], np.zeros(4, dtype=np.int64)
    one = cifar10c.build_cifar10c(x, y, tmp_path / "a", names=("shot_noise",), progress=False, chunk=4)
    two = cifar10c.build_cifar10c(x, y, tmp_path / "b", names=("shot_noise",), progress=False, chunk=1, workers=2)
    assert np.array_equal(np.load(one / "shot_noise.npy"), np.load(two / "shot_noise.npy"))
