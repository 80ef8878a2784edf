"""Canonical correlation analysis (CCA / SVCCA) between filters of one conv layer.

Used for thesis chapter 5 (RePr), Figs 5.2 and 5.11: a filter-by-filter matrix of canonical
correlations between the activations of the filters of one conv layer of a small ConvNet. The
thesis does not say exactly what is correlated with what; the reading fixed here is:

* **Views.** For filters i and j of one layer, each filter's post-ReLU activation map over a set
  of N images is one view: ``X_i`` is a ``[H*W, N]`` matrix whose rows (variables, "neurons")
  are the H*W spatial positions and whose columns (datapoints) are the images. ``X_j`` likewise.
* **SVCCA reduction** (method ``"cca"``, Raghu et al. 2017). Each view is centred per variable
  (over the N images) and projected onto its top left singular directions explaining ``keep``
  (default 99%) of its variance, capped at ``max_dims`` directions (default 16).
* **Entry (i, j)** = the top (largest) canonical correlation between the two reduced views. The
  diagonal is 1 by definition (also for a dead filter, whose off-diagonal entries are 0).
* **Cheap alternative** (method ``"pearson"``): ``|Pearson correlation|`` between the two filters'
  activations with samples = all N*H*W (image, position) pairs, i.e. each filter is a single
  variable; this is exactly what CCA gives when each view is one variable.

Numerics (all computation in float64 on the input's device, no autograd):

* ``cca`` centres each variable, whitens each view through the eigen-decomposition of its
  covariance, dropping eigen-directions whose eigenvalue is below ``eps`` times the largest one
  (so constant or linearly dependent variables cannot produce NaN or correlations above 1), and
  returns the singular values of ``Q_x Q_y^T`` (``Q`` = whitened views, orthonormal rows), which
  are the canonical correlations, clipped to ``[0, 1]``.
* A view whose variance is at floating-point noise level relative to its magnitude (a constant
  view, e.g. a dead ReLU filter, whose centred values are rounding residue) counts as zero-
  variance: all its canonical correlations are 0. The floor is
  ``sqrt(p * n) * n * finfo(float64).eps * max|x|`` on the singular values of the centred view.
* With n datapoints the centred views live in an (n - 1)-dimensional space, so two views of
  p and q variables with p + q > n - 1 always share a direction (top correlation 1), and with
  n not much larger than p + q the correlations are biased upwards. ``filter_correlation_matrix``
  therefore requires N >= 2 * min(max_dims, H*W) + 2 images; use many more (N >> max_dims).

Pipeline of ``filter_correlation_matrix(acts, "cca")`` for J filters::

    acts [N, J, H, W] -> J views [H*W, N] -> centre, SVD-reduce -> [k_j, N]
    -> whiten -> Q_j [k_j, N] (orthonormal rows)  -> G = Q Q^T over all (i, j) blocks
    -> top singular value of each [k_i, k_j] block Q_i Q_j^T -> [J, J]
"""
from __future__ import annotations

import math
from enum import Enum

import torch
from torch import Tensor

__all__ = ["CorrelationMethod", "cca", "filter_correlation_matrix", "svcca", "svd_reduce"]

_F64_EPS = torch.finfo(torch.float64).eps
# Soft caps on the float64 working sets of filter_correlation_matrix (bytes).
_VIEW_CHUNK_BYTES = 128 * 2**20
_BLOCK_CHUNK_BYTES = 64 * 2**20


class CorrelationMethod(str, Enum):
    """How `filter_correlation_matrix` correlates two filters (see the module docstring)."""

    CCA = "cca"
    PEARSON = "pearson"


# --------------------------------------------------------------------------------------------
# Validation and numerical helpers (batched over leading dimensions)
# --------------------------------------------------------------------------------------------


def _check_view(name: str, x: Tensor) -> None:
    """Validate one `[p, n]` view: a 2-D floating/integer tensor with p >= 1 and finite values."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.dim() != 2:
        raise ValueError(f"{name} must be 2-D [variables, datapoints], got shape {tuple(x.shape)}")
    if x.shape[0] < 1:
        raise ValueError(f"{name} has no variables (shape {tuple(x.shape)})")
    if x.is_complex() or x.dtype == torch.bool:
        raise ValueError(f"{name} must be real-valued, got dtype {x.dtype}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name} contains NaN or infinite values")


def _check_datapoints(n: int) -> None:
    """Covariances need at least two datapoints."""
    if n < 2:
        raise ValueError(f"need at least 2 datapoints (columns), got {n}")


def _check_keep(keep: float, max_dims: int | None) -> None:
    """`keep` is a variance fraction in (0, 1]; `max_dims` is None or a positive int."""
    if not 0.0 < keep <= 1.0:
        raise ValueError(f"keep must be a variance fraction in (0, 1], got {keep}")
    if max_dims is not None and max_dims < 1:
        raise ValueError(f"max_dims must be >= 1 or None, got {max_dims}")


def _check_eps(eps: float) -> None:
    """`eps` is a relative eigenvalue threshold in [0, 1)."""
    if not 0.0 <= eps < 1.0:
        raise ValueError(f"eps must be in [0, 1), got {eps}")


def _as_f64(x: Tensor) -> Tensor:
    """Detached float64 copy (or view) of `x` on its own device."""
    return x.detach().to(torch.float64)


def _centre(x: Tensor) -> Tensor:
    """`[..., p, n]` -> the same with each row (variable) minus its mean over the n columns."""
    return x - x.mean(dim=-1, keepdim=True)


def _singular_floor(x: Tensor) -> Tensor:
    """`[..., p, n]` uncentred views -> `[...]` noise floor for singular values of the centred views.

    Centring a constant row leaves rounding residue of a few ulps of its magnitude; singular
    values at or below ``sqrt(p * n) * n * eps64 * max|x|`` are treated as exactly zero.
    """
    p, n = x.shape[-2:]
    scale = x.abs().amax(dim=(-2, -1))
    return scale * (math.sqrt(p * n) * n * _F64_EPS)


def _whiten(xc: Tensor, floor: Tensor, eps: float) -> Tensor:
    """Whiten centred views.

    Args:
        xc: `[..., p, n]` float64 views, rows centred.
        floor: `[...]` singular-value noise floor of each view (see `_singular_floor`); a view
            whose largest covariance eigenvalue is at or below ``floor**2 / (n - 1)`` is zero.
        eps: eigen-directions with eigenvalue <= eps * largest eigenvalue are dropped.

    Returns:
        `[..., p, n]` float64 ``Q = L^-1/2 V^T xc / sqrt(n - 1)`` from the eigen-decomposition
        ``cov = V L V^T``: the kept rows are orthonormal (``Q Q^T`` is a 0/1 diagonal matrix),
        dropped directions are zero rows, and span(rows of Q) = span(rows of xc) up to `eps`.
    """
    n = xc.shape[-1]
    evals, evecs = torch.linalg.eigh(xc @ xc.mT / (n - 1))
    top = evals[..., -1:]
    alive = (top > floor.unsqueeze(-1) ** 2 / (n - 1)) & (evals > eps * top)
    inv_sqrt = torch.where(alive, evals.clamp_min(torch.finfo(torch.float64).tiny).rsqrt(), 0.0)
    return (evecs * inv_sqrt.unsqueeze(-2)).mT @ xc / math.sqrt(n - 1)


def _n_kept(var: Tensor, keep: float, max_dims: int | None) -> Tensor:
    """`[..., r]` descending variances -> `[...]` int64: smallest k whose top-k share >= keep.

    Capped at r and `max_dims`; at least 1 (also for an all-zero spectrum).
    """
    r = var.shape[-1]
    total = var.sum(dim=-1, keepdim=True)
    share = var.cumsum(dim=-1) / total.clamp_min(torch.finfo(torch.float64).tiny)
    k = (share < keep).sum(dim=-1) + 1
    k = k.clamp(max=r if max_dims is None else min(r, max_dims))
    return torch.where(total.squeeze(-1) > 0, k, torch.ones_like(k))


def _reduce_centred(xc: Tensor, floor: Tensor, keep: float,
                    max_dims: int | None) -> tuple[Tensor, Tensor]:
    """SVD-reduce centred views, batched.

    Args:
        xc: `[..., p, n]` float64 views, rows centred.
        floor: `[...]` singular values at or below it are set to 0 (see `_singular_floor`).
        keep, max_dims: as in `svd_reduce`.

    Returns:
        ``(reduced, k)``: `[..., K, n]` float64 projections ``U_k^T xc = S_k V_k^T`` onto the top
        left singular directions (K = max k; rows at index >= k of each view are zero), and
        `[...]` int64 k per view.
    """
    _, s, vh = torch.linalg.svd(xc, full_matrices=False)
    s = torch.where(s > floor.unsqueeze(-1), s, 0.0)
    k = _n_kept(s**2, keep, max_dims)
    k_max = int(k.max())
    rows = torch.arange(k_max, device=xc.device)
    s_k = torch.where(rows < k.unsqueeze(-1), s[..., :k_max], 0.0)
    return s_k.unsqueeze(-1) * vh[..., :k_max, :], k


def _top_singular_values(blocks: Tensor) -> Tensor:
    """`[..., a, b]` -> `[...]` largest singular value of each matrix."""
    return torch.linalg.svdvals(blocks)[..., 0]


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def cca(x: Tensor, y: Tensor, eps: float = 1e-6) -> Tensor:
    """Canonical correlations between two views.

    Args:
        x: `[p, n]` real tensor: p variables (neurons) observed on n datapoints, any device.
        y: `[q, n]` real tensor on the same device, same n.
        eps: relative eigenvalue threshold in [0, 1): covariance eigen-directions of a view with
            eigenvalue <= eps * its largest eigenvalue are dropped before whitening.

    Returns:
        `[min(p, q)]` float64 canonical correlations in [0, 1], descending, on x's device.
        Each variable is centred; each view is whitened through the eigen-decomposition of its
        covariance (see `_whiten`); the correlations are the singular values of ``Qx Qy^T``.
        Rank-deficient views (constant or linearly dependent variables) give fewer non-zero
        correlations, never NaN or values above 1; a zero-variance view gives all zeros. Note
        that if p + q > n - 1 the top correlations are trivially 1.

    Raises:
        ValueError: inputs not 2-D, empty, non-finite, n differs between x and y, or n < 2.
    """
    _check_view("x", x)
    _check_view("y", y)
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y must have the same number of datapoints (columns): "
                         f"x is {tuple(x.shape)}, y is {tuple(y.shape)}")
    _check_datapoints(x.shape[1])
    _check_eps(eps)
    x64, y64 = _as_f64(x), _as_f64(y).to(x.device)
    qx = _whiten(_centre(x64), _singular_floor(x64), eps)
    qy = _whiten(_centre(y64), _singular_floor(y64), eps)
    return torch.linalg.svdvals(qx @ qy.mT).clamp(0.0, 1.0)


def svd_reduce(x: Tensor, keep: float = 0.99, max_dims: int | None = None) -> Tensor:
    """SVCCA's reduction step: keep the top singular directions of a centred view.

    Args:
        x: `[p, n]` real tensor: p variables on n datapoints.
        keep: fraction of the variance (sum of squared singular values of the centred view) in
            (0, 1] that the kept directions must explain.
        max_dims: cap on the number of kept directions (None: no cap).

    Returns:
        `[k, n]` float64 ``U_k^T (x - row means) = S_k V_k^T``, where ``x - means = U S V^T``
        and k is the smallest number of directions explaining at least `keep` of the variance,
        capped at `max_dims` and min(p, n); at least 1 (a zero row for a zero-variance view).
        Singular values at floating-point noise level (see the module docstring) count as 0.
        Rows are centred and mutually orthogonal, with descending norms.
    """
    _check_view("x", x)
    _check_datapoints(x.shape[1])
    _check_keep(keep, max_dims)
    x64 = _as_f64(x)
    reduced, _ = _reduce_centred(_centre(x64), _singular_floor(x64), keep, max_dims)
    return reduced


def svcca(x: Tensor, y: Tensor, keep: float = 0.99, max_dims: int | None = None,
          eps: float = 1e-6) -> Tensor:
    """SVCCA: `svd_reduce` both views, then `cca`.

    Args:
        x: `[p, n]` real tensor; y: `[q, n]` real tensor with the same n.
        keep, max_dims: as in `svd_reduce`; eps: as in `cca`.

    Returns:
        `[min(kx, ky)]` float64 canonical correlations in [0, 1], descending, between the
        reduced views (kx, ky = their kept dimensions).
    """
    _check_view("x", x)
    _check_view("y", y)
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y must have the same number of datapoints (columns): "
                         f"x is {tuple(x.shape)}, y is {tuple(y.shape)}")
    return cca(svd_reduce(x, keep, max_dims), svd_reduce(y, keep, max_dims), eps)


def _parse_method(method: str | CorrelationMethod) -> CorrelationMethod:
    """A `CorrelationMethod` or its string value -> the enum member; anything else: ValueError."""
    try:
        return CorrelationMethod(method)
    except ValueError:
        valid = ", ".join(repr(m.value) for m in CorrelationMethod)
        raise ValueError(f"unknown method {method!r}; valid methods: {valid}") from None


def _check_acts(acts: Tensor) -> None:
    """`acts` must be a finite floating `[N, J, H, W]` tensor with N, J, H, W >= 1."""
    if not isinstance(acts, Tensor):
        raise TypeError(f"acts must be a torch.Tensor, got {type(acts).__name__}")
    if acts.dim() != 4 or acts.numel() == 0:
        raise ValueError(f"acts must be a non-empty [N, J, H, W] tensor, got shape "
                         f"{tuple(acts.shape)}")
    if not acts.is_floating_point():
        raise ValueError(f"acts must be a floating-point tensor, got dtype {acts.dtype}")
    if not bool(torch.isfinite(acts).all()):
        raise ValueError("acts contains NaN or infinite values")


def _pearson_matrix(acts: Tensor) -> Tensor:
    """`[N, J, H, W]` -> `[J, J]` float64 |Pearson| over all N*H*W values of each filter.

    A filter at the zero-variance floor (see the module docstring) correlates 0 with the others.
    """
    j = acts.shape[1]
    x = _as_f64(acts.transpose(0, 1).reshape(j, -1))
    xc = _centre(x)
    ss = (xc * xc).sum(dim=1)
    alive = ss > _singular_floor(x.unsqueeze(1)) ** 2
    inv_norm = torch.where(alive, ss.clamp_min(torch.finfo(torch.float64).tiny).rsqrt(), 0.0)
    return (xc @ xc.T * inv_norm[:, None] * inv_norm[None, :]).abs()


def _whitened_filter_views(acts: Tensor, keep: float, max_dims: int,
                           eps: float) -> Tensor:
    """`[N, J, H, W]` -> `[J, K, N]` float64 whitened SVD-reduced views (zero rows padded).

    Filter j's view is ``acts[:, j].reshape(N, H*W).T`` (`[H*W, N]`); it is centred, reduced as
    in `svd_reduce` and whitened as in `cca`, so each view's non-zero rows are an orthonormal
    basis of its reduced, whitened span. Filters are processed in chunks to bound memory.
    """
    n, j, h, w = acts.shape
    per_filter = h * w * n * 8 * 3
    step = max(1, _VIEW_CHUNK_BYTES // per_filter)
    chunks = []
    for start in range(0, j, step):
        views = _as_f64(acts[:, start:start + step]).permute(1, 2, 3, 0).reshape(-1, h * w, n)
        reduced, _ = _reduce_centred(_centre(views), _singular_floor(views), keep, max_dims)
        chunks.append(_whiten(reduced, _singular_floor(reduced), eps))
    k_max = max(c.shape[1] for c in chunks)
    return torch.cat([torch.nn.functional.pad(c, (0, 0, 0, k_max - c.shape[1])) for c in chunks])


def _pairwise_top_cca(q: Tensor) -> Tensor:
    """`[J, K, N]` whitened views -> `[J, J]` top canonical correlation of every pair.

    For orthonormal bases Q_i, Q_j (rows) of the whitened views, the canonical correlations are
    the singular values of ``Q_i Q_j^T`` (cosines of the principal angles between the spans).
    One matmul per block of rows gives all ``Q_i Q_j^T`` blocks; one batched `svdvals` gives
    their top singular values.
    """
    j, k, n = q.shape
    flat = q.reshape(j * k, n)
    rows_per_block = max(1, _BLOCK_CHUNK_BYTES // (8 * k * j * k * 2))
    out = []
    for start in range(0, j, rows_per_block):
        stop = min(j, start + rows_per_block)
        gram = flat[start * k:stop * k] @ flat.T                     # [(b*k), J*k]
        blocks = gram.reshape(stop - start, k, j, k).transpose(1, 2)  # [b, J, k, k]
        out.append(_top_singular_values(blocks))
    return torch.cat(out)


def filter_correlation_matrix(acts: Tensor, method: str | CorrelationMethod = "cca",
                              keep: float = 0.99, max_dims: int = 16,
                              eps: float = 1e-6) -> Tensor:
    """Filter-by-filter correlation matrix of one conv layer (thesis Figs 5.2, 5.11).

    Args:
        acts: `[N, J, H, W]` floating tensor: post-ReLU activations of one layer's J filters on
            N images, any device.
        method: `CorrelationMethod` or its value. ``"cca"``: entry (i, j) is the top canonical
            correlation between filter i's view and filter j's view, each view being the
            ``[H*W, N]`` matrix of the filter's activation maps (variables = spatial positions,
            datapoints = images), centred and SVD-reduced as in `svd_reduce(keep, max_dims)`.
            ``"pearson"``: |Pearson correlation| over all N*H*W (image, position) values.
        keep, max_dims: reduction of each view (method "cca" only).
        eps: relative eigenvalue threshold of the whitening, as in `cca` (method "cca" only).

    Returns:
        `[J, J]` float64 symmetric matrix on acts' device, values in [0, 1], ones on the
        diagonal (also for dead filters, whose off-diagonal entries are 0).

    Method "cca" is computed without a per-pair CCA: each filter's reduced view is whitened
    once into Q_j (`[k_j, N]`, orthonormal rows spanning the same space as the reduced view);
    the canonical correlations of a pair are the singular values of ``Q_i Q_j^T`` (cosines of
    the principal angles between the two spans), so the entry is its largest singular value.
    All ``Q_i Q_j^T`` blocks come from one matmul ``Q Q^T`` of the stacked bases (in row
    blocks to bound memory), followed by one batched `torch.linalg.svdvals`. The result equals
    ``svcca(view_i, view_j, keep, max_dims, eps)[0]`` for every pair.

    Raises:
        ValueError: bad shape/dtype/values, unknown method (the message lists valid ones),
            or (method "cca") N < 2 * min(max_dims, H*W) + 2 images: with fewer, the two
            centred views' spans must intersect and the top correlation would be trivially 1.
    """
    _check_acts(acts)
    method = _parse_method(method)
    if method is CorrelationMethod.PEARSON:
        _check_datapoints(acts.shape[0] * acts.shape[2] * acts.shape[3])
        corr = _pearson_matrix(acts)
    else:
        _check_keep(keep, max_dims)
        _check_eps(eps)
        n, _, h, w = acts.shape
        dims = min(max_dims, h * w)
        needed = 2 * dims + 2
        if n < needed:
            raise ValueError(f"method 'cca' needs at least {needed} images (2 * reduced dims + "
                             f"2, reduced dims = min(max_dims={max_dims}, H*W={h * w}) = "
                             f"{dims}), got N={n}; use many more for unbiased correlations")
        corr = _pairwise_top_cca(_whitened_filter_views(acts, keep, max_dims, eps))
    corr = torch.triu(corr, diagonal=1)
    corr = (corr + corr.T).clamp(0.0, 1.0)
    corr.fill_diagonal_(1.0)
    return corr
