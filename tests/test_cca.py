"""Tests of lib.cca: CCA, SVCCA and the filter-by-filter correlation matrix (thesis Figs 5.2, 5.11).

References are independent of the library's whitening: canonical correlations from the eigenvalues
of Sxx^-1 Sxy Syy^-1 Syx (NumPy, from np.cov), |Pearson| from np.corrcoef, and per-pair `svcca`.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from lib import cca as C

pytestmark = pytest.mark.usefixtures("single_thread")   # tests/conftest.py


def _randn(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _correlated_views(p: int, q: int, n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Two views sharing two latent signals plus independent noise (distinct correlations)."""
    latent = _randn(2, n, seed=seed)
    x = _randn(p, 2, seed=seed + 1) @ latent + 0.8 * _randn(p, n, seed=seed + 2)
    y = _randn(q, 2, seed=seed + 3) @ latent + 1.5 * _randn(q, n, seed=seed + 4)
    return x, y


def _reference_cca(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """sqrt of the eigenvalues of Sxx^-1 Sxy Syy^-1 Syx, descending, first min(p, q)."""
    p, q = x.shape[0], y.shape[0]
    cov = np.cov(np.vstack([x, y]))
    sxx, sxy, syy = cov[:p, :p], cov[:p, p:], cov[p:, p:]
    m = np.linalg.solve(sxx, sxy) @ np.linalg.solve(syy, sxy.T)
    ev = np.sort(np.linalg.eigvals(m).real)[::-1][:min(p, q)]
    return np.sqrt(np.clip(ev, 0.0, None))


def _acts(n: int, j: int, h: int, w: int, seed: int = 0) -> torch.Tensor:
    """Post-ReLU-like float32 activations with some shared structure between filters."""
    base = _randn(n, 3, h, w, seed=seed)
    mix = _randn(j, 3, seed=seed + 1)
    pre = torch.einsum("nchw,jc->njhw", base, mix) + _randn(n, j, h, w, seed=seed + 2)
    return torch.relu(pre).float()


# 1. agreement with a direct eigen-decomposition reference


@pytest.mark.parametrize("p,q", [(3, 5), (4, 4), (6, 2)])
def test_cca_matches_eigen_reference(p, q):
    x, y = _correlated_views(p, q, 300, seed=p * 10 + q)
    got = C.cca(x, y)
    assert got.dtype == torch.float64 and got.shape == (min(p, q),)
    np.testing.assert_allclose(got.numpy(), _reference_cca(x.numpy(), y.numpy()), atol=1e-6)
    assert bool((got[:-1] >= got[1:]).all())


def test_cca_accepts_float32_and_casts_to_float64():
    x, y = _correlated_views(3, 4, 400, seed=7)
    got = C.cca(x.float(), y.float())
    assert got.dtype == torch.float64
    ref = _reference_cca(x.float().double().numpy(), y.float().double().numpy())
    np.testing.assert_allclose(got.numpy(), ref, atol=1e-6)


# 2. invariance to invertible linear maps and offsets


def test_cca_invariant_to_invertible_maps_and_offsets():
    p, q, n = 4, 3, 500
    x, y = _correlated_views(p, q, n, seed=3)
    a = torch.linalg.qr(_randn(p, p, seed=11)).Q @ torch.diag(torch.tensor([1.0, 2.0, 0.5, 3.0]).double())
    b = torch.linalg.qr(_randn(q, q, seed=12)).Q @ torch.diag(torch.tensor([0.7, 1.0, 4.0]).double())
    base = C.cca(x, y)
    mapped = C.cca(a @ x + _randn(p, 1, seed=13) * 100, b @ y - 50.0)
    torch.testing.assert_close(mapped, base, atol=1e-8, rtol=0)
    assert float(base[0]) > 0.5  # non-trivial correlations, so the comparison means something


# 3. identical views / independent views


def test_identical_views_give_ones():
    x = _randn(5, 200, seed=4)
    torch.testing.assert_close(C.cca(x, x), torch.ones(5, dtype=torch.float64), atol=1e-9, rtol=0)
    torch.testing.assert_close(C.cca(x, 3 * x[[2, 0, 4, 1, 3]] + 1), torch.ones(5, dtype=torch.float64),
                               atol=1e-9, rtol=0)


def test_independent_views_give_small_values():
    got = C.cca(_randn(3, 5000, seed=5), _randn(3, 5000, seed=6))
    assert 0.0 <= float(got[0]) < 0.2


# 4. constant variables / rank-deficient views


def test_constant_variable_gives_finite_values_equal_to_dropping_it():
    x, y = _correlated_views(3, 3, 400, seed=8)
    x_const = torch.cat([x, torch.full((1, 400), 7.3, dtype=torch.float64)])
    got = C.cca(x_const, y)
    assert got.shape == (3,) and bool(torch.isfinite(got).all())
    assert bool(((got >= 0) & (got <= 1)).all())
    torch.testing.assert_close(got, C.cca(x, y), atol=1e-9, rtol=0)


def test_rank_deficient_view_gives_finite_values_in_range():
    x, y = _correlated_views(3, 4, 400, seed=9)
    x_dup = torch.cat([x, x[:1] * 2.0 - x[1:2], x[2:3]])  # 5 variables, rank 3
    got = C.cca(x_dup, y)
    assert got.shape == (4,) and bool(torch.isfinite(got).all())
    assert bool(((got >= 0) & (got <= 1)).all())
    torch.testing.assert_close(got[:3], C.cca(x, y), atol=1e-7, rtol=0)
    assert float(got[3]) < 1e-6


def test_nearly_collinear_variable_is_dropped_by_eps():
    x, y = _correlated_views(3, 3, 400, seed=18)
    near = x[:1] - 0.5 * x[2:3] + 1e-7 * _randn(1, 400, seed=19)  # variance share ~1e-14
    got = C.cca(torch.cat([x, near]), y)
    torch.testing.assert_close(got, C.cca(x, y), atol=1e-7, rtol=0)
    kept = C.cca(torch.cat([x, near]), y, eps=0.0)  # the noise direction now counts
    assert float((kept - got).abs().max()) > 1e-4


def test_zero_variance_view_gives_zeros():
    y = _randn(3, 100, seed=10)
    ulp_noise = torch.randint(-3, 4, (2, 100), generator=torch.Generator().manual_seed(17))
    for x in (torch.zeros(2, 100, dtype=torch.float64), torch.full((2, 100), 0.1),
              torch.full((3, 100), 7.3, dtype=torch.float64),
              1e6 + ulp_noise.double() * 2.0**-33):  # varies only in the last bits
        got = C.cca(x, y)
        assert bool(torch.isfinite(got).all())
        torch.testing.assert_close(got, torch.zeros_like(got), atol=0, rtol=0)


def test_one_variable_views_equal_abs_pearson():
    x, y = _correlated_views(1, 1, 300, seed=14)
    ref = abs(np.corrcoef(x.numpy()[0], -y.numpy()[0])[0, 1])
    np.testing.assert_allclose(C.cca(x, -y).numpy(), [ref], atol=1e-10)


def test_svd_reduce_keeps_the_requested_variance():
    n = 1000
    scales = torch.tensor([10.0, 5.0, 1.0, 0.1, 0.01], dtype=torch.float64)
    q = torch.linalg.qr(_randn(5, 5, seed=15)).Q
    z = _randn(5, n, seed=16)
    z = z - z.mean(1, keepdim=True)
    z = torch.linalg.qr(z.T).Q.T * (n - 1) ** 0.5  # exactly white rows
    x = q @ (scales[:, None] * z) + 4.0
    # variance shares: 100, 25, 1, 0.01, 1e-4 (/126.0101): top 2 = 0.992, top 3 = 0.99992
    assert C.svd_reduce(x, keep=0.99).shape == (2, n)
    assert C.svd_reduce(x, keep=0.999).shape == (3, n)
    assert C.svd_reduce(x, keep=1.0).shape == (5, n)
    assert C.svd_reduce(x, keep=0.999, max_dims=1).shape == (1, n)
    red = C.svd_reduce(x, keep=0.999)
    torch.testing.assert_close(red.var(dim=1), scales[:3] ** 2, rtol=1e-9, atol=0)
    assert C.svd_reduce(torch.ones(3, 10)).shape == (1, 10)


# 5. filter_correlation_matrix properties


@pytest.mark.parametrize("method", ["cca", "pearson", C.CorrelationMethod.CCA,
                                    C.CorrelationMethod.PEARSON])
def test_filter_matrix_symmetric_unit_diagonal_in_range(method):
    acts = _acts(120, 6, 4, 4, seed=20)
    acts[:, 4] = 0.0  # a dead filter
    m = C.filter_correlation_matrix(acts, method)
    assert m.dtype == torch.float64 and m.shape == (6, 6)
    torch.testing.assert_close(m, m.T, atol=0, rtol=0)
    torch.testing.assert_close(m.diagonal(), torch.ones(6, dtype=torch.float64), atol=0, rtol=0)
    assert bool(((m >= 0) & (m <= 1)).all())
    off = m[~torch.eye(6, dtype=torch.bool)]
    assert float(off.max()) < 1 - 1e-6 and float(off.max()) > 0.05
    assert float(m[4, torch.arange(6) != 4].abs().max()) == 0.0


@pytest.mark.parametrize("method", ["cca", "pearson"])
def test_duplicated_filter_gives_one(method):
    acts = _acts(150, 5, 4, 4, seed=21)
    acts[:, 3] = 2.0 * acts[:, 1]
    m = C.filter_correlation_matrix(acts, method)
    assert abs(float(m[1, 3]) - 1.0) < 1e-6 and abs(float(m[3, 1]) - 1.0) < 1e-6
    others = m[1, [0, 2, 4]]
    assert float(others.max()) < 0.999


def test_pearson_matches_numpy_corrcoef():
    acts = _acts(50, 5, 3, 4, seed=22)
    flat = acts.double().transpose(0, 1).reshape(5, -1).numpy()
    ref = np.abs(np.corrcoef(flat))
    got = C.filter_correlation_matrix(acts, "pearson").numpy()
    np.testing.assert_allclose(got, ref, atol=1e-10)


# 6. the batched fast path equals per-pair svcca


@pytest.mark.parametrize("keep,max_dims", [(0.99, 16), (0.9, 6), (0.99, 3)])
def test_fast_path_equals_per_pair_svcca(keep, max_dims):
    n, j, h, w = 200, 5, 4, 4
    acts = _acts(n, j, h, w, seed=23)
    m = C.filter_correlation_matrix(acts, "cca", keep=keep, max_dims=max_dims)
    views = [acts[:, i].reshape(n, h * w).T for i in range(j)]
    for a in range(j):
        for b in range(j):
            if a != b:
                ref = C.svcca(views[a], views[b], keep=keep, max_dims=max_dims)[0]
                assert abs(float(m[a, b]) - float(ref)) < 1e-8, (a, b, float(m[a, b]), float(ref))


def test_fast_path_matches_reference_cca_of_reduced_views():
    n, j, h, w = 300, 3, 3, 3
    acts = _acts(n, j, h, w, seed=24)
    m = C.filter_correlation_matrix(acts, "cca", keep=0.95, max_dims=4)
    red = [C.svd_reduce(acts[:, i].reshape(n, h * w).T, 0.95, 4).numpy() for i in range(j)]
    for a, b in [(0, 1), (0, 2), (1, 2)]:
        np.testing.assert_allclose(float(m[a, b]), _reference_cca(red[a], red[b])[0], atol=1e-6)


# 7. error messages


def test_errors():
    x = _randn(3, 50)
    with pytest.raises(ValueError, match="same number of datapoints"):
        C.cca(x, _randn(3, 49))
    with pytest.raises(ValueError, match="same number of datapoints"):
        C.svcca(x, _randn(3, 49))
    with pytest.raises(ValueError, match="2-D"):
        C.cca(x.reshape(3, 5, 10), x)
    with pytest.raises(ValueError, match="2-D"):
        C.cca(x, x[0])
    with pytest.raises(ValueError, match="keep"):
        C.svd_reduce(x, keep=0.0)
    with pytest.raises(ValueError, match=r"at least 34 images.*N=33"):
        C.filter_correlation_matrix(_acts(33, 3, 4, 4), "cca", max_dims=16)
    C.filter_correlation_matrix(_acts(34, 3, 4, 4), "cca", max_dims=16)  # enough
    with pytest.raises(ValueError, match=r"at least 8 images"):
        C.filter_correlation_matrix(_acts(7, 3, 4, 4), "cca", max_dims=3)
    with pytest.raises(ValueError, match=r"'cca', 'pearson'"):
        C.filter_correlation_matrix(_acts(40, 3, 4, 4), "spearman")
    with pytest.raises(ValueError, match=r"\[N, J, H, W\]"):
        C.filter_correlation_matrix(_randn(40, 3, 4), "cca")
