"""Tests of lib.distortions: AWGN and Gaussian blur in the units of Bianchi et al. §4.2.

AWGN: sigma on the 0–255 scale, mean 0 (levels 5, 15, 25). Blur: sigma in pixels, kernel 4·sigma
(levels 0.25, 1.25, 2.25 -> kernels 1, 5, 9), borders reflected as OpenCV's BORDER_REFLECT_101.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.ndimage import convolve1d

from lib import distortions as dist


def _grey(shape=(4, 3, 128, 128), value: float = 0.5) -> torch.Tensor:
    return torch.full(shape, value, dtype=torch.float32)


def _rand(shape, seed: int = 0) -> torch.Tensor:
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed))


pytestmark = pytest.mark.usefixtures("single_thread")   # tests/conftest.py


# ---------------------------------------------------------------------------------------- AWGN


@pytest.mark.parametrize("sigma", [5.0, 15.0, 25.0])
def test_awgn_noise_statistics_on_0_255_scale(sigma: float) -> None:
    x = _grey()                                   # 196,608 values
    y = dist.awgn(x, sigma, torch.Generator().manual_seed(1), clip=False, quantize=False)
    noise = (y - x).double()
    n = noise.numel()
    expected_std = sigma / 255.0
    # mean 0: within 5 standard errors; std: relative error of the estimate is ~1/sqrt(2n) = 0.16%
    assert abs(noise.mean().item()) < 5 * expected_std / math.sqrt(n)
    assert noise.std().item() == pytest.approx(expected_std, rel=0.01)
    # and clearly not in the other unit (sigma taken on the 0–1 scale would be 255× larger)
    assert noise.abs().max().item() < 8 * expected_std


def test_awgn_clip_keeps_values_in_unit_range() -> None:
    x = torch.cat([_grey((2, 3, 32, 32), 0.02), _grey((2, 3, 32, 32), 0.98)])
    unclipped = dist.awgn(x, 25.0, torch.Generator().manual_seed(0), clip=False, quantize=False)
    assert unclipped.min() < 0 and unclipped.max() > 1          # the case is really exercised
    y = dist.awgn(x, 25.0, torch.Generator().manual_seed(0), clip=True, quantize=False)
    assert y.min().item() >= 0.0 and y.max().item() <= 1.0
    # clipping only touches the out-of-range values
    inside = (unclipped >= 0) & (unclipped <= 1)
    assert torch.equal(y[inside], unclipped[inside])


def test_awgn_quantize_gives_8bit_levels() -> None:
    y = dist.awgn(_rand((2, 3, 16, 16)), 15.0, torch.Generator().manual_seed(0), clip=True, quantize=True)
    levels = y.double() * 255.0
    assert torch.allclose(levels, levels.round(), atol=1e-4)
    assert levels.round().unique().numel() > 50                  # not trivially constant


def test_awgn_default_is_clipped_and_quantized() -> None:
    y = dist.awgn(_grey((2, 3, 16, 16), 0.99), 25.0, torch.Generator().manual_seed(3))
    assert y.min() >= 0 and y.max() <= 1
    assert torch.allclose(y.double() * 255, (y.double() * 255).round(), atol=1e-4)


def test_awgn_seeded_generator_is_reproducible() -> None:
    x = _rand((2, 3, 16, 16))
    a = dist.awgn(x, 15.0, torch.Generator().manual_seed(7))
    b = dist.awgn(x, 15.0, torch.Generator().manual_seed(7))
    c = dist.awgn(x, 15.0, torch.Generator().manual_seed(8))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


@pytest.mark.parametrize("kind,level", [("awgn", 15.0), ("blur", 1.25)])
def test_distort_set_independent_of_batch_size(kind: str, level: float) -> None:
    images = (_rand((10, 3, 16, 16), 5) * 255).round().to(torch.uint8)
    ref = dist.distort_set(images, kind, level, seed=3, batch_size=2048)
    assert ref.dtype == torch.uint8 and ref.shape == images.shape
    assert not torch.equal(ref, images)
    for bs in (1, 3, 7):
        assert torch.equal(dist.distort_set(images, kind, level, seed=3, batch_size=bs), ref)
    if kind == "awgn":
        assert not torch.equal(dist.distort_set(images, kind, level, seed=4), ref)


def test_distort_set_matches_single_batch_distortion() -> None:
    """The fixed distorted set D_T equals the per-batch functions with the same seed (8-bit result)."""
    images = (_rand((6, 3, 16, 16), 9) * 255).round().to(torch.uint8)
    x = images.float() / 255
    awgn = dist.awgn(x, 25.0, torch.Generator().manual_seed(11))
    assert torch.equal(dist.distort_set(images, "awgn", 25.0, seed=11),
                       torch.round(awgn * 255).to(torch.uint8))
    blur = dist.gaussian_blur(x, 2.25)
    assert torch.equal(dist.distort_set(images, "blur", 2.25, seed=0),
                       torch.round(blur * 255).to(torch.uint8))


# ---------------------------------------------------------------------------------------- blur


@pytest.mark.parametrize("sigma,size", [(0.25, 1), (1.25, 5), (2.25, 9)])
def test_blur_kernel_size_follows_4_sigma(sigma: float, size: int) -> None:
    assert dist.blur_kernel_size(sigma) == size


def test_blur_mildest_level_is_identity() -> None:
    x = _rand((2, 3, 16, 16))
    assert torch.equal(dist.gaussian_blur(x, 0.25, clip=False, quantize=False), x)


@pytest.mark.parametrize("sigma", [0.25, 1.25, 2.25])
def test_gaussian_kernel_normalised_and_symmetric(sigma: float) -> None:
    size = dist.blur_kernel_size(sigma)
    k = dist.gaussian_kernel1d(sigma, size).double()
    assert k.shape == (size,)
    assert k.sum().item() == pytest.approx(1.0, abs=1e-6)
    assert torch.allclose(k, k.flip(0), atol=0)
    assert int(k.argmax()) == size // 2
    if size > 1:   # taps follow exp(-x²/2σ²): ratio of neighbours
        assert (k[size // 2 + 1] / k[size // 2]).item() == pytest.approx(math.exp(-1 / (2 * sigma**2)), rel=1e-5)


def test_gaussian_kernel_rejects_even_size() -> None:
    with pytest.raises(ValueError):
        dist.gaussian_kernel1d(1.0, 4)


@pytest.mark.parametrize("sigma", [1.25, 2.25])
def test_blur_preserves_mean(sigma: float) -> None:
    const = _grey((1, 3, 20, 20), 0.3)
    out = dist.gaussian_blur(const, sigma, clip=False, quantize=False)
    assert torch.allclose(out, const, atol=1e-6)
    x = _rand((2, 3, 64, 64), 1)
    y = dist.gaussian_blur(x, sigma, clip=False, quantize=False)
    p = dist.blur_kernel_size(sigma) // 2
    inner = (slice(None), slice(None), slice(p, -p), slice(p, -p))
    assert y[inner].mean().item() == pytest.approx(x[inner].mean().item(), abs=3e-3)
    assert y.std() < 0.8 * x.std()            # and it does smooth


@pytest.mark.parametrize("sigma", [1.25, 2.25])
def test_blur_of_delta_is_separable_gaussian(sigma: float) -> None:
    size = dist.blur_kernel_size(sigma)
    x = torch.zeros(1, 3, 21, 21)
    x[..., 10, 10] = 1.0
    y = dist.gaussian_blur(x, sigma, clip=False, quantize=False)
    k = dist.gaussian_kernel1d(sigma, size)
    expected = torch.zeros(21, 21)
    lo, hi = 10 - size // 2, 10 + size // 2 + 1
    expected[lo:hi, lo:hi] = torch.outer(k, k)
    for c in range(3):
        torch.testing.assert_close(y[0, c], expected, rtol=0, atol=1e-7)


@pytest.mark.parametrize("sigma", [1.25, 2.25])
def test_blur_borders_are_reflect_101(sigma: float) -> None:
    """OpenCV BORDER_REFLECT_101 (…dcb|abcd|cba…) == scipy.ndimage 'mirror'."""
    x = _rand((2, 3, 12, 10), 4)
    got = dist.gaussian_blur(x, sigma, clip=False, quantize=False).double().numpy()
    k = dist.gaussian_kernel1d(sigma, dist.blur_kernel_size(sigma)).double().numpy()
    ref = convolve1d(convolve1d(x.double().numpy(), k, axis=-1, mode="mirror"), k, axis=-2, mode="mirror")
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-6)
    # 'reflect' (…cba|abcd|dcb…, edge repeated) would differ at the borders
    other = convolve1d(convolve1d(x.double().numpy(), k, axis=-1, mode="reflect"), k, axis=-2, mode="reflect")
    assert np.abs(got - other).max() > 1e-3


def test_blur_default_is_clipped_and_quantized() -> None:
    y = dist.gaussian_blur(_rand((1, 3, 16, 16), 2), 1.25)
    assert y.min() >= 0 and y.max() <= 1
    assert torch.allclose(y.double() * 255, (y.double() * 255).round(), atol=1e-4)


def test_distort_dispatches_by_name() -> None:
    x = _rand((1, 3, 16, 16), 6)
    torch.testing.assert_close(dist.distort(x, "blur", 2.25), dist.gaussian_blur(x, 2.25))
    torch.testing.assert_close(dist.distort(x, dist.Distortion.AWGN, 5.0, torch.Generator().manual_seed(0)),
                               dist.awgn(x, 5.0, torch.Generator().manual_seed(0)))
    with pytest.raises(ValueError):
        dist.distort(x, "jpeg", 10)


# ---------------------------------------------------------------------------------------- labels, PSNR


def test_describe_carries_units() -> None:
    assert dist.describe("awgn", 15) == "AWGN σ=15 (0–255)"
    assert dist.describe("blur", 1.25) == "blur σ=1.25 px (kernel 5)"
    assert "kernel 9" in dist.describe(dist.Distortion.BLUR, 2.25)
    assert set(dist.UNITS) == {"awgn", "blur"}   # the papers' levels live in lib/papers/<paper>/params.py


def test_psnr() -> None:
    x = _grey((2, 3, 64, 64))
    same = dist.psnr(x, x.clone())
    assert same.shape == (2,) and (same > 100).all()
    y = dist.awgn(x, 25.0, torch.Generator().manual_seed(0))
    expected = 20 * math.log10(255 / 25)          # 20.17 dB
    assert dist.psnr(x, y) == pytest.approx(torch.full((2,), expected), abs=0.15)
    y5 = dist.awgn(x, 5.0, torch.Generator().manual_seed(0))
    assert dist.psnr(x, y5).mean().item() == pytest.approx(20 * math.log10(255 / 5), abs=0.3)
