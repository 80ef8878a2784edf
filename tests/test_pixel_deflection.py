"""Pixel deflection (thesis ch. 4): deflection invariants and exact sequential semantics, R-CAM on a tiny
GAP model, the wavelet denoiser against scikit-image's legacy semantics, the other denoisers."""
from __future__ import annotations

import math
import random

import numpy as np
import pytest
import pywt
import torch
from torch import nn

from lib import models
from lib.papers.pixel_deflection import method as PD


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _encoded(n: int, c: int, h: int, w: int) -> torch.Tensor:
    """`[n, c, h, w]` float64 in (0, 1) whose values encode (image, channel, row, col) uniquely."""
    total = n * c * h * w
    return (torch.arange(total, dtype=torch.float64) + 1).div(total + 1).view(n, c, h, w)


def _decode(values: torch.Tensor, shape: tuple[int, int, int, int]) -> tuple[torch.Tensor, ...]:
    """Inverse of `_encoded`: (image, channel, row, col) of every value."""
    n, c, h, w = shape
    idx = (values * (n * c * h * w + 1)).round().long() - 1
    return idx // (c * h * w), idx // (h * w) % c, idx // w % h, idx % w


def _replay(images: torch.Tensor, draws: PD.Deflections) -> tuple[torch.Tensor, torch.Tensor]:
    """A sequential in-place Python loop over the draws; also the number of hops of every entry's value."""
    out = images.clone()
    n, c, h, w = images.shape
    hops = torch.zeros(n, c * h * w if draws.mode is PD.DeflectMode.CHANNEL else h * w, dtype=torch.long)
    for i in range(n):
        flat = out[i].reshape(-1) if draws.mode is PD.DeflectMode.CHANNEL else out[i].reshape(c, -1)
        for d, s in zip(draws.dst[i].tolist(), draws.src[i].tolist()):
            flat[..., d] = flat[..., s].clone()
            hops[i, d] = hops[i, s] + 1
        out[i] = flat.view(c, h, w)
    return out, hops


# ---------------------------------------------------------------------------------------------
# Deflection: draws


@pytest.mark.parametrize("mode", ["channel", "pixel"])
def test_draws_stay_in_window_image_and_channel(mode: str) -> None:
    n, c, h, w, r = 3, 3, 9, 13, 3
    d = PD.draw_deflections((n, c, h, w), 4000, r, generator=_gen(0), mode=mode)
    space = h * w
    if mode == "channel":
        assert torch.equal(d.dst // space, d.src // space)                       # same channel
        assert torch.equal(d.dst // space, (torch.arange(4000) % c).expand(n, -1))  # channels in turn
    dy, dx = (d.dst % space) // w, d.dst % w
    sy, sx = (d.src % space) // w, d.src % w
    assert int((dy - sy).abs().max()) == r and int((dx - sx).abs().max()) == r   # window reached, not exceeded
    assert int(sy.min()) == 0 and int(sy.max()) == h - 1 and int(sx.min()) == 0 and int(sx.max()) == w - 1


def _chi2(counts: torch.Tensor) -> float:
    expected = counts.double().mean()
    return float(((counts.double() - expected) ** 2 / expected).sum())


def test_locations_uniform_without_saliency_and_with_zero_saliency() -> None:
    shape, k = (2, 3, 6, 6), 36_000
    d_none = PD.draw_deflections(shape, k, 2, None, _gen(1))
    d_zero = PD.draw_deflections(shape, k, 2, torch.zeros(2, 6, 6), _gen(1))
    assert torch.equal(d_none.dst, d_zero.dst) and torch.equal(d_none.src, d_zero.src)
    counts = torch.bincount((d_none.dst[0] % 36), minlength=36)
    assert _chi2(counts) < 75.0   # 35 dof: P(chi2 > 75) ~ 1e-4


def test_skip_probability_equals_saliency() -> None:
    sal = torch.zeros(1, 4, 4)
    sal[0, :2] = 1.0          # top half never deflected
    sal[0, 2, :] = 0.5        # row 2 half as often as row 3
    d = PD.draw_deflections((1, 1, 4, 4), 60_000, 1, sal, _gen(2))
    rows = torch.bincount(d.dst[0] // 4, minlength=4)
    assert rows[0] == 0 and rows[1] == 0
    assert abs(float(rows[2]) / float(rows[3]) - 0.5) < 0.03


def test_source_uniform_over_window_inside_image() -> None:
    """Deflections pinned to the corner (saliency 1 elsewhere): sources uniform over the (r+1)^2 valid cells."""
    r, k = 2, 45_000
    sal = torch.ones(1, 8, 8)
    sal[0, 0, 0] = 0.0
    d = PD.draw_deflections((1, 1, 8, 8), k, r, sal, _gen(3))
    assert bool((d.dst == 0).all())
    sy, sx = d.src[0] // 8, d.src[0] % 8
    assert int(sy.max()) == r and int(sx.max()) == r
    counts = torch.bincount(sy * (r + 1) + sx, minlength=(r + 1) ** 2)
    assert counts.numel() == (r + 1) ** 2 and _chi2(counts) < 30.0   # 8 dof


# ---------------------------------------------------------------------------------------------
# Deflection: images


@pytest.mark.parametrize("mode", ["channel", "pixel"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_values_come_from_same_channel_within_window(mode: str, seed: int) -> None:
    shape, k, r = (4, 3, 40, 40), 30, 3
    x = _encoded(*shape)
    out = PD.deflect(x, k, r, generator=_gen(seed), mode=mode)
    _, hops = _replay(x, PD.draw_deflections(shape, k, r, generator=_gen(seed), mode=mode))
    changed = out != x
    assert int(changed.sum()) > 0
    img, ch, row, col = _decode(out, shape)
    n_idx, c_idx, y_idx, x_idx = torch.meshgrid(*[torch.arange(s) for s in shape], indexing="ij")
    assert torch.equal(img, n_idx)                      # never across images
    assert torch.equal(ch, c_idx)                       # never across channels
    h, w = shape[2:]
    hop = hops.view(shape[0], -1, h, w).expand(shape) if mode == "pixel" else hops.view(shape)
    dist = torch.maximum((row - y_idx).abs(), (col - x_idx).abs())
    assert bool((dist[changed] <= r * hop[changed]).all())
    assert int(hop[changed].max()) >= 1
    if mode == "pixel":   # a changed pixel took all its channels from one source pixel
        src_pix = row * w + col
        assert bool((src_pix == src_pix[:, :1]).all())


@pytest.mark.parametrize("mode", ["channel", "pixel"])
def test_sequential_in_place_semantics_exact(mode: str) -> None:
    """Many copies on a tiny image force chains (a copy reading a value an earlier copy wrote)."""
    shape = (3, 3, 4, 5)
    x = _encoded(*shape)
    draws = PD.draw_deflections(shape, 300, 1, generator=_gen(4), mode=mode)
    expected, hops = _replay(x, draws)
    assert int(hops.max()) >= 3   # chains are really exercised
    assert torch.equal(PD.apply_deflections(x, draws), expected)
    assert torch.equal(PD.deflect(x, 300, 1, generator=_gen(4), mode=mode), expected)


@pytest.mark.parametrize("mode,k", [("channel", 1), ("channel", 50), ("pixel", 1), ("pixel", 50)])
def test_changed_entries_bounded_by_deflections(mode: str, k: int) -> None:
    shape = (6, 3, 16, 16)
    x = _encoded(*shape)
    out = PD.deflect(x, k, 4, generator=_gen(5), mode=mode)
    changed = out != x
    if mode == "channel":
        per_image = changed.flatten(1).sum(1)
    else:
        per_image = changed.any(1).flatten(1).sum(1)          # changed pixels
        assert bool((changed.flatten(1).sum(1) <= 3 * k).all())
    assert bool((per_image <= k).all()) and int(per_image.sum()) > 0


def test_saliency_one_changes_nothing() -> None:
    x = torch.rand(3, 3, 12, 12, generator=_gen(6))
    assert torch.equal(PD.deflect(x, 100, 3, torch.ones(3, 12, 12), _gen(6)), x)
    sal = torch.zeros(3, 12, 12)
    sal[1] = 1.0
    out = PD.deflect(x, 100, 3, sal, _gen(6))
    assert torch.equal(out[1], x[1]) and not torch.equal(out[0], x[0]) and not torch.equal(out[2], x[2])


def test_seed_determinism() -> None:
    x = torch.rand(4, 3, 16, 16, generator=_gen(7))
    a = PD.deflect(x, 50, 5, generator=_gen(11))
    assert torch.equal(a, PD.deflect(x, 50, 5, generator=_gen(11)))
    assert not torch.equal(a, PD.deflect(x, 50, 5, generator=_gen(12)))


def test_input_not_modified_and_layout_independent() -> None:
    x = torch.rand(2, 3, 16, 16, generator=_gen(8))
    keep = x.clone()
    out = PD.deflect(x, 80, 4, generator=_gen(9))
    assert torch.equal(x, keep) and not torch.equal(out, x) and out.dtype == x.dtype
    x_cl = x.contiguous(memory_format=torch.channels_last)
    assert torch.equal(PD.deflect(x_cl, 80, 4, generator=_gen(9)), out)
    assert torch.equal(PD.deflect(x, 0, 4, generator=_gen(9)), x)


def test_reference_loop_changes_like_deflect() -> None:
    """The public-code-style loop and the batched version change the same share of entries on average."""
    x = torch.rand(300, 3, 16, 16, generator=_gen(10), dtype=torch.float64)
    rng = random.Random(0)
    ref = np.stack([PD.reference_deflect_loop(a, 40, 3, rng) for a in x.permute(0, 2, 3, 1).numpy()])
    ours = PD.deflect(x, 40, 3, generator=_gen(10))
    change_ref = float(np.abs(ref - x.permute(0, 2, 3, 1).numpy()).mean())
    change_ours = float((ours - x).abs().mean())
    assert abs(change_ref / change_ours - 1) < 0.05


# ---------------------------------------------------------------------------------------------
# Deflection: Table 4.11 ablations (Gaussian sampler; min / max / mean replacement)

VARIANTS = [("uniform", "random"), ("gaussian", "random"), ("uniform", "min"), ("uniform", "max"),
            ("uniform", "mean"), ("gaussian", "mean")]


def test_default_path_pinned() -> None:
    """The defaults draw and apply exactly what they did before the ablations were added."""
    d = PD.draw_deflections((2, 3, 4, 5), 6, 1, generator=_gen(0))
    assert d.dst.tolist() == [[19, 34, 49, 18, 32, 55], [3, 27, 51, 5, 29, 43]]
    assert d.src.tolist() == [[13, 34, 49, 14, 33, 50], [9, 32, 45, 10, 23, 49]]
    sal = torch.zeros(2, 4, 5)
    sal[0, :2], sal[1] = 0.7, 1.0
    d = PD.draw_deflections((2, 3, 4, 5), 6, 2, sal, _gen(1), mode="pixel")
    assert d.dst.tolist() == [[2, 9, 10, 7, 14, 4], [19] * 6]
    assert d.src.tolist() == [[14, 7, 0, 4, 14, 3], [19] * 6]
    x = torch.arange(120, dtype=torch.float64).view(2, 3, 4, 5)
    out = PD.deflect(x, 8, 1, generator=_gen(2))
    changed = (out != x).nonzero().tolist()
    assert changed == [[0, 0, 0, 2], [0, 0, 2, 0], [0, 1, 0, 1], [0, 1, 1, 0], [0, 2, 2, 0], [0, 2, 2, 4],
                       [1, 0, 2, 3], [1, 0, 2, 4], [1, 1, 1, 2], [1, 1, 1, 4], [1, 1, 2, 2], [1, 2, 0, 1],
                       [1, 2, 3, 1]]
    assert out[out != x].tolist() == [7.0, 5.0, 20.0, 30.0, 56.0, 59.0, 68.0, 68.0, 82.0, 83.0, 87.0, 107.0, 111.0]


@pytest.mark.parametrize("mode", ["channel", "pixel"])
def test_explicit_defaults_equal_sequential_replay(mode: str) -> None:
    shape = (3, 3, 8, 9)
    x = _encoded(*shape)
    expected, _ = _replay(x, PD.draw_deflections(shape, 60, 2, generator=_gen(30), mode=mode))
    for kw in ({}, {"sampler": "uniform", "replacement": "random"},
               {"sampler": PD.Sampler.UNIFORM, "replacement": PD.Replacement.RANDOM}):
        assert torch.equal(PD.deflect(x, 60, 2, generator=_gen(30), mode=mode, **kw), expected)


def _offsets(d: PD.Deflections, w: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(source row, source col, row offset, col offset) of every copy (single-plane indexing)."""
    plane = d.shape[1] * d.shape[2]
    dst, src = d.dst % plane, d.src % plane
    return src // w, src % w, src // w - dst // w, src % w - dst % w


@pytest.mark.parametrize("mode", ["channel", "pixel"])
def test_gaussian_same_locations_in_window_and_image(mode: str) -> None:
    n, c, h, w, r = 3, 3, 9, 13, 3
    g = PD.draw_deflections((n, c, h, w), 4000, r, generator=_gen(31), mode=mode, sampler="gaussian")
    u = PD.draw_deflections((n, c, h, w), 4000, r, generator=_gen(31), mode=mode)
    assert torch.equal(g.dst, u.dst)                                     # same random draws, same locations
    if mode == "channel":
        assert torch.equal(g.dst // (h * w), g.src // (h * w))           # same channel
    sy, sx, oy, ox = _offsets(g, w)
    assert int(oy.abs().max()) == r and int(ox.abs().max()) == r          # window reached, not exceeded
    assert int(sy.min()) == 0 and int(sy.max()) == h - 1 and int(sx.min()) == 0 and int(sx.max()) == w - 1


def test_gaussian_concentrates_on_centre() -> None:
    shape, k, r = (2, 1, 32, 32), 10_000, 5
    mean_abs = {}
    for sampler in ("uniform", "gaussian"):
        _, _, oy, ox = _offsets(PD.draw_deflections(shape, k, r, generator=_gen(32), sampler=sampler), 32)
        mean_abs[sampler] = float(torch.cat([oy, ox]).abs().double().mean())
    # untruncated: uniform on [-5, 5] gives 30/11 = 2.73, the s = 2.5 Gaussian ~1.8; SE of each ~0.01
    assert mean_abs["gaussian"] < mean_abs["uniform"] - 0.5
    assert 1.6 < mean_abs["gaussian"] < 2.0 and 2.5 < mean_abs["uniform"] < 2.9


def test_gaussian_pmf_truncated_by_image() -> None:
    """Location pinned at (1, 2) with r = 3: row offsets -1..3, col offsets -2..3, pmf ~ exp(-d^2 / 2 s^2)."""
    r, k, h, w = 3, 60_000, 12, 12
    sal = torch.ones(1, h, w)
    sal[0, 1, 2] = 0.0
    d = PD.draw_deflections((1, 1, h, w), k, r, sal, _gen(33), sampler="gaussian")
    assert bool((d.dst == 1 * w + 2).all())
    _, _, oy, ox = _offsets(d, w)
    s = PD.GAUSSIAN_STD_PER_WINDOW * r
    py = torch.exp(-torch.arange(-1, 4, dtype=torch.float64) ** 2 / (2 * s * s))
    px = torch.exp(-torch.arange(-2, 4, dtype=torch.float64) ** 2 / (2 * s * s))
    expected = torch.outer(py / py.sum(), px / px.sum()).reshape(-1) * k
    counts = torch.bincount((oy[0] + 1) * 6 + (ox[0] + 2), minlength=30).double()
    assert counts.numel() == 30
    assert float(((counts - expected) ** 2 / expected).sum()) < 70.0   # 29 dof: P(chi2 > 70) ~ 3e-5
    assert float((counts.view(5, 6).sum(1) / k - py / py.sum()).abs().max()) < 0.01


def test_gaussian_window_zero_changes_nothing() -> None:
    x = torch.rand(2, 3, 10, 10, generator=_gen(34))
    d = PD.draw_deflections((2, 3, 10, 10), 50, 0, generator=_gen(34), sampler="gaussian")
    assert torch.equal(d.src, d.dst)
    for mode in ("channel", "pixel"):
        assert torch.equal(PD.deflect(x, 50, 0, generator=_gen(34), mode=mode, sampler="gaussian"), x)


@pytest.mark.parametrize("stat", ["min", "max", "mean"])
@pytest.mark.parametrize("r", [0, 1, 3, 8])
def test_window_statistic_brute_force(stat: str, r: int) -> None:
    """Windows clipped by the border, r = 8 larger than the 6 x 7 image (the whole image)."""
    x = torch.rand(2, 3, 6, 7, generator=_gen(35), dtype=torch.float64)
    ours = PD.window_statistic(x, r, stat)
    for i in range(6):
        for j in range(7):
            win = x[:, :, max(0, i - r):i + r + 1, max(0, j - r):j + r + 1].flatten(2)
            ref = {"min": win.amin(2), "max": win.amax(2), "mean": win.mean(2)}[stat]
            torch.testing.assert_close(ours[:, :, i, j], ref, atol=1e-14, rtol=0)


@pytest.mark.parametrize("mode", ["channel", "pixel"])
def test_min_never_increases_max_never_decreases(mode: str) -> None:
    x = torch.rand(4, 3, 16, 16, generator=_gen(36))
    lo = PD.deflect(x, 60, 2, generator=_gen(37), mode=mode, replacement="min")
    hi = PD.deflect(x, 60, 2, generator=_gen(37), mode=mode, replacement=PD.Replacement.MAX)
    assert bool((lo <= x).all()) and int((lo < x).sum()) > 30
    assert bool((hi >= x).all()) and int((hi > x).sum()) > 30


@pytest.mark.parametrize("mode", ["channel", "pixel"])
def test_mean_at_clipped_corner_by_hand(mode: str) -> None:
    """4 x 4 image, deflection pinned to (0, 0): window r=1 is rows/cols 0..1, r=2 rows/cols 0..2."""
    x = (torch.arange(16, dtype=torch.float64).view(1, 1, 4, 4) + torch.tensor([0.0, 100.0]).view(1, 2, 1, 1))
    sal = torch.ones(1, 4, 4)
    sal[0, 0, 0] = 0.0
    k = 2 if mode == "channel" else 1   # channel mode: one copy per channel (channels in turn)
    for r, corner in [(1, (0 + 1 + 4 + 5) / 4), (2, (0 + 1 + 2 + 4 + 5 + 6 + 8 + 9 + 10) / 9)]:
        out = PD.deflect(x, k, r, sal, _gen(38), mode=mode, replacement="mean")
        expected = x.clone()
        expected[0, :, 0, 0] = torch.tensor([corner, corner + 100.0])
        assert torch.equal(out, expected)


@pytest.mark.parametrize("mode", ["channel", "pixel"])
@pytest.mark.parametrize("sampler,replacement", VARIANTS)
def test_variants_change_at_most_k_drawn_locations(mode: str, sampler: str, replacement: str) -> None:
    shape, k, r = (5, 3, 16, 16), 40, 3
    x = torch.rand(*shape, generator=_gen(39), dtype=torch.float64)
    out = PD.deflect(x, k, r, generator=_gen(40), mode=mode, sampler=sampler, replacement=replacement)
    assert out.shape == x.shape and out.dtype == x.dtype
    draws = PD.draw_deflections(shape, k, r, generator=_gen(40), mode=mode)   # uniform: same locations
    changed = out != x
    if mode == "channel":
        per_image = changed.flatten(1)
    else:
        per_image = changed.any(1).flatten(1)
    drawn = torch.zeros_like(per_image)
    drawn.scatter_(1, draws.dst, True)
    assert bool((per_image.sum(1) <= k).all()) and int(per_image.sum()) > 0
    assert not bool((per_image & ~drawn).any())           # only drawn locations change


@pytest.mark.parametrize("sampler,replacement", VARIANTS)
def test_variants_seed_determinism_and_saliency(sampler: str, replacement: str) -> None:
    x = torch.rand(3, 3, 16, 16, generator=_gen(41))
    kw = {"sampler": sampler, "replacement": replacement}
    a = PD.deflect(x, 50, 4, generator=_gen(42), **kw)
    assert torch.equal(a, PD.deflect(x, 50, 4, generator=_gen(42), **kw))
    assert not torch.equal(a, PD.deflect(x, 50, 4, generator=_gen(43), **kw))
    sal = torch.zeros(3, 16, 16)
    sal[1] = 1.0                                          # image 1 is never deflected
    out = PD.deflect(x, 50, 4, sal, _gen(42), **kw)
    assert torch.equal(out[1], x[1]) and not torch.equal(out[0], x[0])


def test_variants_differ_from_each_other_and_defend_passes_through() -> None:
    x = torch.rand(2, 3, 32, 32, generator=_gen(44))
    outs = {v: PD.deflect(x, 100, 5, generator=_gen(45), sampler=v[0], replacement=v[1]) for v in VARIANTS}
    for a in VARIANTS:
        for b in VARIANTS:   # equal iff same replacement and same sampler (the source is unused by a statistic)
            same = a[1] == b[1] and (a[0] == b[0] or a[1] != "random")
            assert same == torch.equal(outs[a], outs[b]), (a, b)
    got = PD.defend(x, 100, 5, generator=_gen(45), sampler="gaussian", replacement="mean")
    torch.testing.assert_close(got, PD.wavelet_denoise(outs[("gaussian", "mean")], 0.04))
    with pytest.raises(ValueError):
        PD.deflect(x, 10, 2, generator=_gen(45), sampler="cauchy")
    with pytest.raises(ValueError):
        PD.deflect(x, 10, 2, generator=_gen(45), replacement="median")
    with pytest.raises(ValueError):
        PD.window_statistic(x, 2, "random")


# ---------------------------------------------------------------------------------------------
# R-CAM


class TinyGap(nn.Module):
    """conv3x3(3 -> 4) + ReLU, global average pool, Linear(4 -> 5): the protocol `robust_cam` expects."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.features = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, stride=2), nn.ReLU())
        self.classifier = nn.Linear(4, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).mean((2, 3)))


def _hand_rcam(model: TinyGap, x: torch.Tensor, top_k: int) -> torch.Tensor:
    """Eq 4.5 spelled out: loops over images, ranks and channels."""
    with torch.no_grad():
        f = model.features(x)
        probs = torch.softmax(model(x), 1)
        out = []
        for i in range(x.shape[0]):
            order = sorted(range(probs.shape[1]), key=lambda c: -float(probs[i, c]))[:top_k]
            m = torch.zeros(f.shape[2:])
            for rank, cls in enumerate(order, start=1):
                cam = sum(model.classifier.weight[cls, k] * f[i, k] for k in range(f.shape[1]))
                m = m + cam / 2 ** rank
            up = nn.functional.interpolate(m[None, None], size=x.shape[2:], mode="bilinear", align_corners=False)[0, 0]
            up = up.clamp(min=0)
            out.append(up / up.max())
        return torch.stack(out)


@pytest.mark.parametrize("top_k", [1, 2])
def test_robust_cam_equals_hand_computation(top_k: int) -> None:
    model = TinyGap().eval()
    x = torch.rand(3, 3, 12, 12, generator=_gen(13))
    cam = PD.robust_cam(model, x, top_k)
    assert cam.shape == (3, 12, 12)
    assert float(cam.min()) >= 0.0 and torch.allclose(cam.amax((1, 2)), torch.ones(3))
    torch.testing.assert_close(cam, _hand_rcam(model, x, top_k), atol=1e-6, rtol=0)


def test_robust_cam_ranks_descending() -> None:
    """Top-1 R-CAM is the predicted class's CAM, not the least likely class's (the port's bug)."""
    model = TinyGap().eval()
    x = torch.rand(4, 3, 12, 12, generator=_gen(14))
    with torch.no_grad():
        f, pred = model.features(x), model(x).argmax(1)
        worst = model(x).argmin(1)
    cams = PD.class_activation_maps(f, model.classifier.weight, torch.stack([pred, worst], 1))
    ours = PD.robust_cam(model, x, 1)
    for i in range(4):
        up = nn.functional.interpolate(cams[i:i + 1, :1], size=(12, 12), mode="bilinear", align_corners=False)[0, 0].clamp(min=0)
        torch.testing.assert_close(ours[i], up / up.max())


def test_robust_cam_resnet_adapter_and_errors() -> None:
    torch.manual_seed(0)
    net = models.ResNetCifar(8, num_classes=10).eval()
    x = torch.rand(2, 3, 32, 32, generator=_gen(15))
    parts = PD.cam_parts(net)
    with torch.no_grad():
        torch.testing.assert_close(parts.linear(parts.features(x).mean((2, 3))), net(x))
    cam = PD.robust_cam(net, x, 3)
    assert cam.shape == (2, 32, 32) and float(cam.min()) >= 0 and float(cam.max()) <= 1
    with pytest.raises(TypeError):
        PD.cam_parts(nn.Sequential(nn.Conv2d(3, 4, 3)))


def test_robust_cam_all_negative_is_zero() -> None:
    feats = lambda x: torch.ones(x.shape[0], 2, 3, 3)  # noqa: E731
    linear = nn.Linear(2, 3)
    with torch.no_grad():
        linear.weight.fill_(-1.0)
    cam = PD.robust_cam(PD.CamParts(feats, linear), torch.rand(2, 3, 6, 6), 2)
    assert torch.equal(cam, torch.zeros(2, 6, 6))


# ---------------------------------------------------------------------------------------------
# Wavelet denoising


def _images(kind: str, n: int, h: int, w: int, seed: int) -> torch.Tensor:
    g = _gen(seed)
    if kind == "uniform":
        return torch.rand(n, 3, h, w, generator=g)
    # sparse bright spots on a dark noisy background: here the 0.14 per-channel clip matters
    spots = (torch.rand(n, 3, h, w, generator=g) > 0.97).float() * 0.9
    return spots + 0.05 * torch.rand(n, 3, h, w, generator=g)


def _reference(x: torch.Tensor, **kw) -> torch.Tensor:
    arr = x.double().permute(0, 2, 3, 1).numpy()
    return torch.from_numpy(np.stack([PD.reference_wavelet_denoise(a, **kw) for a in arr])).permute(0, 3, 1, 2)


@pytest.mark.parametrize("kind,h,w", [("uniform", 32, 32), ("spots", 32, 32), ("uniform", 33, 27),
                                      ("spots", 17, 40)])
@pytest.mark.parametrize("clip_channels", [True, False])
def test_wavelet_denoise_matches_skimage_legacy(kind: str, h: int, w: int, clip_channels: bool) -> None:
    x = _images(kind, 4, h, w, seed=16)
    ref = _reference(x, clip_channels=clip_channels)
    ours = PD.wavelet_denoise(x, clip_channels=clip_channels)          # float32 in, float32 compute
    assert ours.shape == x.shape and ours.dtype == x.dtype
    assert float((ours.double() - ref).abs().max()) < 1e-5
    assert float(ours.min()) >= 0.0 and float(ours.max()) <= 1.0
    ours64 = PD.wavelet_denoise(x.double(), clip_channels=clip_channels)  # float64: the reference exactly
    assert ours64.dtype == torch.float64 and float((ours64 - ref).abs().max()) < 1e-12


def test_per_channel_clip_is_what_distinguishes_legacy() -> None:
    x = _images("spots", 4, 32, 32, seed=16)
    assert float((PD.wavelet_denoise(x) - PD.wavelet_denoise(x, clip_channels=False)).abs().max()) > 1e-4
    assert float((PD.wavelet_denoise(x) - _reference(x, clip_channels=False).float()).abs().max()) > 1e-4


@pytest.mark.parametrize("method", ["visu", "hard"])
@pytest.mark.parametrize("wavelet,h,w", [("db1", 32, 32), ("db2", 31, 36)])
def test_wavelet_variants_match_skimage(method: str, wavelet: str, h: int, w: int) -> None:
    x = _images("uniform", 3, h, w, seed=17)
    ours = PD.wavelet_denoise(x, sigma=0.08, method=method, wavelet=wavelet)
    ref = _reference(x, sigma=0.08, method=method, wavelet=wavelet)
    assert float((ours.double() - ref).abs().max()) < 1e-5


def _pywt_denoise_plane(plane: np.ndarray, thresholds, mode: str, wavelet: str = "db1") -> np.ndarray:
    levels = max(pywt.dwtn_max_level(plane.shape, wavelet) - 3, 1)
    coeffs = pywt.wavedec2(plane, wavelet, mode="symmetric", level=levels)
    out = [coeffs[0]] + [tuple(pywt.threshold(d, thresholds(d), mode=mode) for d in level) for level in coeffs[1:]]
    return pywt.waverec2(out, wavelet, mode="symmetric")[:plane.shape[0], :plane.shape[1]]


@pytest.mark.parametrize("method", ["bayes", "visu", "hard"])
def test_wavelet_threshold_definitions(method: str) -> None:
    """The 2-D denoiser against the formulas written out with PyWavelets (odd size, 3 levels)."""
    planes = np.random.default_rng(0).random((3, 67, 70))
    sigma = 0.1
    bayes = lambda d: sigma ** 2 / math.sqrt(max(float(np.mean(d * d)) - sigma ** 2, np.finfo(float).eps))  # noqa: E731
    visu = lambda d: sigma * math.sqrt(2 * math.log(67 * 70))  # noqa: E731
    thr, mode = {"bayes": (bayes, "soft"), "visu": (visu, "soft"), "hard": (bayes, "hard")}[method]
    expected = np.stack([_pywt_denoise_plane(p, thr, mode) for p in planes])
    ours = PD.wavelet_threshold(torch.from_numpy(planes), sigma, method).numpy()
    assert PD.default_levels(67, 70) == 3
    np.testing.assert_allclose(ours, expected, atol=1e-12)


def test_hard_keeps_or_zeroes_coefficients() -> None:
    plane = torch.rand(1, 32, 32, generator=_gen(18), dtype=torch.float64)
    den = PD.wavelet_threshold(plane, 0.2, "hard")
    before, after = PD.wavedec(plane, "db1", 2), PD.wavedec(den, "db1", 2)
    torch.testing.assert_close(after.approx, before.approx)
    for b, a in zip(before.details, after.details):
        assert bool((((a - b).abs() < 1e-12) | (a.abs() < 1e-12)).all())
        assert int((a.abs() < 1e-12).sum()) > 0


def _sure_brute(x: np.ndarray) -> float:
    """argmin over t in {0} U {|x_i|} of SURE(t) = n - 2 #{|x|<=t} + sum min(x^2, t^2), written out."""
    n = x.size
    cands = np.concatenate([[0.0], np.abs(x).ravel()])
    risks = [n - 2 * np.sum(np.abs(x) <= t) + np.sum(np.minimum(x * x, t * t)) for t in cands]
    return float(cands[int(np.argmin(risks))])


def test_sure_threshold_minimises_stein_risk() -> None:
    rng = np.random.default_rng(1)
    n = 16 * 16
    signal = np.where(rng.random((2, 3, 16, 16)) < 0.3, rng.normal(0, 6, (2, 3, 16, 16)), 0.0)
    d = signal + rng.normal(0, 1, signal.shape)           # sigma = 1, dense enough for the SURE branch
    t = PD.sure_threshold(torch.from_numpy(d), 1.0).numpy()
    universal = math.sqrt(2 * math.log(n))
    for b in range(2):
        for s in range(3):
            assert t[b, s, 0, 0] == pytest.approx(min(_sure_brute(d[b, s]), universal), abs=1e-9)
    noise = rng.normal(0, 0.5, (1, 1, 16, 16))               # sparse (pure noise): universal threshold
    assert float(PD.sure_threshold(torch.from_numpy(noise), 0.5)) == pytest.approx(0.5 * universal)
    out = PD.wavelet_denoise(_images("uniform", 2, 32, 32, 19), method="sure")
    assert out.shape == (2, 3, 32, 32) and float(out.min()) >= 0 and float(out.max()) <= 1


def test_ycbcr_and_levels_follow_skimage() -> None:
    from skimage.color import rgb2ycbcr, ycbcr2rgb

    x = torch.rand(2, 3, 5, 7, generator=_gen(20), dtype=torch.float64)
    ycc = PD.rgb_to_ycbcr(x)
    np.testing.assert_allclose(ycc.permute(0, 2, 3, 1).numpy(), rgb2ycbcr(x.permute(0, 2, 3, 1).numpy()), atol=1e-12)
    np.testing.assert_allclose(PD.ycbcr_to_rgb(ycc).permute(0, 2, 3, 1).numpy(),
                               ycbcr2rgb(ycc.permute(0, 2, 3, 1).numpy()), atol=1e-12)
    assert (PD.default_levels(32, 32), PD.default_levels(299, 299), PD.default_levels(8, 8)) == (2, 5, 1)
    for wavelet in ("db1", "haar", "db2"):
        for h, w in [(1, 1), (15, 16), (16, 17), (31, 64), (65, 64), (300, 299)]:
            assert PD.default_levels(h, w, wavelet) == max(pywt.dwtn_max_level((h, w), wavelet) - 3, 1)


# ---------------------------------------------------------------------------------------------
# Other denoisers, pipeline


def _noisy_smooth(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = _gen(seed)
    yy, xx = torch.meshgrid(torch.linspace(0, 1, 24), torch.linspace(0, 1, 24), indexing="ij")
    clean = torch.stack([0.2 + 0.6 * xx, 0.3 + 0.4 * yy, 0.5 + 0.3 * (xx * yy)])[None].repeat(2, 1, 1, 1)
    return clean, (clean + 0.08 * torch.randn(clean.shape, generator=g)).clamp(0, 1)


@pytest.mark.parametrize("name", sorted(PD.DENOISERS))
def test_denoisers_common_signature_and_denoise(name: str) -> None:
    clean, noisy = _noisy_smooth(21)
    out = PD.DENOISERS[name](noisy)
    assert out.shape == noisy.shape and out.dtype == noisy.dtype
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    mse = lambda a: float(((a - clean) ** 2).mean())  # noqa: E731
    assert mse(out) < mse(noisy), name


def test_denoiser_identities() -> None:
    x = torch.rand(2, 3, 19, 21, generator=_gen(22), dtype=torch.float64)
    torch.testing.assert_close(PD.dct_denoise(x, threshold=0.0), x)
    torch.testing.assert_close(PD.anisotropic_diffusion(x, n_iter=0), x)
    _, smooth = _noisy_smooth(23)
    smooth = PD.anisotropic_diffusion(smooth)
    assert float((PD.jpeg(smooth, quality=100) - smooth).abs().mean()) < 0.01
    assert float((PD.jpeg(smooth, quality=10) - smooth).abs().mean()) > 0.01
    const = torch.full((1, 3, 16, 16), 0.4)
    for fn in (PD.dct_denoise, PD.anisotropic_diffusion, PD.wavelet_denoise):
        torch.testing.assert_close(fn(const), const)


def test_defend_is_deflect_then_denoise() -> None:
    x = torch.rand(2, 3, 32, 32, generator=_gen(24))
    expected = PD.wavelet_denoise(PD.deflect(x, 20, 3, generator=_gen(25)), 0.04)
    torch.testing.assert_close(PD.defend(x, 20, 3, generator=_gen(25)), expected)


# ---------------------------------------------------------------------------------------------
# Rendering helpers: Single accuracy as a proportion (Wilson, inside [0, 100] %), table mean rows


def test_single_accuracy_wilson_stays_inside_0_100_and_decides_by_its_interval() -> None:
    import pandas as pd

    from lib.claims import Verdict
    from lib.papers.pixel_deflection import render
    from lib.papers.pixel_deflection.results import Outcome

    def outcome(correct: torch.Tensor) -> Outcome:
        n = correct.shape[1]
        return Outcome(correct, correct.float().mean(0) > 0.5, torch.zeros(n, dtype=torch.bool), torch.zeros(n))

    none = outcome(torch.zeros(10, 300, dtype=torch.bool))
    t = render._single_above(none, 50)
    assert (t.k, t.n, t.mean, t.lo) == (0, 300, 0.0, 0.0) and 0 < t.hi < 2 and t.verdict is Verdict.FAILS
    half = torch.zeros(10, 300, dtype=torch.bool)
    half[:3] = True                                            # every image right in 3 of 10 runs: Single 30%
    half[:, :150] = True                                       # ... and half the images always right
    t = render._single_above(outcome(half), 50)
    assert render._single_count(outcome(half)) == (round(150 + 0.3 * 150), 300) and t.verdict is Verdict.HOLDS
    assert 0 <= t.lo <= t.mean <= t.hi <= 100
    paper = pd.DataFrame({"PD": [90.0, 10.0, 30.0]}, index=pd.Index(["Clean", "FGSM", "IGSM"], name="attack"))
    outs = {("clean", "PD"): outcome(half), ("fgsm", "PD"): none, ("igsm", "PD"): outcome(half)}
    means = render._means_table(outs, ["PD"], ["fgsm", "igsm"], paper, 10)
    assert means.loc["PD"].tolist() == [20.0, round((0 + 100 * float(outcome(half).ens.float().mean())) / 2, 1), 32.5]
