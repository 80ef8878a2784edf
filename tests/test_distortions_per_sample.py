"""Tests of the per-sample distortions in lib.distortions (one level per image, one batched call).

Blur: sigma in pixels, kernel extent by rule: SCIPY (radius int(4σ + 0.5), Dodge & Karam) or WIDTH4
(Bianchi's 4σ-wide kernel). AWGN: sigma on the 0–255 scale. Also pins the outputs of the functions
that existed before (another paper's cached results depend on them).
"""
from __future__ import annotations

import hashlib
import math

import numpy as np
import pytest
import torch
from scipy.ndimage import gaussian_filter

from lib import distortions as dist

pytestmark = pytest.mark.usefixtures("single_thread")   # tests/conftest.py


def _rand(shape, seed: int = 0, dtype=torch.float32) -> torch.Tensor:
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def _digest(t: torch.Tensor) -> str:
    return hashlib.sha256(t.contiguous().numpy().tobytes()).hexdigest()[:16]


# ------------------------------------------------------------------ the existing functions, pinned

# sha256 prefixes of 8-bit outputs, computed with lib/distortions.py at e69d4f3 (before the per-sample
# functions were added). A change here means paper 000's fixed distorted sets changed.
_PINNED = {
    ("awgn", 5.0): "1f75d648e21534f8",
    ("awgn", 25.0): "ad25a665d13c9816",
    ("blur", 0.25): "71973d307faa9190",
    ("blur", 1.25): "5b0bd04732398807",
    ("blur", 2.25): "87eabe21000e0bbf",
}


def _pin_images() -> torch.Tensor:
    g = torch.Generator().manual_seed(2026)
    return (torch.rand((6, 3, 32, 32), generator=g) * 255).round().to(torch.uint8)


@pytest.mark.parametrize("kind,level", sorted(_PINNED))
def test_existing_distort_set_outputs_unchanged(kind: str, level: float) -> None:
    assert _digest(dist.distort_set(_pin_images(), kind, level, seed=3)) == _PINNED[(kind, level)]


def test_existing_batch_functions_unchanged() -> None:
    x = _pin_images().float() / 255
    awgn = torch.round(dist.awgn(x, 15.0, torch.Generator().manual_seed(7)) * 255).to(torch.uint8)
    blur = torch.round(dist.gaussian_blur(x, 2.25) * 255).to(torch.uint8)
    assert _digest(awgn) == "9ecc8b08e0ad3c25"
    assert _digest(blur) == "87eabe21000e0bbf"
    assert [dist.blur_kernel_size(s) for s in (0.25, 1.25, 2.25, 0.5, 3.0)] == [1, 5, 9, 3, 13]


# ------------------------------------------------------------------ blur: kernel rules


@pytest.mark.parametrize("sigma,radius", [(0.0, 0), (0.1, 0), (0.125, 1), (0.5, 2), (1.0, 4), (1.43, 6),
                                          (2.25, 9), (10.0, 40)])
def test_scipy_rule_radius(sigma: float, radius: int) -> None:
    assert int(dist.blur_radius(sigma, "scipy")) == radius == int(4.0 * sigma + 0.5)


@pytest.mark.parametrize("sigma", [0.25, 0.5, 1.25, 2.25, 3.0, 0.375])
def test_width4_rule_radius_matches_existing_kernel_size(sigma: float) -> None:
    assert int(dist.blur_radius(sigma, dist.KernelRule.WIDTH4)) == dist.blur_kernel_size(sigma) // 2


def test_kernels_normalised_zero_outside_own_support() -> None:
    s = torch.tensor([0.0, 0.5, 1.25, 2.0], dtype=torch.float64)
    radii = dist.blur_radius(s, "scipy")
    k = dist.gaussian_kernels(s, radii, int(radii.max()))
    assert k.shape == (4, 2 * 8 + 1) and k.dtype == torch.float64
    torch.testing.assert_close(k.sum(1), torch.ones(4, dtype=torch.float64))
    assert torch.equal(k[0], (torch.arange(-8, 9) == 0).double())       # sigma 0: impulse
    assert (k[1, :6] == 0).all() and (k[1, 6:11] > 0).all()               # radius 2 of 8
    torch.testing.assert_close(k, k.flip(1))


# ------------------------------------------------------------------ blur: equality with references


@pytest.mark.parametrize("dtype,atol", [(torch.float64, 1e-12), (torch.float32, 1e-6)])
def test_scipy_rule_equals_gaussian_filter_per_image(dtype: torch.dtype, atol: float) -> None:
    # sigmas include 0, a sub-pixel one, one whose kernel (radius 12) is wider than the 9-pixel side
    sigmas = torch.tensor([0.0, 0.3, 0.77, 1.43, 2.5, 3.0])
    x = _rand((6, 3, 9, 11), 1, dtype)
    got = dist.blur_per_sample(x, sigmas)
    assert got.shape == x.shape and got.dtype == dtype
    for i, s in enumerate(sigmas.tolist()):
        ref = gaussian_filter(x[i].double().numpy(), sigma=(0, s, s), mode="reflect", truncate=4.0)
        np.testing.assert_allclose(got[i].double().numpy(), ref, rtol=0, atol=atol)


@pytest.mark.parametrize("band,chunk", [(dist.BLUR_BAND, dist.BLUR_CHUNK), (8, 3)])
def test_banded_chunked_products_equal_gaussian_filter(band: int, chunk: int,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # 75 x 50 px: several bands per axis; radii 2 … 48, the last wider than a band and than the height;
    # 4 images in chunks of 3 + 1 in the second case
    monkeypatch.setattr(dist, "BLUR_BAND", band)
    monkeypatch.setattr(dist, "BLUR_CHUNK", chunk)
    sigmas = torch.tensor([0.5, 2.0, 6.0, 12.0])
    x = _rand((4, 3, 50, 75), 7, torch.float64)
    got = dist.blur_per_sample(x, sigmas)
    for i, s in enumerate(sigmas.tolist()):
        ref = gaussian_filter(x[i].numpy(), sigma=(0, s, s), mode="reflect", truncate=4.0)
        np.testing.assert_allclose(got[i].numpy(), ref, rtol=0, atol=1e-12)


def test_blur_matrices_are_stochastic_and_match_a_padded_convolution() -> None:
    s = torch.tensor([0.7, 3.0], dtype=torch.float64)
    radii = dist.blur_radius(s)
    r = int(radii.max())
    k = dist.gaussian_kernels(s, radii, r)
    a = dist.blur_matrices(k, 10, "reflect")                    # radius 12 > 10 px: repeated reflection
    assert a.shape == (2, 10, 10) and (a >= 0).all()
    torch.testing.assert_close(a.sum(2), torch.ones(2, 10, dtype=torch.float64))
    v = torch.rand(10, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    padded = v[dist.border_index(10, r, "reflect")]               # [10 + 2r]
    for j in range(2):
        conv = torch.stack([(padded[i:i + 2 * r + 1] * k[j]).sum() for i in range(10)])
        torch.testing.assert_close(a[j] @ v, conv)


def test_scipy_rule_mirror_border_equals_gaussian_filter_mirror() -> None:
    sigmas = torch.tensor([0.9, 1.6])
    x = _rand((2, 3, 12, 10), 2, torch.float64)
    got = dist.blur_per_sample(x, sigmas, border="mirror")
    for i, s in enumerate(sigmas.tolist()):
        ref = gaussian_filter(x[i].numpy(), sigma=(0, s, s), mode="mirror", truncate=4.0)
        np.testing.assert_allclose(got[i].numpy(), ref, rtol=0, atol=1e-12)
    # and the border really matters
    assert (got - dist.blur_per_sample(x, sigmas)).abs().max() > 1e-3


def test_width4_rule_equals_existing_gaussian_blur_per_image() -> None:
    sigmas = [0.25, 1.25, 2.25, 0.75]
    x = _rand((4, 3, 20, 20), 3)
    got = dist.blur_per_sample(x, torch.tensor(sigmas), rule="width4")
    for i, s in enumerate(sigmas):
        ref = dist.gaussian_blur(x[i:i + 1], s, clip=False, quantize=False)
        torch.testing.assert_close(got[i:i + 1], ref, rtol=0, atol=1e-6)


def test_rules_differ() -> None:
    x = _rand((1, 3, 16, 16), 4)
    a = dist.blur_per_sample(x, torch.tensor([2.0]), rule="scipy", border="mirror")
    b = dist.blur_per_sample(x, torch.tensor([2.0]), rule="width4")
    assert (a - b).abs().max() > 1e-3


def test_blur_per_sample_zero_sigma_is_identity_and_scalar_broadcasts() -> None:
    x = _rand((3, 3, 8, 8), 5)
    assert torch.equal(dist.blur_per_sample(x, torch.zeros(3)), x)
    torch.testing.assert_close(dist.blur_per_sample(x, 1.1), dist.blur_per_sample(x, torch.full((3,), 1.1)))


def test_blur_per_sample_options_and_range() -> None:
    x = _rand((4, 3, 16, 16), 6)
    y = dist.blur_per_sample(x, torch.tensor([0.5, 1.0, 1.5, 2.0]), quantize=True)
    assert y.min() >= 0 and y.max() <= 1
    assert torch.allclose(y.double() * 255, (y.double() * 255).round(), atol=1e-4)
    const = torch.full((2, 3, 10, 10), 0.3)
    torch.testing.assert_close(dist.blur_per_sample(const, torch.tensor([1.0, 4.0])), const)
    assert dist.blur_per_sample(x, torch.tensor([0.0, 0.0, 0.0, 2.0]))[3].std() < 0.8 * x[3].std()


@pytest.mark.parametrize("bad", [torch.tensor([1.0, -0.5]), torch.tensor([1.0, float("nan")]),
                                 torch.ones(3), torch.ones(2, 1)])
def test_blur_per_sample_rejects_bad_sigmas(bad: torch.Tensor) -> None:
    with pytest.raises(ValueError):
        dist.blur_per_sample(_rand((2, 3, 8, 8)), bad)


def test_blur_per_sample_rejects_bad_images() -> None:
    with pytest.raises(ValueError):
        dist.blur_per_sample(torch.zeros(2, 3, 8, 8, dtype=torch.uint8), torch.ones(2))
    with pytest.raises(ValueError):
        dist.blur_per_sample(torch.zeros(3, 8, 8), torch.ones(3))
    with pytest.raises(ValueError):
        dist.blur_per_sample(torch.zeros(2, 3, 8, 8), torch.ones(2), rule="gauss")


def test_border_index_matches_numpy_pad() -> None:
    for n, pad in [(5, 2), (5, 7), (3, 11), (1, 3)]:
        a = np.arange(n)
        assert dist.border_index(n, pad, "reflect").tolist() == np.pad(a, pad, mode="symmetric").tolist()
        if n > 1:
            assert dist.border_index(n, pad, "mirror").tolist() == np.pad(a, pad, mode="reflect").tolist()


# ------------------------------------------------------------------ AWGN per sample


def test_awgn_per_sample_statistics() -> None:
    sigmas = torch.tensor([0.0, 5.0, 25.0, 100.0])
    x = torch.full((4, 3, 64, 64), 0.5)
    y = dist.awgn_per_sample(x, sigmas, torch.Generator().manual_seed(1), clip=False)
    noise = (y - x).double().flatten(1)
    n = noise.shape[1]
    assert torch.equal(y[0], x[0])
    for i in range(1, 4):
        expected = sigmas[i].item() / 255
        assert abs(noise[i].mean().item()) < 5 * expected / math.sqrt(n)
        assert noise[i].std().item() == pytest.approx(expected, rel=0.03)


def test_awgn_per_sample_equal_sigmas_match_awgn() -> None:
    x = _rand((3, 3, 16, 16), 7)
    a = dist.awgn_per_sample(x, 15.0, torch.Generator().manual_seed(4), clip=True, quantize=True)
    b = dist.awgn(x, 15.0, torch.Generator().manual_seed(4))
    torch.testing.assert_close(a, b, rtol=0, atol=1.5 / 255)        # at most one 8-bit step apart
    assert (a != b).float().mean() < 0.01


def test_awgn_per_sample_seeded_clipped_and_typed() -> None:
    x = _rand((2, 3, 16, 16), 8)
    s = torch.tensor([30.0, 80.0])
    a = dist.awgn_per_sample(x, s, torch.Generator().manual_seed(9))
    b = dist.awgn_per_sample(x, s, torch.Generator().manual_seed(9))
    c = dist.awgn_per_sample(x, s, torch.Generator().manual_seed(10))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert a.shape == x.shape and a.dtype == x.dtype
    assert a.min() >= 0 and a.max() <= 1
    with pytest.raises(ValueError):
        dist.awgn_per_sample(x, torch.tensor([1.0, -1.0]))
