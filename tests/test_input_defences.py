"""Table 4.6 baselines (`lib.papers.pixel_deflection.input_defences`): reference equality and shapes."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import ndimage

from lib.papers.pixel_deflection import input_defences as D


def _images(n: int = 3, size: int = 12, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(seed))


def test_bit_depth_levels() -> None:
    x = _images()
    for bits in (1, 2, 5):
        out = D.bit_depth(x, bits)
        levels = out * (2 ** bits - 1)
        assert torch.allclose(levels, levels.round(), atol=1e-5)
        assert float((out - x).abs().max()) <= 0.5 / (2 ** bits - 1) + 1e-6
    with pytest.raises(ValueError):
        D.bit_depth(x, 0)


@pytest.mark.parametrize("size", [2, 3])
def test_median_equals_scipy(size: int) -> None:
    x = _images(2, 9).double()
    ours = D.median_smooth(x, size).numpy()
    for i in range(2):
        for c in range(3):
            ref = ndimage.median_filter(x[i, c].numpy(), size=size, mode="mirror")
            if size % 2:   # odd windows: the median is unique
                assert np.allclose(ours[i, c], ref)
            else:          # even windows: scipy picks the upper middle value; we the lower: bound by the window
                win = np.lib.stride_tricks.sliding_window_view(
                    np.pad(x[i, c].numpy(), ((1, 0), (1, 0)), mode="reflect"), (2, 2))
                lo, hi = win.reshape(9, 9, 4).min(-1), win.reshape(9, 9, 4).max(-1)
                assert np.all((ours[i, c] >= lo - 1e-12) & (ours[i, c] <= hi + 1e-12))


def test_median_removes_salt_noise() -> None:
    x = torch.full((1, 3, 10, 10), 0.5)
    noisy = x.clone()
    noisy[0, :, 4, 4] = 1.0
    assert torch.allclose(D.median_smooth(noisy, 3), x)


def test_nl_means_smooths_noise() -> None:
    torch.manual_seed(0)
    clean = torch.full((2, 3, 16, 16), 0.5)
    noisy = (clean + 0.02 * torch.randn_like(clean)).clamp(0, 1)
    out = D.nl_means(noisy, 11, 3, h=10.0)
    assert out.shape == noisy.shape and out.dtype == noisy.dtype
    assert float((out - clean).abs().mean()) < 0.5 * float((noisy - clean).abs().mean())


def test_random_resize_pad_shape_seed_and_content() -> None:
    x = _images(4, 32)
    a = D.random_resize_pad(x, 36, torch.Generator().manual_seed(1))
    b = D.random_resize_pad(x, 36, torch.Generator().manual_seed(1))
    c = D.random_resize_pad(x, 36, torch.Generator().manual_seed(2))
    assert a.shape == (4, 3, 36, 36) and torch.equal(a, b) and not torch.equal(a, c)
    # every image keeps at least 32x32 nonzero pixels (its resized copy) and a zero border of the rest
    nonzero = (a.abs().sum(1) > 0).flatten(1).sum(1)
    assert torch.all(nonzero >= 32 * 32) and torch.all(nonzero < 36 * 36)
    with pytest.raises(ValueError):
        D.random_resize_pad(x, 32)
