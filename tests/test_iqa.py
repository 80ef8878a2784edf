"""Tests of lib.iqa: Table 2.1's metrics on BT.601 luma as VQMT defines them, each against a small
independent computation written here from the definition (explicit windows and loops, other code paths)."""
from __future__ import annotations

import contextlib
import io
import math

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view
from scipy.fft import dctn

from lib import iqa


def _pair(h: int, w: int, seed: int = 0, noise: float = 12.0) -> tuple[np.ndarray, np.ndarray]:
    """A textured luma image (float, 16..235) and a noisy, slightly blurred copy."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    ref = 120 + 50 * np.sin(xx / 5.0) * np.cos(yy / 7.0) + rng.normal(0, 10, (h, w))
    dist = 0.8 * ref + 0.2 * np.roll(ref, 1, axis=1) + rng.normal(0, noise, (h, w))
    return np.round(ref.clip(16, 235)), np.round(dist.clip(16, 235))


def _gauss2d(n: int, sigma: float) -> np.ndarray:
    x = np.arange(n) - (n - 1) / 2
    g = np.exp(-(x[:, None] ** 2 + x[None, :] ** 2) / (2 * sigma ** 2))
    return g / g.sum()


def _valid(img: np.ndarray, win: np.ndarray) -> np.ndarray:
    """'valid' windowed sum by an explicit sliding window (MATLAB filter2(win, img, 'valid'))."""
    return np.einsum("ijkl,kl->ij", sliding_window_view(img, win.shape), win)


def _ssim_cs_ref(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    win = _gauss2d(11, 1.5)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mu1, mu2 = _valid(x, win), _valid(y, win)
    s11 = _valid(x * x, win) - mu1 ** 2
    s22 = _valid(y * y, win) - mu2 ** 2
    s12 = _valid(x * y, win) - mu1 * mu2
    ssim_map = (2 * mu1 * mu2 + c1) * (2 * s12 + c2) / ((mu1 ** 2 + mu2 ** 2 + c1) * (s11 + s22 + c2))
    return float(ssim_map.mean()), float(((2 * s12 + c2) / (s11 + s22 + c2)).mean())


# ----------------------------------------------------------------------------------- luma, PSNR


def test_luma_is_bt601_limited_range_rounded() -> None:
    rgb = np.array([[[0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 255, 0], [0, 0, 255], [128, 128, 128]]],
                   dtype=np.uint8)
    # 16 + 219·(0.299 R + 0.587 G + 0.114 B)/255, rounded: black 16, white 235, red 81.48, green 144.55, blue 40.97
    assert iqa.luma(rgb).tolist() == [[16, 235, 81, 145, 41, 126]]
    with contextlib.redirect_stdout(io.StringIO()):              # psnr_hvsm prints a banner on import
        from psnr_hvsm import bt601ycbcr
    rand = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    np.testing.assert_array_equal(iqa.luma(rand), bt601ycbcr(rand)[0] * 255)
    with pytest.raises(TypeError, match="uint8"):
        iqa.luma(rand.astype(np.float32))


def test_psnr_known_values_in_db_and_salient_mask() -> None:
    ref = np.full((8, 8), 100.0)
    assert iqa.psnr(ref, ref + 1) == pytest.approx(10 * math.log10(255 ** 2), abs=1e-12)   # 48.13 dB
    dist = ref.copy()
    mask = np.zeros((8, 8), bool)
    mask[:4] = True
    dist[:4] += 2.0                                                   # error only inside the mask
    assert iqa.psnr(ref, dist, mask) == pytest.approx(10 * math.log10(255 ** 2 / 4))
    assert iqa.psnr(ref, dist, ~mask) == math.inf
    assert iqa.psnr(ref, dist) == pytest.approx(10 * math.log10(255 ** 2 / 2))
    with pytest.raises(ValueError, match="no pixels"):
        iqa.psnr(ref, dist, np.zeros((8, 8), bool))
    with pytest.raises(ValueError, match="bool"):
        iqa.psnr(ref, dist, mask.astype(int))
    with pytest.raises(ValueError, match="differ"):
        iqa.psnr(ref, dist[:4])


def test_salient_mask_rules() -> None:
    s = np.linspace(0, 1, 16).reshape(4, 4)
    assert iqa.salient_mask(s).sum() == 8                              # ≥ median: half the pixels
    assert iqa.salient_mask(s, "threshold", 0.8).sum() == int((s > 0.8).sum()) == 3
    with pytest.raises(ValueError, match="rule"):
        iqa.salient_mask(s, "top")


# ----------------------------------------------------------------------------------- SSIM, MS-SSIM


def test_ssim_equals_an_explicit_valid_window_computation() -> None:
    x, y = _pair(16, 16)
    expected = _ssim_cs_ref(x, y)[0]
    assert 0.2 < expected < 0.99
    assert iqa.ssim(x, y) == pytest.approx(expected, abs=1e-10)                 # scikit-image
    assert iqa._ssim_cs(x, y)[0] == pytest.approx(expected, abs=1e-10)          # our separable port (MS-SSIM)
    assert iqa._ssim_cs(x, y)[1] == pytest.approx(_ssim_cs_ref(x, y)[1], abs=1e-10)
    assert iqa.ssim(x, x) == pytest.approx(1.0)


def test_ms_ssim_equals_vqmt_formula_built_from_explicit_steps() -> None:
    x, y = _pair(176, 192, noise=8.0)
    mssim, mcs = [], []
    a, b = x, y
    for level in range(5):
        s, c = _ssim_cs_ref(a, b)
        mssim.append(s)
        mcs.append(c)
        if level == 4:
            break
        a = (a[0::2, 0::2] + a[1::2, 0::2] + a[0::2, 1::2] + a[1::2, 1::2]) / 4
        b = (b[0::2, 0::2] + b[1::2, 0::2] + b[0::2, 1::2] + b[1::2, 1::2]) / 4
    w = iqa.MS_SSIM_WEIGHTS
    expected = mssim[4] * np.prod([mcs[i] ** w[i] for i in range(4)])         # last scale not raised to w5
    assert iqa.ms_ssim(x, y) == pytest.approx(expected, abs=1e-10)
    assert abs(expected - expected / mssim[4] * mssim[4] ** w[4]) > 1e-5      # 1e5 × the tolerance above
    assert iqa.ms_ssim(x, x) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="176"):
        iqa.ms_ssim(x[:160, :160], y[:160, :160])
    with pytest.raises(ValueError, match="multiples of 16"):
        iqa.ms_ssim(x[:, :180], y[:, :180])


# ----------------------------------------------------------------------------------- VIFP


def _vifp_ref(ref: np.ndarray, dist: np.ndarray, sigma_nsq: float = 2.0) -> float:
    """vifp_mscale.m with explicit sliding windows, written from the definition."""
    eps, num, den = 1e-10, 0.0, 0.0
    for scale in range(1, 5):
        n = 2 ** (4 - scale + 1) + 1
        win = _gauss2d(n, n / 5)
        if scale > 1:
            ref, dist = _valid(ref, win)[::2, ::2], _valid(dist, win)[::2, ::2]
        mu1, mu2 = _valid(ref, win), _valid(dist, win)
        s11 = np.maximum(_valid(ref * ref, win) - mu1 ** 2, 0)
        s22 = np.maximum(_valid(dist * dist, win) - mu2 ** 2, 0)
        s12 = _valid(ref * dist, win) - mu1 * mu2
        g = s12 / (s11 + eps)
        sv = s22 - g * s12
        g[s11 < eps] = 0
        sv[s11 < eps] = s22[s11 < eps]
        s11[s11 < eps] = 0
        g[s22 < eps] = 0
        sv[s22 < eps] = 0
        sv[g < 0] = s22[g < 0]
        g[g < 0] = 0
        sv[sv <= eps] = eps
        num += np.log10(1 + g ** 2 * s11 / (sv + sigma_nsq)).sum()
        den += np.log10(1 + s11 / sigma_nsq).sum()
    return float(num / den)


def test_vifp_equals_the_definition_and_sewar() -> None:
    x, y = _pair(96, 112)
    expected = _vifp_ref(x, y)
    assert 0.05 < expected < 0.95
    assert iqa.vifp(x, y) == pytest.approx(expected, abs=1e-9)
    assert iqa.vifp(x, y, backend="sewar") == pytest.approx(expected, abs=1e-9)
    assert iqa.vifp(x, x) == pytest.approx(1.0, abs=1e-9)
    assert iqa.vifp(x, np.full_like(x, 128.0)) == pytest.approx(0.0, abs=1e-12)      # no information left
    with pytest.raises(ValueError, match="80"):
        iqa.vifp(x[:64, :64], y[:64, :64])


# ----------------------------------------------------------------------------------- PSNR-HVS(-M)


CSF = np.array([
    [1.608443, 2.339554, 2.573509, 1.608443, 1.072295, 0.643377, 0.504610, 0.421887],
    [2.144591, 2.144591, 1.838221, 1.354478, 0.989811, 0.443708, 0.428918, 0.467911],
    [1.838221, 1.979622, 1.608443, 1.072295, 0.643377, 0.451493, 0.372972, 0.459555],
    [1.838221, 1.513829, 1.169777, 0.887417, 0.504610, 0.295806, 0.321689, 0.415082],
    [1.429727, 1.169777, 0.695543, 0.459555, 0.378457, 0.236102, 0.249855, 0.334222],
    [1.072295, 0.735288, 0.467911, 0.402111, 0.317717, 0.247453, 0.227744, 0.279729],
    [0.525206, 0.402111, 0.329937, 0.295806, 0.249855, 0.212687, 0.214459, 0.254803],
    [0.357432, 0.279729, 0.270896, 0.262603, 0.229778, 0.257351, 0.249855, 0.259950]])
MASK = np.array([
    [0.390625, 0.826446, 1.000000, 0.390625, 0.173611, 0.062500, 0.038447, 0.026874],
    [0.694444, 0.694444, 0.510204, 0.277008, 0.147929, 0.029727, 0.027778, 0.033058],
    [0.510204, 0.591716, 0.390625, 0.173611, 0.062500, 0.030779, 0.021004, 0.031888],
    [0.510204, 0.346021, 0.206612, 0.118906, 0.038447, 0.013212, 0.015625, 0.026015],
    [0.308642, 0.206612, 0.073046, 0.031888, 0.021626, 0.008417, 0.009426, 0.016866],
    [0.173611, 0.081633, 0.033058, 0.024414, 0.015242, 0.009246, 0.007831, 0.011815],
    [0.041649, 0.024414, 0.016437, 0.013212, 0.009426, 0.006830, 0.006944, 0.009803],
    [0.019290, 0.011815, 0.011080, 0.010412, 0.007972, 0.010000, 0.009426, 0.010203]])


def _psnr_hvs_ref(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Ponomarenko's psnrhvsm.m, block by block (0-255 pixels, peak 255)."""
    def vari(z):
        return z.var(ddof=1) * z.size

    def maskeff(z, zdct):
        m = sum(zdct[k, v] ** 2 * MASK[k, v] for k in range(8) for v in range(8) if (k, v) != (0, 0))
        pop = vari(z)
        if pop != 0:
            pop = (vari(z[:4, :4]) + vari(z[:4, 4:]) + vari(z[4:, 4:]) + vari(z[4:, :4])) / pop
        return math.sqrt(m * pop) / 32

    s_hvsm = s_hvs = 0.0
    for i in range(0, x.shape[0], 8):
        for j in range(0, x.shape[1], 8):
            a, b = x[i:i + 8, j:j + 8], y[i:i + 8, j:j + 8]
            da, db = dctn(a, norm="ortho"), dctn(b, norm="ortho")
            m = max(maskeff(a, da), maskeff(b, db))
            for k in range(8):
                for v in range(8):
                    u = abs(da[k, v] - db[k, v])
                    s_hvs += (u * CSF[k, v]) ** 2
                    if (k, v) != (0, 0):
                        u = 0.0 if u < m / MASK[k, v] else u - m / MASK[k, v]
                    s_hvsm += (u * CSF[k, v]) ** 2
    n = x.size
    return 10 * math.log10(255 ** 2 / (s_hvs / n)), 10 * math.log10(255 ** 2 / (s_hvsm / n))


def test_psnr_hvs_and_hvsm_equal_the_block_by_block_definition() -> None:
    x, y = _pair(16, 24, noise=6.0)
    hvs, hvsm = iqa.psnr_hvs_hvsm(x, y)
    ref_hvs, ref_hvsm = _psnr_hvs_ref(x, y)
    assert hvs == pytest.approx(ref_hvs, abs=1e-6) and hvsm == pytest.approx(ref_hvsm, abs=1e-6)
    assert hvsm > hvs                                          # masking only removes error
    assert iqa.psnr_hvs(x, y) == hvs and iqa.psnr_hvsm(x, y) == hvsm
    flat = x.copy()
    flat[:8, :8] = 100.0                                       # a flat block: the variance ratio is 0
    assert iqa.psnr_hvs_hvsm(flat, y)[1] == pytest.approx(_psnr_hvs_ref(flat, y)[1], abs=1e-6)
    assert iqa.psnr_hvs_hvsm(x, x) == (math.inf, math.inf)
    with pytest.raises(ValueError, match="multiples of 8"):
        iqa.psnr_hvs_hvsm(x[:, :20], y[:, :20])


# ----------------------------------------------------------------------------------- all metrics


def test_vqmt_metrics_on_rgb_pairs() -> None:
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[0:200, 0:210]
    ref = np.stack([120 + 60 * np.sin(xx / 6), 100 + 50 * np.cos(yy / 9), 90 + 0.4 * xx], -1)
    ref = (ref + rng.normal(0, 6, ref.shape)).clip(0, 255).astype(np.uint8)
    dist = (ref.astype(float) + rng.normal(0, 5, ref.shape)).clip(0, 255).astype(np.uint8)
    sal = np.zeros((200, 210))
    sal[40:120, 50:150] = 1.0
    out = iqa.vqmt_metrics(ref, dist, iqa.salient_mask(sal, "threshold"))
    assert set(out) == set(iqa.METRIC_UNITS)
    y_ref, y_dist = iqa.luma(ref[:192, :208]), iqa.luma(dist[:192, :208])      # cropped to multiples of 16
    assert out["psnr"] == pytest.approx(iqa.psnr(y_ref, y_dist))
    assert out["salient_fraction"] == pytest.approx(80 * 100 / (192 * 208))
    assert out["psnr_s"] == pytest.approx(iqa.psnr(y_ref[40:120, 50:150], y_dist[40:120, 50:150]))
    assert 0 < out["ssim"] < out["ms_ssim"] < 1 and 0 < out["vifp"] < 1
    assert out["psnr_hvsm"] > out["psnr_hvs"]
    small = iqa.vqmt_metrics(ref[:96, :96], dist[:96, :96], strict=False)
    assert math.isnan(small["ms_ssim"]) and not math.isnan(small["vifp"]) and math.isnan(small["psnr_s"])
    with pytest.raises(ValueError, match="176"):
        iqa.vqmt_metrics(ref[:96, :96], dist[:96, :96])
    with pytest.raises(TypeError, match="uint8"):
        iqa.vqmt_metrics(ref.astype(float), dist)
    with pytest.raises(ValueError, match="differ"):
        iqa.vqmt_metrics(ref, dist[:100])
