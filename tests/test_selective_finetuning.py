"""Tests of lib.papers.selective_finetuning.method (Bianchi et al., selective CNN-filter fine-tuning)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.spatial.distance import cdist
from scipy.stats import wasserstein_distance

from lib.papers.selective_finetuning import method as sf


def _scipy_emd(clean: torch.Tensor, distorted: torch.Tensor) -> np.ndarray:
    """Reference: a loop of scipy.stats.wasserstein_distance over [N, F] maps."""
    n, f = clean.shape[:2]
    a, b = clean.double().numpy(), distorted.double().numpy()
    return np.array([[wasserstein_distance(a[i, j].ravel(), b[i, j].ravel()) for j in range(f)]
                     for i in range(n)])


def _relu_pair(seed: int, shape=(6, 5, 9, 7), shift=-0.4) -> tuple[torch.Tensor, torch.Tensor]:
    """Post-ReLU-like maps with many exact zeros (shifted Gaussians through ReLU)."""
    g = torch.Generator().manual_seed(seed)
    clean = torch.relu(torch.randn(shape, generator=g) + shift)
    distorted = torch.relu(clean + 0.5 * torch.randn(shape, generator=g) + shift)
    return clean, distorted


# ---------------------------------------------------------------------------- emd_per_filter


@pytest.mark.parametrize("kind", ["relu", "negative", "ties", "all_zero_rows", "large"])
def test_emd_per_filter_matches_scipy(kind: str) -> None:
    clean, distorted = _relu_pair(0)
    if kind == "negative":
        g = torch.Generator().manual_seed(1)
        clean = torch.randn(clean.shape, generator=g)
        distorted = torch.randn(clean.shape, generator=g) * 2 - 1
    elif kind == "ties":
        clean, distorted = torch.round(clean * 2), torch.round(distorted * 2)
    elif kind == "all_zero_rows":
        clean[:, 1] = 0.0
        distorted[0] = 0.0
    elif kind == "large":
        clean, distorted = clean * 40, distorted * 40
    got = sf.emd_per_filter(clean, distorted)
    assert got.shape == clean.shape[:2] and got.dtype == torch.float32
    np.testing.assert_allclose(got.numpy(), _scipy_emd(clean, distorted), rtol=0, atol=1e-5)
    if kind == "ties":
        assert (clean == 0).float().mean() > 0.3  # the tie case really has many equal values


def test_emd_per_filter_chunking_and_dtypes() -> None:
    clean, distorted = _relu_pair(2, shape=(4, 3, 8, 8))
    ref = sf.emd_per_filter(clean, distorted)
    for chunk in (1, 5, 1000):
        torch.testing.assert_close(sf.emd_per_filter(clean, distorted, chunk=chunk), ref)
    torch.testing.assert_close(sf.emd_per_filter(clean.double(), distorted.double()), ref)
    half = sf.emd_per_filter(clean.half(), distorted.half())
    expected = _scipy_emd(clean.half().float(), distorted.half().float())
    np.testing.assert_allclose(half.numpy(), expected, atol=1e-5)


def test_emd_torch_kernel_matches_numpy_kernel() -> None:
    # the accelerator path (torch.sort) is exercised on CPU through its private kernel
    clean, distorted = _relu_pair(4, shape=(3, 4, 6, 5))
    a, b = clean.reshape(12, 30), distorted.reshape(12, 30)
    for chunk in (1, 5, 64):
        np.testing.assert_allclose(sf._emd_rows_torch(a, b, chunk).numpy(),
                                   sf._emd_rows_numpy(a.numpy(), b.numpy(), chunk), atol=1e-12)
    np.testing.assert_allclose(sf._emd_rows_torch(a, b, 5).numpy(),
                               _scipy_emd(clean, distorted).ravel(), atol=1e-12)


def test_emd_per_filter_zero_for_identical_and_symmetric() -> None:
    clean, distorted = _relu_pair(3)
    assert torch.equal(sf.emd_per_filter(clean, clean), torch.zeros(clean.shape[:2]))
    forward, backward = sf.emd_per_filter(clean, distorted), sf.emd_per_filter(distorted, clean)
    torch.testing.assert_close(forward, backward, rtol=0, atol=0)
    perm = torch.randperm(9 * 7, generator=torch.Generator().manual_seed(0))
    shuffled = clean.reshape(*clean.shape[:2], -1)[..., perm].reshape(clean.shape)
    assert sf.emd_per_filter(clean, shuffled).abs().max() == 0  # values only, not positions


def test_emd_per_filter_hand_case() -> None:
    # values {0,0,1,3} vs {0,2,2,2}: sorted diffs |0-0|+|0-2|+|1-2|+|3-2| = 4 -> mean 1.0
    a = torch.tensor([0.0, 0.0, 1.0, 3.0]).reshape(1, 1, 2, 2)
    b = torch.tensor([2.0, 0.0, 2.0, 2.0]).reshape(1, 1, 2, 2)
    assert sf.emd_per_filter(a, b).item() == pytest.approx(1.0, abs=1e-7)


def test_emd_per_filter_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError):
        sf.emd_per_filter(torch.zeros(2, 3, 4, 4), torch.zeros(2, 3, 4, 5))
    with pytest.raises(ValueError):
        sf.emd_per_filter(torch.zeros(3, 4, 4), torch.zeros(3, 4, 4))


# ---------------------------------------------------------------------------- emd_spatial


def test_emd_spatial_hand_cases() -> None:
    a = torch.zeros(1, 2, 5, 6)
    b = torch.zeros(1, 2, 5, 6)
    a[0, 0, 2, 1], b[0, 0, 2, 4] = 1.0, 7.0          # unit mass moved 3 pixels (b rescaled)
    a[0, 1, 0, 0], b[0, 1, 3, 4] = 2.0, 2.0          # moved (3, 4) -> 5 pixels
    got = sf.emd_spatial(a, b)
    torch.testing.assert_close(got, torch.tensor([[3.0, 5.0]]))


def test_emd_spatial_half_mass_and_zero_mass() -> None:
    a = torch.zeros(2, 1, 1, 8)
    b = torch.zeros(2, 1, 1, 8)
    a[0, 0, 0, 0] = a[0, 0, 0, 1] = 1.0              # half at x=0, half at x=1
    b[0, 0, 0, 1] = b[0, 0, 0, 3] = 1.0              # half at x=1, half at x=3 -> 0.5*1 + 0.5*2
    b[1] = 5.0                                       # a[1] has zero mass -> uniform -> equal
    torch.testing.assert_close(sf.emd_spatial(a, b), torch.tensor([[1.5], [0.0]]))
    with pytest.raises(ValueError):
        sf.emd_spatial(-a, b)


# ---------------------------------------------------------------------------- Borda count

# 3 voters x 12 filters, depth 10 (paper's Algorithm 1):
#   voter 0: distance 12..1 for filters 0..11 -> filters 0..9 get 10..1 points
#   voter 1: distance 1..12                   -> filters 11..2 get 10..1 points
#   voter 2: all equal except filter 5        -> 5 gets 10, then the tie in index order:
#            0:9, 1:8, 2:7, 3:6, 4:5, 6:4, 7:3, 8:2, 9:1, 10 and 11 get 0
_VOTES = torch.stack([torch.arange(12, 0, -1.0), torch.arange(1, 13.0),
                      torch.tensor([0.0] * 5 + [1.0] + [0.0] * 6)])
_EXPECTED = [10 + 0 + 9, 9 + 0 + 8, 8 + 1 + 7, 7 + 2 + 6, 6 + 3 + 5, 5 + 4 + 10, 4 + 5 + 4,
             3 + 6 + 3, 2 + 7 + 2, 1 + 8 + 1, 0 + 9 + 0, 0 + 10 + 0]


def test_borda_count_hand_example() -> None:
    points = sf.borda_count(_VOTES, depth=10)
    assert points.dtype == torch.int64
    assert points.tolist() == _EXPECTED == [19, 17, 16, 15, 14, 19, 13, 12, 11, 10, 9, 10]
    assert sf.rank_from_borda(points).tolist() == [0, 5, 1, 2, 3, 4, 6, 7, 8, 9, 11, 10]


def test_borda_count_depth_handling() -> None:
    assert sf.borda_count(_VOTES[:1], depth=3).tolist() == [3, 2, 1] + [0] * 9
    # F = 4 < depth = 10: rank 1 still gets 10 points, only 4 filters get points
    assert sf.borda_count(torch.tensor([[0.1, 0.4, 0.3, 0.2]]), depth=10).tolist() == [7, 10, 9, 8]
    assert sf.borda_count(torch.zeros(0, 5)).tolist() == [0] * 5
    with pytest.raises(ValueError):
        sf.borda_count(_VOTES, depth=0)


def test_borda_count_matches_algorithm_1_loop() -> None:
    g = torch.Generator().manual_seed(0)
    dist = torch.randint(0, 6, (50, 16), generator=g).float()   # many ties
    expected = [0] * 16
    for row in dist.tolist():                                    # Algorithm 1, verbatim
        ranked = sorted(range(16), key=lambda j: (-row[j], j))[:10]
        for idx, filt in enumerate(ranked):
            expected[filt] += 10 - idx
    assert sf.borda_count(dist).tolist() == expected


# ---------------------------------------------------------------------------- selection


# 25% of 10 = 2.5 rounds half up to 3 (Python round() would give 2)
@pytest.mark.parametrize("n_filters,expected",
                         [(32, 8), (16, 4), (96, 24), (2, 1), (3, 1), (10, 3)])
def test_select_filters_sizes(n_filters: int, expected: int) -> None:
    ranking = torch.randperm(n_filters, generator=torch.Generator().manual_seed(n_filters))
    most = sf.select_filters(ranking, 0.25, "most")
    least = sf.select_filters(ranking, 0.25, sf.Selection.LEAST)
    assert most.numel() == least.numel() == expected
    assert most.tolist() == sorted(ranking[:expected].tolist())
    assert least.tolist() == sorted(ranking[-expected:].tolist())
    assert sf.select_filters(ranking, which="all").tolist() == list(range(n_filters))


def test_select_filters_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        sf.select_filters(torch.arange(8), which="top")
    with pytest.raises(ValueError):
        sf.select_filters(torch.arange(8), fraction=0.0)
    assert sf.Selection("most") is sf.Selection.MOST and sf.Selection.MOST == "most"


# ---------------------------------------------------------------------------- medoids


def _brute_medoid(x: np.ndarray, metric: str) -> int:
    if metric == "hamming":
        x = (x > 0).astype(float)
        return int(np.argmin((cdist(x, x, "hamming") * x.shape[1]).sum(1)))
    return int(np.argmin(cdist(x, x, "euclidean").sum(1)))


@pytest.mark.parametrize("metric", ["euclidean", "hamming"])
def test_medoid_matches_brute_force_and_pam(metric: str) -> None:
    rng = np.random.default_rng(0)
    for trial in range(3):
        x = rng.normal(size=(70, 11)) * rng.uniform(0.5, 3, size=11)
        expected = _brute_medoid(x, metric)
        assert sf.medoid(torch.from_numpy(x).float(), metric) == expected
        assert sf.medoid(torch.from_numpy(x), metric, chunk=16) == expected
        assert sf.kmedoids_pam(x, k=1, metric=metric, seed=trial).tolist() == [expected]


def test_medoid_ties_go_to_lowest_index() -> None:
    line = torch.tensor([[3.0], [1.0], [0.0], [2.0]])   # points 1 and 2 both have sum 4
    assert sf.medoid(line) == 1
    bits = torch.tensor([[1.0, 0.0], [0.0, 1.0]])        # two points: equal sums
    assert sf.medoid(bits, "hamming") == 0
    with pytest.raises(ValueError):
        sf.medoid(line, "cosine")


def test_kmedoids_pam_finds_cluster_centres() -> None:
    rng = np.random.default_rng(1)
    centres = np.array([[0.0, 0.0], [20.0, 0.0], [0.0, 20.0]])
    offsets = np.array([[0, 0], [1, 0], [-1, 0], [0, 1], [0, -1]], dtype=float)
    x = np.concatenate([c + offsets for c in centres])
    perm = rng.permutation(len(x))
    medoids = sf.kmedoids_pam(x[perm], k=3, metric="euclidean", seed=0)
    np.testing.assert_array_equal(np.sort(x[perm][medoids], axis=0), np.sort(centres, axis=0))


def test_exemplar_indices() -> None:
    clean = torch.tensor([[5.0, 5.0], [0.0, 0.0], [0.5, 0.0], [-0.5, 0.2]])
    noisy = torch.tensor([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    assert sf.exemplar_indices(clean, noisy, "euclidean") == (1, 0)
    # Hamming on binarised features: bit sums 5, 5, 7, 5 -> rows 0, 1, 3 tie -> lowest index 0
    assert sf.exemplar_indices(clean.abs(), noisy, "hamming")[1] == 0


# ---------------------------------------------------------------------------- rankings


def test_exemplar_ranking_constructed_case() -> None:
    g = torch.Generator().manual_seed(0)
    clean = torch.relu(torch.randn(5, 6, 6, generator=g))
    distorted = clean.clone()
    distorted[2] += 3.0            # largest shift of the value distribution
    distorted[0] += 1.0
    distorted[4] *= 1.5
    ranking = sf.exemplar_ranking(clean, distorted)
    assert ranking.tolist()[:3] == [2, 0, 4]
    assert sorted(ranking.tolist()[3:]) == [1, 3] and ranking.tolist()[3:] == [1, 3]  # tie: index


def test_associative_ranking_finds_noisy_filters_and_is_chunk_invariant() -> None:
    g = torch.Generator().manual_seed(0)
    clean = torch.relu(torch.randn(40, 8, 5, 5, generator=g))
    scale = torch.tensor([0.1, 0.1, 2.0, 0.1, 1.0, 0.1, 3.0, 0.1]).view(1, 8, 1, 1)
    distorted = torch.relu(clean + scale * torch.randn(clean.shape, generator=g))
    points, ranking = sf.associative_ranking(clean, distorted, depth=3)
    assert ranking[:3].tolist() == [6, 2, 4]
    assert int(points.sum()) == 40 * (3 + 2 + 1)
    full = sf.borda_count(sf.emd_per_filter(clean, distorted), depth=3)
    assert torch.equal(points, full)
    assert torch.equal(sf.associative_ranking(clean, distorted, depth=3, chunk=7)[0], points)


def test_associative_ranking_streamed_equals_precomputed() -> None:
    torch.manual_seed(0)
    layer = torch.nn.Sequential(torch.nn.Conv2d(3, 6, 3, padding=1), torch.nn.ReLU()).eval()
    images = torch.rand(23, 3, 8, 8)
    noisy = (images + 0.1 * torch.randn_like(images)).clamp(0, 1)
    with torch.no_grad():
        expected = sf.associative_ranking(layer(images), layer(noisy))
    got = sf.associative_ranking_streamed(layer, images, noisy, batch_size=5)
    assert torch.equal(got[0], expected[0]) and torch.equal(got[1], expected[1])


# ---------------------------------------------------------------------------- overlap / chance


def test_overlap() -> None:
    assert sf.overlap(torch.tensor([1, 2, 3, 7]), torch.tensor([3, 4, 2, 2])) == 2
    assert sf.overlap(torch.tensor([0]), torch.tensor([1])) == 0


def test_chance_overlap_values() -> None:
    assert sf.chance_overlap(96, 24) == 6.0
    assert sf.chance_overlap(32, 8) == 2.0
    assert sf.chance_overlap_pvalue(96, 24, 0) == pytest.approx(1.0)
    assert sf.chance_overlap_pvalue(96, 24, 24) == pytest.approx(1 / math.comb(96, 24), rel=1e-9)
    # P[X >= 2] for n=10, k=3 by counting: 1 - P[X=0] - P[X=1]
    p0 = math.comb(7, 3) / math.comb(10, 3)
    p1 = 3 * math.comb(7, 2) / math.comb(10, 3)
    assert sf.chance_overlap_pvalue(10, 3, 2) == pytest.approx(1 - p0 - p1)
    assert sf.chance_overlap_pvalue(96, 24, 13) < 1e-3    # Table 1's lowest-but-one, 13/24
    with pytest.raises(ValueError):
        sf.chance_overlap(10, 11)


def test_pooled_overlap_pvalue_matches_single_and_brute_force():
    from scipy.stats import hypergeom

    assert sf.pooled_overlap_pvalue(96, 24, [18]) == pytest.approx(sf.chance_overlap_pvalue(96, 24, 18))
    # two seeds: brute-force sum over the joint distribution of two independent overlaps
    pmf = hypergeom.pmf(np.arange(7), 24, 6, 6)
    brute = sum(pmf[a] * pmf[b] for a in range(7) for b in range(7) if a + b >= 7)
    assert sf.pooled_overlap_pvalue(24, 6, [3, 4]) == pytest.approx(brute)
    assert sf.pooled_overlap_pvalue(24, 6, [0, 0]) == pytest.approx(1.0)


def test_rank_from_borda_breaks_point_ties_by_the_tiebreak_values():
    points = torch.tensor([5, 0, 0, 7, 0])
    emd = torch.tensor([0.1, 0.2, 0.9, 0.0, 0.2])
    assert sf.rank_from_borda(points, emd).tolist() == [3, 0, 2, 1, 4]
    assert sf.rank_from_borda(points).tolist() == [3, 0, 1, 2, 4]


def test_associative_ranking_orders_zero_point_filters_by_summed_emd():
    clean = torch.zeros(1, 3, 2, 2)
    distorted = torch.tensor([3.0, 1.0, 2.0]).view(1, 3, 1, 1).expand(1, 3, 2, 2).contiguous()  # EMD = 3, 1, 2
    points, ranking = sf.associative_ranking(clean, distorted, depth=1)
    assert points.tolist() == [1, 0, 0] and ranking.tolist() == [0, 2, 1]
    streamed = sf.associative_ranking_streamed(lambda x: x, clean, distorted, batch_size=1, depth=1)
    assert streamed[1].tolist() == [0, 2, 1]


def test_identity_blur_is_flagged_in_labels() -> None:
    from lib.papers.selective_finetuning import render

    assert render._identity("blur", 0.25) and render._label("blur", 0.25).endswith("identity at this σ")
    assert not render._identity("blur", 1.25) and "identity" not in render._label("blur", 1.25)
    assert not render._identity("awgn", 0.25)


def test_fig5_renders_every_panel_flags_the_identity_blur_and_names_it_in_claims(tmp_path, monkeypatch) -> None:
    import json

    import matplotlib
    import pandas as pd

    matplotlib.use("Agg")
    from lib import config
    from lib.papers.selective_finetuning import render
    from lib.papers.selective_finetuning.results import Fig5Result

    det, warn = torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled()
    monkeypatch.setenv("REPRO_OUT", str(tmp_path))
    try:
        cfg = config.resolve("selective_finetuning", {"PROFILE": "smoke", "DATA": "synthetic"}, verbose=False)
        cfg.note_model("cifar10_net: trained here (zoo not requested), clean test accuracy 65.7%")
        g = np.random.default_rng(0)
        rows = [{"net": "cifar10_net", "distortion": k, "level": lv, "n": n, "which": w, "seed": s, "acc": g.random(),
                 "steps": 1, "trainable_params": 1, "seconds": 1.0}
                for k, lv in (("awgn", 5), ("awgn", 15), ("awgn", 25), ("blur", 0.25), ("blur", 1.25))
                for n in (10, 100) for w in ("most", "least", "all", "baseline") for s in (0, 1)]
        render.fig5(cfg, Fig5Result(pd.DataFrame(rows)))
    finally:
        torch.use_deterministic_algorithms(det, warn_only=warn)
    rec = json.loads((tmp_path / "fig5.json").read_text())
    assert "CIFAR-10 net 65.7% (trained here)" in rec["scale"]
    assert any("identity at this σ" in c["evidence"] for c in rec["claims"])
    assert (tmp_path / "fig5.png").read_bytes()[:4] == b"\x89PNG"


def test_replicate_baselines_train_one_network_per_seed_and_say_so(tmp_path, monkeypatch) -> None:
    """REPLICATE_BASELINES: seed s ranks its own baseline (seed BASELINE_SEED + s); off, all seeds share one.
    The scale line names each seed's baseline accuracy and the notes say what the seeds vary."""
    from lib import config
    from lib.papers.selective_finetuning import protocol, render

    det, warn = torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled()
    monkeypatch.setenv("REPRO_OUT", str(tmp_path))
    tiny = {"PROFILE": "smoke", "DATA": "synthetic", "NO_CACHE": True, "MAX_EPOCHS": {"cifar10_net": 1, "allconv_bn": 1}}
    try:
        cfg = config.resolve("selective_finetuning", tiny | {"BASELINE_SEED": 3}, verbose=False)
        (a, ia), (b, ib) = protocol.baseline(cfg, "cifar10_net", 0), protocol.baseline(cfg, "cifar10_net", 1)
        assert (ia["baseline_seed"], ib["baseline_seed"]) == (3, 4)
        assert not torch.equal(next(a.parameters()), next(b.parameters()))
        assert protocol.baseline(cfg, "cifar10_net", 1)[0] is b          # once per run
        rec = render._record(cfg, "fig4", "t", "")
        assert "(seed 3, trained here)" in rec.scale and "(seed 4, trained here)" in rec.scale
        assert "a replicate: the zoo holds only baseline seed 3's" in ib["source"]
        assert any("replicates of training" in n for n in rec.notes)

        shared = config.resolve("selective_finetuning", tiny | {"REPLICATE_BASELINES": False}, verbose=False)
        (c, ic), (d, _) = protocol.baseline(shared, "cifar10_net", 0), protocol.baseline(shared, "cifar10_net", 2)
        assert c is d and ic["baseline_seed"] == 0
        assert any("not of training" in n for n in render._record(shared, "fig4", "t", "").notes)
    finally:
        torch.use_deterministic_algorithms(det, warn_only=warn)
