"""Selective CNN-filter fine-tuning (Bianchi, Vendra, Protopapas, Brambilla): method primitives.

Paper sections: 3.2 (EMD between clean and distorted activation maps, Borda count, Algorithm 1),
3.3 (fine-tune only the most affected filters), 3.4 + 4.4 (non-associative ranking from k-medoids
exemplars, pixel or feature-map features, Euclidean or Hamming distance), 5.3 (Table 1 overlaps).

Pipeline (one conv layer with F filters):

    associative:      acts(clean_i), acts(g(clean_i))  ->  emd_per_filter  [N, F]
                      ->  borda_count [F]  ->  rank_from_borda [F]  ->  select_filters
    non-associative:  exemplar_indices (1-medoid of each set)  ->  acts of the two exemplars
                      ->  exemplar_ranking [F]  ->  select_filters;  compare with overlap /
                      chance_overlap / chance_overlap_pvalue

Readings of the paper fixed here (see the docstrings for details):

* EMD is the 1-D Wasserstein-1 distance between the *values* of the two maps (what
  `scipy.stats.wasserstein_distance` computes); the 2-D spatial reading is `emd_spatial`, which
  costs ~50-150 ms per 32x32 pair and is only usable on small subsets.
* Borda points: rank 1 gets `depth` (=10) points down to 1 point at rank `depth`, the rest 0
  (Algorithm 1 and its text; implementation-notes Sec. 8 says F - rank, which the paper does
  not). Ties between equal distances go to the lower filter index; filters with equal points
  (e.g. 0 points: never in a voter's top 10) are ordered by summed EMD.
* 25% of F filters = max(1, floor(0.25 * F + 0.5)) (8 of 32, 4 of 16, 24 of 96).
* Exemplar = exact 1-medoid (k-medoids with k = 1), computed without the k-medoids package.

Everything here is inference-only (no autograd) and runs on the input tensors' device.
"""
from __future__ import annotations

import math
from enum import Enum
from typing import Callable

import numpy as np
import torch
from torch import Tensor

from lib.claims import chance_overlap, chance_overlap_pvalue, pooled_overlap_pvalue  # noqa: F401  (re-exported)

__all__ = [
    "emd_per_filter", "emd_spatial", "borda_count", "rank_from_borda", "Selection",
    "n_selected", "select_filters", "pairwise_distances", "medoid", "kmedoids_pam", "associative_ranking",
    "associative_ranking_streamed", "exemplar_ranking", "exemplar_indices", "overlap",
    "chance_overlap", "chance_overlap_pvalue", "pooled_overlap_pvalue",
]

# --------------------------------------------------------------------------------------------
# EMD between clean and distorted activation maps
# --------------------------------------------------------------------------------------------


def _check_maps(clean: Tensor, distorted: Tensor) -> None:
    """Validate a pair of `[N, F, H, W]` activation tensors (same shape, same device)."""
    if clean.dim() != 4 or clean.shape != distorted.shape:
        raise ValueError(f"expected two [N, F, H, W] tensors of one shape, got "
                         f"{tuple(clean.shape)} and {tuple(distorted.shape)}")
    if clean.device != distorted.device:
        raise ValueError(f"clean on {clean.device}, distorted on {distorted.device}")


def _emd_rows_numpy(a: np.ndarray, b: np.ndarray, chunk: int) -> np.ndarray:
    """CPU kernel of `emd_per_filter`: mean |sort(a_r) - sort(b_r)| for every row r.

    NumPy's in-place sort dispatches to x86-simd-sort (AVX-512/AVX2) and is single-threaded;
    on the shared 2-core machine this was tuned on it sorts 16000 rows of 1024 in ~0.08 s
    against ~0.6 s for `torch.sort`, and torch's small multi-threaded elementwise ops lost
    another ~0.5 s to thread contention. Rows are copied chunk by chunk into reused buffers
    (no per-chunk allocation), sorted in place, differenced in float64 and averaged.

    Args:
        a: `[R, M]` float32/float64 C-contiguous rows (clean maps), not modified.
        b: `[R, M]`, same dtype (distorted maps).
        chunk: rows per step.

    Returns:
        `[R]` float64 distances.
    """
    rows, m = a.shape
    out = np.empty(rows, dtype=np.float64)
    buf_a, buf_b = np.empty((chunk, m), a.dtype), np.empty((chunk, m), a.dtype)
    diff = np.empty((chunk, m), np.float64)
    for i in range(0, rows, chunk):
        r = min(chunk, rows - i)
        sa, sb, d = buf_a[:r], buf_b[:r], diff[:r]
        sa[...], sb[...] = a[i:i + r], b[i:i + r]
        sa.sort(axis=1)
        sb.sort(axis=1)
        np.subtract(sa, sb, out=d, dtype=np.float64)
        out[i:i + r] = np.abs(d, out=d).mean(axis=1)
    return out


def _emd_rows_torch(a: Tensor, b: Tensor, chunk: int) -> Tensor:
    """Accelerator kernel of `emd_per_filter` (same maths, `torch.sort`); `[R, M]` -> `[R]` f64."""
    out = torch.empty(a.shape[0], dtype=torch.float64, device=a.device)
    for i in range(0, a.shape[0], chunk):
        sa = torch.sort(a[i:i + chunk], dim=-1).values.double()
        out[i:i + chunk] = sa.sub_(torch.sort(b[i:i + chunk], dim=-1).values).abs_().mean(-1)
    return out


def emd_per_filter(clean: Tensor, distorted: Tensor, chunk: int | None = None) -> Tensor:
    """1-D Earth mover's distance between clean and distorted activation maps, per filter.

    For every image n and filter f this is the Wasserstein-1 distance between the empirical
    distributions of the H*W values of `clean[n, f]` and of `distorted[n, f]`, i.e. exactly
    `scipy.stats.wasserstein_distance(clean[n, f].ravel(), distorted[n, f].ravel())`. With
    equal sample sizes that is `mean(|sort(a) - sort(b)|)`, computed here for a chunk of maps at
    once: one batched sort per side (the cost bound) and a float64 difference and mean, so the
    result matches SciPy to float32 output rounding. Valid for any real values: ReLU maps are
    >= 0 with ~50% zeros, but sorting only the positives (a packed int64-key radix sort) was
    measured slower than the plain batched sort because of its gather/scatter cost. On CPU the
    sort is NumPy's SIMD sort (see `_emd_rows_numpy`), elsewhere `torch.sort`. NaNs unsupported.

    Args:
        clean: `[N, F, H, W]` float tensor (post-ReLU activations of one conv layer for N clean
            images), any device. float16/bfloat16 are upcast to float32; float64 is kept.
        distorted: `[N, F, H, W]`, same shape and device: activations of the N distorted
            counterparts, in the same order.
        chunk: number of maps (rows of the `[N*F, H*W]` view) sorted per step; extra memory is
            about `chunk * H * W * 16` bytes. Default `2**18 // (H*W)` (256 maps of 32x32).

    Returns:
        `[N, F]` float32 on the input device, >= 0; larger means the filter's map changed more.
    """
    _check_maps(clean, distorted)
    n, f, h, w = clean.shape
    dtype = clean.dtype if clean.dtype in (torch.float32, torch.float64) else torch.float32
    chunk = chunk or max(1, 2**18 // (h * w))
    a = clean.detach().reshape(n * f, h * w).to(dtype).contiguous()
    b = distorted.detach().reshape(n * f, h * w).to(dtype).contiguous()
    if a.device.type == "cpu":
        out = torch.from_numpy(_emd_rows_numpy(a.numpy(), b.numpy(), chunk))
    else:
        out = _emd_rows_torch(a, b, chunk)
    return out.to(torch.float32).reshape(n, f)


def _pixel_ground_cost(h: int, w: int) -> np.ndarray:
    """`[H*W, H*W]` float64 Euclidean distances (in pixels) between row-major pixel positions."""
    yy, xx = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64),
                         indexing="ij")
    pos = np.stack([yy.ravel(), xx.ravel()], axis=1)
    return np.sqrt(((pos[:, None, :] - pos[None, :, :]) ** 2).sum(-1))


def _unit_mass(m: np.ndarray) -> np.ndarray:
    """Normalise `[R, M]` nonnegative float64 rows to sum 1; all-zero rows become uniform."""
    total = m.sum(axis=1, keepdims=True)
    uniform = np.full_like(m, 1.0 / m.shape[1])
    return np.where(total > 0, m / np.where(total > 0, total, 1.0), uniform)


def emd_spatial(clean: Tensor, distorted: Tensor, num_iter_max: int = 10_000_000) -> Tensor:
    """2-D (spatial) Earth mover's distance between clean and distorted maps, per filter.

    The alternative reading of the paper's EMD ("piles of dirt over a region"): each map is a
    mass distribution over its H*W pixel positions, normalised to total mass 1; the ground
    distance is the Euclidean distance between pixel positions in pixel units; the EMD is the
    optimal-transport cost, solved exactly by POT's network simplex (`ot.emd2`). A map with zero
    total mass (a dead ReLU map) is taken as uniform mass over all pixels.

    Cost: one `ot.emd2` per (image, filter) pair, super-cubic in H*W: ~0.4 ms (8x8), ~3-4 ms
    (16x16), ~50-150 ms (32x32; 46 ms measured on this machine, 143 ms in the implementation
    notes) per pair on CPU, i.e. ~4 orders of magnitude above `emd_per_filter`; use on small
    subsets only (F=32 filters of one 32x32 image: ~1.5-5 s). Runs on CPU in float64 whatever
    the input device; plus a `[H*W, H*W]` float64 ground-cost matrix (8 MB at 32x32).

    Args:
        clean: `[N, F, H, W]` nonnegative float tensor (post-ReLU maps), any device.
        distorted: `[N, F, H, W]`, same shape and device.
        num_iter_max: network-simplex iteration cap passed to `ot.emd2` (the POT default of
            1e5 is too small for 32x32 maps).

    Returns:
        `[N, F]` float32 on the input device, in pixel units, between 0 and the image diagonal.

    Raises:
        ValueError: if any activation is negative (masses must be nonnegative).
    """
    import ot

    _check_maps(clean, distorted)
    n, f, h, w = clean.shape
    a = clean.detach().reshape(n * f, h * w).to("cpu", torch.float64).numpy()
    b = distorted.detach().reshape(n * f, h * w).to("cpu", torch.float64).numpy()
    if (a < 0).any() or (b < 0).any():
        raise ValueError("emd_spatial needs nonnegative maps (masses); apply ReLU first")
    a, b, cost = _unit_mass(a), _unit_mass(b), _pixel_ground_cost(h, w)
    out = [ot.emd2(a[r], b[r], cost, numItermax=num_iter_max) for r in range(n * f)]
    return torch.tensor(out, dtype=torch.float32).reshape(n, f).to(clean.device)


# --------------------------------------------------------------------------------------------
# Borda count ranking (Algorithm 1) and filter selection
# --------------------------------------------------------------------------------------------


def borda_count(distances: Tensor, depth: int = 10) -> Tensor:
    """Borda count of filters over voter images (the paper's Algorithm 1, batched).

    Each row (one voter image) ranks the F filters by descending distance; the filter ranked
    first gets `depth` points, the second `depth - 1`, ..., the `depth`-th 1 point, all others
    0. Equal distances are ranked by lower filter index first (stable sort), so the result is
    deterministic. If F < depth, points still start at `depth` for rank 1 and only the F filters
    get points (`depth, ..., depth - F + 1`), as in Algorithm 1 truncating at 10 items.

    Args:
        distances: `[N, F]` float (e.g. `emd_per_filter` output), any device; larger = more
            changed by the distortion. N may be 0.
        depth: number of points for rank 1 (the paper's 10); >= 1.

    Returns:
        `[F]` int64 total points on the input device, in `[0, N * depth]`.
    """
    if distances.dim() != 2:
        raise ValueError(f"expected [N, F] distances, got {tuple(distances.shape)}")
    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
    n, f = distances.shape
    top = min(depth, f)
    order = torch.sort(distances, dim=1, descending=True, stable=True).indices[:, :top]
    points = torch.arange(depth, depth - top, -1, device=distances.device, dtype=torch.int64)
    total = torch.zeros(f, dtype=torch.int64, device=distances.device)
    return total.scatter_add_(0, order.reshape(-1), points.expand(n, top).reshape(-1))


def _descending_order(values: Tensor) -> Tensor:
    """Indices `[F]` (int64) sorting a 1-D tensor descending; equal values by lower index."""
    if values.dim() != 1:
        raise ValueError(f"expected a 1-D tensor, got {tuple(values.shape)}")
    return torch.sort(values, descending=True, stable=True).indices


def rank_from_borda(points: Tensor, tiebreak: Tensor | None = None) -> Tensor:
    """Ranking of filters from most to least susceptible to the distortion.

    Args:
        points: `[F]` int64 (or float) Borda points from `borda_count`, any device.
        tiebreak: optional `[F]` values that order filters with equal points, larger first (e.g.
            each filter's summed EMD: filters outside every voter's top 10 all have 0 points).

    Returns:
        `[F]` int64 filter indices on the input device, most points first; remaining ties broken
        by lower filter index.
    """
    if tiebreak is None:
        return _descending_order(points)
    order = _descending_order(tiebreak)                   # stable sorts: last key sorted first
    return order[_descending_order(points[order])]


class Selection(str, Enum):
    """Which filters of a ranking to fine-tune; plain strings "most"/"least"/"all" work too."""

    MOST = "most"
    LEAST = "least"
    ALL = "all"


def n_selected(n_filters: int, fraction: float) -> int:
    """Number of filters to fine-tune: max(1, round-half-up(fraction * F)) (25% of 96 = 24)."""
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    return max(1, min(n_filters, math.floor(fraction * n_filters + 0.5)))


def select_filters(ranking: Tensor, fraction: float = 0.25,
                   which: Selection | str = Selection.MOST) -> Tensor:
    """Filter indices to fine-tune, taken from a susceptibility ranking.

    Args:
        ranking: `[F]` int64 filter indices, most susceptible first (`rank_from_borda`,
            `exemplar_ranking`), any device.
        fraction: share of the F filters to take, in (0, 1]; the count is
            `max(1, floor(fraction * F + 0.5))` (paper: 25% -> 8 of 32, 4 of 16, 24 of 96).
        which: `Selection` or its string value: "most" = the first filters of the ranking (the
            paper's method), "least" = the last ones (the paper's bottom-25% control), "all" =
            every filter (ordinary layer fine-tuning; `fraction` ignored).

    Returns:
        `[k]` int64 filter indices sorted ascending, on the ranking's device.
    """
    which = Selection(which)
    if which is Selection.ALL:
        return torch.sort(ranking).values
    k = n_selected(ranking.numel(), fraction)
    chosen = ranking[:k] if which is Selection.MOST else ranking[-k:]
    return torch.sort(chosen).values


# --------------------------------------------------------------------------------------------
# Exemplars: exact 1-medoid and the k-medoids (PAM) wrapper
# --------------------------------------------------------------------------------------------


def _as_2d(features: np.ndarray | Tensor) -> Tensor:
    """`[N, ...]` features as a `[N, D]` tensor (NumPy arrays are wrapped, zero-copy)."""
    x = torch.as_tensor(features).detach()
    if x.dim() < 2 or x.shape[0] == 0:
        raise ValueError(f"expected [N, D] features with N >= 1, got {tuple(x.shape)}")
    return x.reshape(x.shape[0], -1)


def _euclidean_rows(x: Tensor, y: Tensor) -> Tensor:
    """`[A, B]` float64 Euclidean distances between rows of `[A, D]` and `[B, D]` (via matmul)."""
    x, y = x.double(), y.double()
    sq = (x * x).sum(1)[:, None] + (y * y).sum(1)[None, :] - 2.0 * (x @ y.T)
    return sq.clamp_min_(0.0).sqrt_()


def _hamming_rows(x: Tensor, y: Tensor) -> Tensor:
    """`[A, B]` float64 Hamming distances between rows binarised by `> 0`: a(1-b)^T + (1-a)b^T."""
    a, b = (x > 0).double(), (y > 0).double()
    return a @ (1.0 - b).T + (1.0 - a) @ b.T


def pairwise_distances(x: Tensor, y: Tensor, metric: str = "euclidean") -> Tensor:
    """Distances between the rows of two feature matrices.

    Args:
        x: `[A, D]` float features, any device.
        y: `[B, D]`, same device.
        metric: "euclidean" (float64 matmul form, clamped at 0) or "hamming" (features
            binarised by `> 0`, count of differing bits, exact).

    Returns:
        `[A, B]` float64 on the input device, >= 0.
    """
    if metric == "euclidean":
        return _euclidean_rows(x, y)
    if metric == "hamming":
        return _hamming_rows(x, y)
    raise ValueError(f"metric must be 'euclidean' or 'hamming', got {metric!r}")


def medoid(features: Tensor, metric: str = "euclidean", chunk: int = 2048) -> int:
    """Exact 1-medoid: the index of the point minimising the sum of distances to all points.

    This is the k-medoids exemplar for k = 1 (paper Sec. 3.4), computed exactly.
    "euclidean": row sums of chunked `[chunk, chunk]` float64 distance blocks, O(N^2 D) time,
    O(chunk^2 + chunk*D) extra memory (measured on 2 loaded CPU cores: N = 4,000 pixel vectors
    of D = 3072 in ~6 s, so N = 40,000 ~10 min; subsample or use a GPU). "hamming" (40,000 x
    4096 in ~5 s): features binarised by `> 0` (paper Sec. 4.4); the sum of Hamming distances
    from point i is `sum_k c_k + sum_k a_ik (N - 2 c_k)` with `c_k` the count of ones in bit k,
    so it is exact and O(N D) -- the same argmin as the pairwise form.

    Args:
        features: `[N, D]` (or `[N, ...]`, flattened) float features, e.g. pixels `[N, 3*H*W]`
            or a layer's activations `[N, F*H*W]`; any device.
        metric: "euclidean" or "hamming".
        chunk: rows per block in the Euclidean case.

    Returns:
        The medoid's row index (Python int); ties go to the lowest index.
    """
    x = _as_2d(features)
    if metric == "hamming":
        a = (x > 0).double()
        counts = a.sum(0)
        return int(torch.argmin(a @ (x.shape[0] - 2.0 * counts)).item())
    if metric != "euclidean":
        raise ValueError(f"metric must be 'euclidean' or 'hamming', got {metric!r}")
    sums = torch.zeros(x.shape[0], dtype=torch.float64, device=x.device)
    for i in range(0, x.shape[0], chunk):
        for j in range(0, x.shape[0], chunk):
            sums[i:i + chunk] += _euclidean_rows(x[i:i + chunk], x[j:j + chunk]).sum(1)
    return int(torch.argmin(sums).item())


def kmedoids_pam(features: np.ndarray | Tensor, k: int, metric: str = "euclidean",
                 seed: int = 0) -> np.ndarray:
    """k-medoids by PAM (BUILD + SWAP) with the `kmedoids` package on precomputed distances.

    The one place in `lib` that wraps the `kmedoids` package. `init="build"` is classic PAM
    (Kaufman & Rousseeuw, the paper's ref. [10]); with BUILD the seed does not matter, it is
    passed for completeness. Needs the full `[N, N]` float64 distance matrix in memory (8 N^2
    bytes: N = 5,000 -> 200 MB): use on subsets; for the paper's single exemplar use `medoid`.

    Args:
        features: `[N, D]` (or `[N, ...]`) features, NumPy array or tensor on any device.
        k: number of clusters, 1 <= k <= N.
        metric: "euclidean" or "hamming" (as in `pairwise_distances`).
        seed: `random_state` of `kmedoids.KMedoids`.

    Returns:
        `[k]` int64 NumPy array of medoid row indices, in the package's order.
    """
    import kmedoids

    x = _as_2d(features)
    dist = pairwise_distances(x, x, metric).cpu().numpy()
    np.fill_diagonal(dist, 0.0)
    km = kmedoids.KMedoids(n_clusters=k, method="pam", metric="precomputed", init="build",
                           random_state=seed)
    return np.asarray(km.fit(dist).medoid_indices_, dtype=np.int64)


# --------------------------------------------------------------------------------------------
# Rankings: associative (Borda over N pairs) and non-associative (exemplars)
# --------------------------------------------------------------------------------------------


def associative_ranking(clean_acts: Tensor, distorted_acts: Tensor, depth: int = 10,
                        chunk: int = 512) -> tuple[Tensor, Tensor]:
    """Associative ranking of one layer's filters from precomputed activations (Sec. 3.2).

    Borda points are a sum over voter images, so they are accumulated chunk by chunk over N;
    memory beyond the inputs is bounded by the chunk (`chunk * F * H * W * 16` bytes).

    Args:
        clean_acts: `[N, F, H, W]` float post-ReLU activations of N clean images, any device.
        distorted_acts: `[N, F, H, W]`, same shape and device: the same N images distorted.
        depth: Borda points for rank 1 (paper: 10).
        chunk: images per chunk.

    Returns:
        `(points, ranking)`: `[F]` int64 Borda points and `[F]` int64 filter indices, most
        susceptible first (equal points: larger summed EMD first, then lower index), both on
        the input device.
    """
    _check_maps(clean_acts, distorted_acts)
    points = torch.zeros(clean_acts.shape[1], dtype=torch.int64, device=clean_acts.device)
    emd_sum = torch.zeros(clean_acts.shape[1], dtype=torch.float64, device=clean_acts.device)
    for i in range(0, clean_acts.shape[0], chunk):
        dist = emd_per_filter(clean_acts[i:i + chunk], distorted_acts[i:i + chunk])
        points += borda_count(dist, depth)
        emd_sum += dist.double().sum(0)
    return points, rank_from_borda(points, tiebreak=emd_sum)


@torch.no_grad()
def associative_ranking_streamed(act_fn: Callable[[Tensor], Tensor], clean_images: Tensor,
                                 distorted_images: Tensor, batch_size: int,
                                 depth: int = 10) -> tuple[Tensor, Tensor]:
    """Associative ranking of one layer, computing activations batch by batch (Sec. 3.2).

    Never holds more than one batch of activations: each batch of (clean, distorted) image
    pairs goes through `act_fn`, `emd_per_filter` and `borda_count`, and the points are added.

    Args:
        act_fn: maps an image batch `[B, C, H, W]` to that layer's activations `[B, F, h, w]`
            (e.g. a truncated model + ReLU); it moves the batch to its device itself if needed.
        clean_images: `[N, C, H, W]` clean images (any dtype `act_fn` accepts), any device.
        distorted_images: `[N, C, H, W]`: `distorted_images[i]` is the distortion of
            `clean_images[i]`.
        batch_size: images per batch (each batch runs `act_fn` twice).
        depth: Borda points for rank 1 (paper: 10).

    Returns:
        `(points, ranking)`: `[F]` int64 Borda points and `[F]` int64 ranking (ties as in
        `associative_ranking`), on the device of `act_fn`'s output.
    """
    if clean_images.shape != distorted_images.shape:
        raise ValueError("clean_images and distorted_images must have the same shape")
    if clean_images.shape[0] == 0:
        raise ValueError("no images given")
    points, emd_sum = 0, 0
    for i in range(0, clean_images.shape[0], batch_size):
        dist = emd_per_filter(act_fn(clean_images[i:i + batch_size]),
                              act_fn(distorted_images[i:i + batch_size]))
        points = points + borda_count(dist, depth)
        emd_sum = emd_sum + dist.double().sum(0)
    return points, rank_from_borda(points, tiebreak=emd_sum)


def exemplar_ranking(clean_acts_exemplar: Tensor, distorted_acts_exemplar: Tensor) -> Tensor:
    """Non-associative ranking (Sec. 3.4): filters by descending EMD between the two exemplars.

    Args:
        clean_acts_exemplar: `[F, H, W]` float activations of the clean exemplar, any device.
        distorted_acts_exemplar: `[F, H, W]` activations of the distorted exemplar (a different
            image), same device.

    Returns:
        `[F]` int64 filter indices on the input device, largest EMD first; equal distances by
        lower filter index.
    """
    dist = emd_per_filter(clean_acts_exemplar.unsqueeze(0), distorted_acts_exemplar.unsqueeze(0))
    return _descending_order(dist[0])


def exemplar_indices(clean_features: Tensor, distorted_features: Tensor,
                     metric: str = "euclidean") -> tuple[int, int]:
    """Exemplars of the clean and of the distorted set: the exact 1-medoid of each (Sec. 3.4).

    Args:
        clean_features: `[N_c, D]` (or `[N_c, ...]`) features of the clean images: pixels
            `[N, 3*H*W]` or a layer's activations `[N, F*H*W]`; any device.
        distorted_features: `[N_d, D]` features of the distorted images.
        metric: "euclidean" or "hamming" (binarised `> 0`, paper Sec. 4.4).

    Returns:
        `(clean_index, distorted_index)`, row indices into each set.
    """
    return medoid(clean_features, metric), medoid(distorted_features, metric)


def overlap(a: Tensor, b: Tensor) -> int:
    """Size of the intersection of two sets of filter indices (paper Table 1: "x/24").

    Args:
        a: `[k_a]` integer indices (duplicates count once), any device.
        b: `[k_b]` integer indices, same device.

    Returns:
        Number of distinct indices present in both.
    """
    return int(torch.isin(torch.unique(a), torch.unique(b)).sum().item())


# chance_overlap, chance_overlap_pvalue, pooled_overlap_pvalue: the chance level of an overlap of two random
# k-subsets is a verdict statistic, in `lib.claims` (renderers use it without importing this module).
