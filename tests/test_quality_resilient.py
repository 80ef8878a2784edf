"""Tests of Dodge & Karam, Quality Resilient DNNs (`lib.papers.quality_resilient`): the gating net of
Table 1, the VGG-16 topology and its branch points, the parameter column of Tables 6–7, the ensembles
(Eq. 2–3), the optimal weights (Eq. 4, SLSQP vs EM), Eq. 5, the AUC, the distorted training batches."""
from __future__ import annotations

import copy
import itertools
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lib.papers.quality_resilient import method, paper

pytestmark = pytest.mark.usefixtures("single_thread")   # tests/conftest.py


def _rand(shape, seed: int = 0) -> torch.Tensor:
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed))


# ------------------------------------------------------------------ names other code relies on


def test_package_exports_the_shared_names() -> None:
    import lib.papers.quality_resilient as qr
    from lib import distortions

    assert qr.auc is method.auc and qr.optimal_weights is method.optimal_weights
    assert qr.GatingNet is method.GatingNet and qr.blur_per_sample is distortions.blur_per_sample
    with pytest.raises(AttributeError):
        qr.no_such_name  # noqa: B018


# ------------------------------------------------------------------ Table 1: the gating network


def test_gating_net_has_table1_parameter_count() -> None:
    gate = method.GatingNet()
    assert method.count_params(gate) == 98_531 == paper.GATE_PARAMS
    per_conv = [sum(p.numel() for p in c.parameters()) for c in gate.convs]
    assert per_conv == [448, 4_640, 18_496, 36_928, 36_928, 1_040, 51]
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in gate.modules())
    assert [c.out_channels for c in gate.convs] == [16, 32, 64, 64, 64, 16, 3]
    assert [c.kernel_size for c in gate.convs] == [(3, 3)] * 5 + [(1, 1)] * 2


@pytest.mark.parametrize("size", [32, 64])
def test_gating_net_outputs_simplex_weights(size: int) -> None:
    gate = method.GatingNet()
    w = gate(_rand((4, 3, size, size)))
    assert w.shape == (4, 3) and w.dtype == torch.float32
    assert (w >= 0).all()
    torch.testing.assert_close(w.sum(1), torch.ones(4))
    torch.testing.assert_close(w, F.softmax(gate.logits(_rand((4, 3, size, size))), 1))


# ------------------------------------------------------------------ the network and its branch points


def test_vgg16_full_size_matches_analytic_counts() -> None:
    with torch.device("meta"):              # no memory: shapes only
        net = method.VGG16(num_classes=1000)
        net101 = method.VGG16(num_classes=101)
    assert method.count_params(net) == 138_357_544            # torchvision's VGG-16
    analytic = method.vgg16_layer_params(101)
    assert {n: method.count_params(net101.layers[n]) for n in method.LAYERS} == analytic
    assert sum(analytic.values()) == 134_260_544 + 4097 * 101


def test_vgg16_slim_counts_follow_the_same_rule() -> None:
    net = method.vgg16_slim()
    counts = method.vgg16_layer_params(10, (16, 32, 64, 128, 128), 2048, input_size=32, bn=True)
    assert {n: method.count_params(net.layers[n]) for n in method.LAYERS} == counts
    assert method.count_params(net) == sum(counts.values())


@pytest.mark.parametrize("branch", method.BRANCH_POINTS)
def test_lower_then_upper_is_the_whole_network(branch: str) -> None:
    net = method.vgg16_slim(width=0.5, fc=64).eval()
    x = _rand((3, 3, 32, 32), 1)
    torch.testing.assert_close(net.upper(net.lower(x, branch), branch), net(x), rtol=0, atol=1e-6)
    assert len(net.modules_below(branch)) + len(net.modules_from(branch)) == len(method.LAYERS)
    assert net.modules_from(branch)[0] is net.layers[branch]


def test_unknown_branch_is_refused() -> None:
    net = method.vgg16_slim(width=0.25, fc=16)
    with pytest.raises(ValueError, match="conv5_1"):
        net.lower(_rand((1, 3, 32, 32)), "conv6_1")
    with pytest.raises(ValueError):
        method.structure_params(method.vgg16_layer_params(10), "forest", "fc6", 0)


# ------------------------------------------------------------------ Tables 6–7: the analytic column


def test_analytic_avg_params_reproduce_the_papers_column() -> None:
    ours = method.vgg16_avg_params_table((101, 256, 67), gate=98_531)
    matches, mismatches = [], []
    for structure, table in (("tree", paper.TABLE6), ("inverted", paper.TABLE7)):
        for row in table.itertuples():
            (matches if round(ours[structure][row.branch], 2) == row.params else mismatches).append(
                (structure, row.branch))
    assert len(matches) == 14, mismatches
    assert sorted(mismatches) == [("inverted", "conv2_1"), ("tree", "conv2_1")]  # inventory A.5
    assert ours["tree"]["conv2_1"] == pytest.approx(404.5399, abs=1e-4)          # paper: 404.39
    assert ours["inverted"]["conv2_1"] == pytest.approx(135.0156, abs=1e-4)      # paper: 135.01
    # the class counts are what the column pins: 102/257/67 would miss M_mix
    assert round(method.vgg16_avg_params_table((102, 257, 67))["tree"]["M_mix"], 2) != 404.62


def test_structure_params_rule() -> None:
    per = {n: i + 1 for i, n in enumerate(method.LAYERS)}     # 1 … 16
    total = sum(per.values())
    assert method.structure_params(per, "mix", None, 5) == 3 * total + 5
    below_fc6 = sum(range(1, 14))
    assert method.structure_params(per, "tree", "fc6", 0) == below_fc6 + 3 * (total - below_fc6)
    assert method.structure_params(per, "inverted", "fc6", 0) == 3 * below_fc6 + (total - below_fc6)


# ------------------------------------------------------------------ TreeNet / Inverted-TreeNet


def _experts(seed: int = 0) -> list[method.VGG16]:
    torch.manual_seed(seed)
    return [method.vgg16_slim(width=0.25, fc=32).eval() for _ in range(3)]


@pytest.mark.parametrize("branch", ["conv3_1", "fc6", "fc8"])
def test_tree_structures_of_identical_experts_are_the_expert(branch: str) -> None:
    base = _experts()[0]
    same = [copy.deepcopy(base) for _ in range(3)]
    gate = method.GatingNet().eval()
    x = _rand((4, 3, 32, 32), 2)
    ref = F.softmax(base(x), 1)
    with torch.no_grad():
        torch.testing.assert_close(method.TreeNet(same, gate, branch)(x), ref, rtol=0, atol=1e-6)
        torch.testing.assert_close(method.InvertedTreeNet(same, gate, branch)(x), ref, rtol=0, atol=1e-5)


def test_treenet_mixes_softmax_and_inverted_mixes_features() -> None:
    experts, gate, x = _experts(1), method.GatingNet().eval(), _rand((5, 3, 32, 32), 3)
    b = "conv4_1"
    with torch.no_grad():
        w = gate(x)
        tree = method.TreeNet(experts, gate, b)
        h = experts[0].lower(x, b)
        probs = torch.stack([F.softmax(e.upper(h, b), 1) for e in experts], 1)
        torch.testing.assert_close(tree(x), (w[:, :, None] * probs).sum(1))
        inv = method.InvertedTreeNet(experts, gate, b)
        feats = sum(w[:, k, None, None, None] * experts[k].lower(x, b) for k in range(3))
        torch.testing.assert_close(inv(x), F.softmax(experts[0].upper(feats, b), 1))
        assert (inv(x) - tree(x)).abs().max() > 1e-4          # the two structures really differ


@pytest.mark.parametrize("branch", method.BRANCH_POINTS)
def test_structure_parameter_counts(branch: str) -> None:
    experts, gate = _experts(), method.GatingNet()
    per = {n: method.count_params(experts[0].layers[n]) for n in method.LAYERS}
    assert method.TreeNet(experts, gate, branch).num_params() == method.structure_params(per, "tree", branch, 98_531)
    assert method.InvertedTreeNet(experts, gate, branch).num_params() == \
        method.structure_params(per, "inverted", branch, 98_531)


def test_member_training_updates_the_rest_and_keeps_frozen_bn_statistics() -> None:
    net = method.vgg16_slim(width=0.25, fc=32)
    before = copy.deepcopy(net.state_dict())
    frozen = method.freeze_for_member(net, "tree", "conv3_1")
    images = (_rand((64, 3, 32, 32), 5) * 255).to(torch.uint8)
    labels = torch.arange(64) % 10
    calls = []

    def val_loss(model) -> float:       # decreasing: every evaluation is a new best, the last weights are kept
        calls.append(1)
        return -float(len(calls))

    method.train_classifier(net, images, labels, lambda b, s: b.float() / 255, val_loss,
                            method.SGDConfig(lr=0.05, batch_size=16, max_epochs=1, eval_every=2, patience=9), 0,
                            frozen=frozen)
    after = net.state_dict()
    for k in before:
        shared = any(k.startswith(f"layers.{n}.") for n in ("conv1_1", "conv1_2", "conv2_1", "conv2_2"))
        if shared:
            assert torch.equal(after[k], before[k]), k          # weights and BN running statistics
        elif k.endswith(("weight", "running_mean")):
            assert not torch.equal(after[k], before[k]), k       # trained (BN statistics updated)


# ------------------------------------------------------------------ ensembles (Eq. 2–3)


def _probs(n: int = 50, c: int = 7, seed: int = 0) -> torch.Tensor:
    return F.softmax(torch.randn((n, 3, c), generator=torch.Generator().manual_seed(seed)) * 2, dim=2)


def test_mix_with_uniform_weights_is_avg() -> None:
    p = _probs()
    mix = method.ensemble_mix(p, torch.full((50, 3), 1 / 3))
    torch.testing.assert_close(mix, method.ensemble_avg(p), rtol=0, atol=1e-7)
    assert torch.equal(mix.argmax(1), method.ensemble_avg(p).argmax(1))
    torch.testing.assert_close(method.ensemble_mix(p, torch.full((3,), 1 / 3)), mix)


def test_max_takes_the_class_of_the_largest_entry() -> None:
    p = torch.tensor([[[0.60, 0.40, 0.00], [0.60, 0.40, 0.00], [0.05, 0.05, 0.90]],    # avg: 0, max: 2
                      [[0.50, 0.45, 0.05], [0.50, 0.45, 0.05], [0.05, 0.90, 0.05]]])   # avg: 1, max: 1
    assert method.ensemble_max(p).tolist() == [2, 1]
    assert method.ensemble_avg(p).argmax(1).tolist() == [0, 1]                          # they really differ
    tie = torch.tensor([[[0.5, 0.5], [0.2, 0.5]]])
    assert method.ensemble_max(tie).tolist() == [0]                                     # lowest index wins


def test_hardmix_takes_the_top_weighted_expert() -> None:
    p = _probs(4)
    w = torch.tensor([[0.2, 0.5, 0.3], [0.6, 0.2, 0.2], [0.1, 0.1, 0.8], [0.4, 0.4, 0.2]])
    out = method.ensemble_hardmix(p, w)
    for i, k in enumerate([1, 0, 2, 0]):
        assert torch.equal(out[i], p[i, k])


def test_ensembles_reject_bad_shapes() -> None:
    with pytest.raises(ValueError):
        method.ensemble_avg(torch.rand(5, 7))
    with pytest.raises(ValueError):
        method.ensemble_mix(_probs(5), torch.rand(4, 3))


# ------------------------------------------------------------------ optimal weights (Eq. 4)


def _complementary(n: int = 600, c: int = 10, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Three experts, each confident and right on its own third of the images, vague elsewhere."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, c, (n,), generator=g)
    logits = torch.randn((n, 3, c), generator=g)
    own = torch.arange(n) % 3
    strength = torch.where(own[:, None] == torch.arange(3)[None], 4.0, 0.8)       # [N, 3]
    logits[torch.arange(n), :, labels] += strength
    return F.softmax(logits, 2), labels


def test_slsqp_and_em_agree_on_a_fixed_problem() -> None:
    probs, labels = _complementary()
    sol = method.solve_weights(probs, labels, tol=1e-4)
    assert sol.agree and sol.max_diff < 1e-4, sol
    assert sol.slsqp_success
    w = method.optimal_weights(probs, labels)
    assert w.shape == (3,) and w.dtype == torch.float64
    assert float(w.sum()) == pytest.approx(1.0, abs=1e-12) and (w >= 0).all()
    torch.testing.assert_close(w, method.optimal_weights_em(probs, labels), rtol=0, atol=1e-4)
    assert abs(sol.objective_slsqp - sol.objective_em) < 1e-8


def test_optimal_weights_beat_every_simplex_grid_point() -> None:
    probs, labels = _complementary(300, seed=1)
    q = probs[torch.arange(300), :, labels].double().numpy()
    best = method.weights_objective(method.optimal_weights(probs, labels).numpy(), q)
    grid = [np.array([a, b, 20 - a - b]) / 20 for a, b in itertools.product(range(21), repeat=2) if a + b <= 20]
    assert best <= min(method.weights_objective(w, q) for w in grid) + 1e-12


def test_a_dominant_expert_gets_all_the_weight() -> None:
    probs, labels = _complementary(300, seed=2)
    probs = probs.clone()
    probs[torch.arange(300), 2] = F.one_hot(labels, 10).float() * 0.99 + 0.001     # expert 2 nearly always right
    w = method.optimal_weights(probs, labels)
    assert float(w[2]) > 0.999
    assert method.solve_weights(probs, labels).agree


def test_disagreement_is_reported() -> None:
    probs, labels = _complementary(200, seed=3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sol = method.solve_weights(probs, labels, tol=-1.0)          # any difference counts
    assert not sol.agree
    assert any("SLSQP and EM" in str(w.message) for w in caught)


def test_objective_is_safe_off_the_simplex() -> None:
    q = np.array([[0.5, 0.0, 0.2], [0.1, 0.3, 0.0]])
    assert np.isfinite(method.weights_objective(np.array([-0.5, 1.0, 0.5]), q))
    assert method.weights_objective(np.array([0.0, 0.0, 1.0]), q) == pytest.approx(-(np.log(0.2) + np.log(1e-12)) / 2)


# ------------------------------------------------------------------ Eq. 5 and the targets


def test_gate_loss_is_eq5() -> None:
    g = torch.tensor([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]])
    t = torch.tensor([[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]])
    expected = ((0.04 + 0.04 + 0) + 0.01 * (0.04 + 0.09 + 0.25) + (0 + 0.01 * 1.0)) / 2
    assert float(method.gate_loss(g, t, 0.01)) == pytest.approx(expected)
    assert float(method.gate_loss(g, t, 0.0)) == pytest.approx(0.04)


def test_gate_targets_pick_type_and_level() -> None:
    table = {"noise": torch.tensor([[1 / 3] * 3, [0.1, 0.8, 0.1], [0.0, 1.0, 0.0]]),
             "blur": torch.tensor([[1 / 3] * 3, [0.2, 0.1, 0.7], [0.0, 0.0, 1.0]])}
    kinds = torch.tensor([0, 1, 2, 1, 2])
    idx = torch.tensor([2, 1, 2, 2, 1])
    out = method.gate_targets(kinds, idx, table)
    torch.testing.assert_close(out, torch.stack([table["noise"][0], table["noise"][1], table["blur"][2],
                                                 table["noise"][2], table["blur"][1]]))


# ------------------------------------------------------------------ AUC


def test_auc_is_the_normalised_trapezoid() -> None:
    levels = method.level_grid(100.0, 10)
    assert levels[0] == 0.0 and levels[-1] == 100.0 and len(levels) == 10
    assert method.auc(levels, [0.7] * 10) == pytest.approx(0.7)
    assert method.auc(levels, np.linspace(1.0, 0.0, 10)) == pytest.approx(0.5)
    # trapezoid, not the plain mean: the end points count half
    assert method.auc([0, 1, 2], [1.0, 0.0, 0.0]) == pytest.approx(0.25)
    assert method.auc_mean([1.0, 0.0, 0.0]) == pytest.approx(1 / 3)
    # uneven spacing is integrated, not averaged
    assert method.auc([0, 1, 10], [1.0, 1.0, 0.0]) == pytest.approx((1 + 4.5) / 10)


@pytest.mark.parametrize("levels,acc", [([0, 1], [0.5]), ([0], [0.5]), ([1, 0], [0.5, 0.5]),
                                        ([0, 1], [0.5, 1.5])])
def test_auc_rejects_bad_input(levels, acc) -> None:
    with pytest.raises(ValueError):
        method.auc(levels, acc)


# ------------------------------------------------------------------ distorted training batches


@pytest.mark.parametrize("plan,n,expected", [("noise", 32, (16, 16, 0)), ("blur", 32, (16, 0, 16)),
                                             ("all", 32, (16, 8, 8)), ("all", 7, (3, 2, 2)), ("clean", 5, (5, 0, 0))])
def test_plan_counts(plan: str, n: int, expected: tuple[int, int, int]) -> None:
    assert method.PLANS[plan].counts(n) == expected


def test_plan_rejects_bad_shares() -> None:
    with pytest.raises(ValueError):
        method.BatchPlan(0.5, 0.5, 0.5)


def test_mixed_batch_distorts_each_part_at_its_own_level() -> None:
    x = torch.full((8, 3, 16, 16), 0.5)
    x[:, :, ::2] = 0.3                                      # stripes, so blur is visible
    noise = torch.tensor([0.0, 60.0])
    blur = torch.tensor([0.0, 1.2])
    out, kinds = method.mixed_batch(x, method.PLANS["all"], noise, blur, torch.Generator().manual_seed(0))
    assert out.shape == x.shape and kinds.tolist() == [0, 0, 0, 0, 1, 1, 2, 2]
    assert torch.equal(out[:4], x[:4]) and torch.equal(out[4], x[4]) and torch.equal(out[6], x[6])
    assert (out[5] - x[5]).std().item() == pytest.approx(60 / 255, rel=0.1)
    from lib.distortions import blur_per_sample

    torch.testing.assert_close(out[7:], blur_per_sample(x[7:], blur[1:]))
    assert (out[7] - x[7]).abs().max() > 0.01
    with pytest.raises(ValueError):
        method.mixed_batch(x, method.PLANS["all"], torch.zeros(3), blur)


def test_uniform_levels_are_in_range_and_seeded() -> None:
    a = method.uniform_levels(1000, 100.0, torch.Generator().manual_seed(0))
    assert a.min() >= 0 and a.max() <= 100 and 45 < float(a.mean()) < 55
    assert torch.equal(a, method.uniform_levels(1000, 100.0, torch.Generator().manual_seed(0)))


def test_silent_channels() -> None:
    acts = torch.relu(torch.randn(4, 5, 3, 3, generator=torch.Generator().manual_seed(0)))
    acts[:, [1, 3]] = 0
    assert method.silent_channels(acts).tolist() == [False, True, False, True, False]


# ------------------------------------------------------------------ protocol helpers and a tiny pipeline


def test_fixed_distorted_sets() -> None:
    from lib import distortions
    from lib.papers.quality_resilient import protocol

    images = (_rand((7, 3, 16, 16), 9) * 255).round().to(torch.uint8)
    assert protocol.distorted(images, "noise", 0.0, seed=1) is images
    a = protocol.distorted(images, "noise", 40.0, seed=1, batch_size=1000)
    assert a.dtype == torch.uint8 and torch.equal(a, protocol.distorted(images, "noise", 40.0, seed=1, batch_size=3))
    assert not torch.equal(a, protocol.distorted(images, "noise", 40.0, seed=2))
    assert ((a.float() - images.float()) / 255).std().item() == pytest.approx(40 / 255, rel=0.15)
    b = protocol.distorted(images, "blur", 1.2, seed=0, batch_size=2)
    ref = torch.round(distortions.blur_per_sample(images.float() / 255, 1.2) * 255).to(torch.uint8)
    assert torch.equal(b, ref)
    with pytest.raises(ValueError):
        protocol.distorted(images, "jpeg", 10.0, seed=0)


def test_model_predictions_follow_the_ensembles() -> None:
    from lib.papers.quality_resilient import protocol

    probs = torch.cat([_probs(40, seed=4), _probs(40, seed=5)[:, :1]], 1)          # [40, 4, 7]
    uniform = torch.full((40, 3), 1 / 3)
    preds = protocol.model_predictions(probs, uniform)
    assert set(preds) == set(paper.MODELS)
    assert torch.equal(preds["M_mix"], preds["M_avg"])
    assert torch.equal(preds["M_all"], probs[:, 3].argmax(1))
    onehot = F.one_hot(torch.full((40,), 2), 3).float()
    preds = protocol.model_predictions(probs, onehot)
    assert torch.equal(preds["M_mix"], preds["M_blur"]) and torch.equal(preds["M_hardmix"], preds["M_blur"])


def test_per_image_auc_averages_to_the_auc_of_mean_accuracy() -> None:
    from lib.papers.quality_resilient import render

    g = torch.Generator().manual_seed(0)
    correct = torch.rand((50, 7), generator=g) < 0.6                     # 4 noise levels then 3 blur levels
    ln, lb = [0.0, 10.0, 40.0, 100.0], [0.0, 0.5, 1.5]
    per = render._image_auc(correct, ln, lb)
    acc = correct.float().mean(0).numpy()
    assert per.shape == (50,)
    assert per.mean() == pytest.approx((method.auc(ln, acc[:4]) + method.auc(lb, acc[4:])) / 2)


def test_smoke_pipeline_end_to_end(tmp_path, monkeypatch) -> None:
    """The whole pipeline at a tiny scale (synthetic data, no cache): shapes, simplex weights, solver
    agreement, the shared level 0, and every model's curve."""
    import lib
    from lib.papers.quality_resilient import protocol

    monkeypatch.setenv("REPRO_OUT", str(tmp_path))
    cfg = lib.config.resolve("quality_resilient", {"PROFILE": "smoke", "NO_CACHE": True, "LEVELS": 3,
                                                   "TRAIN_SIZE": 128, "VAL_SIZE": 64, "TEST_SIZE": 64,
                                                   "DATA": "synthetic:n=400,test=100"}, verbose=False)
    w = protocol.run_fig4(cfg).rows
    assert len(w) == 2 * 3 and w.agree.all()
    np.testing.assert_allclose(w[["w_clean", "w_noise", "w_blur"]].to_numpy().sum(1), 1.0, atol=1e-9)
    lvl0 = w[w.level_index == 0][["w_clean", "w_noise", "w_blur"]].to_numpy()
    np.testing.assert_allclose(lvl0[0], lvl0[1], atol=1e-9)                  # one clean set for both kinds
    curves = protocol.run_curves(cfg)
    assert set(curves.auc.model) == set(paper.MODELS) and len(curves.rows) == 8 * 2 * 3
    assert curves.rows.acc.between(0, 1).all() and curves.auc.average.between(0, 1).all()
    zero = curves.rows[curves.rows.level_index == 0].pivot_table(index="model", columns="kind", values="acc")
    np.testing.assert_allclose(zero["noise"], zero["blur"])
    gate = protocol.run_table1(cfg)
    assert gate.total == 98_531 and len(gate.fit) == 2 * 3


# ------------------------------------------------------------------ paper profile inputs (tiny fakes)


def test_torchvision_key_mapping_covers_vgg16() -> None:
    import torchvision

    from lib.papers.quality_resilient import pretrained

    with torch.device("meta"):
        tv = torchvision.models.vgg16(weights=None).state_dict()
        ours = method.VGG16(num_classes=1000).state_dict()
    mapped = {f"{t}.{p}": f"{o}.{p}" for o, t in pretrained.TORCHVISION_KEYS.items() for p in ("weight", "bias")}
    assert set(mapped) == set(tv)
    assert all(tv[t].shape == ours[o].shape for t, o in mapped.items())


def _fake_checkpoint(path, widths=(2, 3, 4, 5, 6), fc=8, seed=0) -> dict:
    from lib.papers.quality_resilient import pretrained

    torch.manual_seed(seed)
    src = method.VGG16(num_classes=1000, widths=widths, fc=fc, input_size=32).state_dict()
    state = {f"{t}.{p}": src[f"{o}.{p}"].clone() for o, t in pretrained.TORCHVISION_KEYS.items()
             for p in ("weight", "bias")}
    torch.save(state, path)
    return state


def test_load_vgg16_imagenet_from_a_fake_checkpoint(tmp_path) -> None:
    from lib.papers.quality_resilient import pretrained

    path = tmp_path / pretrained.CHECKPOINT
    state = _fake_checkpoint(path)
    net = pretrained.load_vgg16_imagenet(num_classes=7, path=path, input_size=32)
    assert net.config["widths"] == (2, 3, 4, 5, 6) and net.config["fc"] == 8 and not net.config["bn"]
    assert torch.equal(net.layers["conv3_2"].conv.weight, state["features.12.weight"])
    assert torch.equal(net.layers["fc7"].linear.bias, state["classifier.3.bias"])
    assert net.layers["fc8"].linear.weight.shape == (7, 8)                  # the new last layer
    assert net(_rand((2, 3, 32, 32))).shape == (2, 7)


def test_missing_or_foreign_checkpoint_is_refused_clearly(tmp_path) -> None:
    from lib.papers.quality_resilient import pretrained

    with pytest.raises(pretrained.WeightsMissing, match="vgg16-397923af.pth"):
        pretrained.load_vgg16_imagenet(10, path=tmp_path / "vgg16-397923af.pth")
    bad = tmp_path / "bad.pth"
    state = _fake_checkpoint(bad)
    del state["features.0.weight"]
    torch.save(state, bad)
    with pytest.raises(pretrained.WeightsMissing, match="features.0.weight"):
        pretrained.load_vgg16_imagenet(10, path=bad, input_size=32)
    _fake_checkpoint(bad)
    with pytest.raises(pretrained.WeightsMissing, match="classifier.0.weight"):    # fc6 sized for 32², not 224²
        pretrained.load_vgg16_imagenet(10, path=bad, input_size=224)


def test_per_class_split_follows_the_caltech_protocol() -> None:
    from lib.papers.quality_resilient import pretrained

    counts = [100, 40, 28]                                  # a class with < 25 + 5 + 50 images, one with < 30
    labels = torch.cat([torch.full((c,), k) for k, c in enumerate(counts)])
    labels = labels[torch.randperm(len(labels), generator=torch.Generator().manual_seed(1))]
    tr, va, te = pretrained.per_class_split(labels, seed=3)
    for k, c in enumerate(counts):
        assert int((labels[tr] == k).sum()) == min(25, c)
        assert int((labels[va] == k).sum()) == min(5, max(c - 25, 0))
        assert int((labels[te] == k).sum()) == min(50, max(c - 30, 0))
    allidx = torch.cat([tr, va, te])
    assert len(allidx.unique()) == len(allidx)              # disjoint
    again = pretrained.per_class_split(labels, seed=3)
    assert all(torch.equal(a, b) for a, b in zip((tr, va, te), again))
    assert not torch.equal(tr, pretrained.per_class_split(labels, seed=4)[0])


def test_load_per_class_reads_a_tiny_image_folder(tmp_path, monkeypatch) -> None:
    from PIL import Image

    from lib.papers.quality_resilient import pretrained

    monkeypatch.setenv("REPRO_CACHE", str(tmp_path / "cache"))
    rng = np.random.default_rng(0)
    for name, count in (("ant", 9), ("bee", 7)):
        folder = tmp_path / "caltech" / "train" / name
        folder.mkdir(parents=True)
        for i in range(count):
            h, w = (40 + 3 * i, 50) if i % 2 else (60, 45 + i)           # mixed sizes, like Caltech
            Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    classes, tr, va, te = pretrained.load_per_class(tmp_path / "caltech", crop=32, n_train=4, n_val=2, max_test=2)
    assert classes == ["ant", "bee"]
    assert tr.images.shape == (8, 3, 32, 32) and tr.images.dtype == torch.uint8
    assert torch.bincount(tr.labels).tolist() == [4, 4] and torch.bincount(va.labels).tolist() == [2, 2]
    assert torch.bincount(te.labels).tolist() == [2, 1]                 # 'bee' has 7 images: 4 + 2 + 1


def test_given_split_holds_out_a_share_of_each_class() -> None:
    from lib.papers.quality_resilient import pretrained

    labels = torch.tensor([0] * 10 + [1] * 5 + [2] * 2 + [3])
    tr, va = pretrained.given_split(labels, 0.2, seed=1)
    assert torch.bincount(labels[va], minlength=4).tolist() == [2, 1, 1, 0]     # round(20%), ≥ 1 from 2 images
    assert sorted(torch.cat([tr, va]).tolist()) == list(range(len(labels)))    # disjoint, covering
    assert torch.equal(va, pretrained.given_split(labels, 0.2, seed=1)[1])
    assert not torch.equal(va, pretrained.given_split(labels, 0.2, seed=2)[1])
    with pytest.raises(ValueError, match="val_fraction"):
        pretrained.given_split(labels, 1.0)


def _images(folder: Path, count: int, seed: int = 0) -> None:
    from PIL import Image

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        Image.fromarray(rng.integers(0, 256, (30 + i, 40, 3), dtype=np.uint8)).save(folder / f"{i}.jpg")


def test_scene67_folders_and_load_given(tmp_path, monkeypatch) -> None:
    from lib.papers.quality_resilient import pretrained

    monkeypatch.setenv("REPRO_CACHE", str(tmp_path / "cache"))
    src = tmp_path / "indoor"
    for name in ("bar", "kitchen"):
        _images(src / "Images" / name, 7)
    (src / "TrainImages.txt").write_text("".join(f"{c}/{i}.jpg\n" for c in ("bar", "kitchen") for i in range(5)))
    (src / "TestImages.txt").write_text("bar/5.jpg\nbar/6.jpg\nkitchen/6.jpg\n")
    folder = pretrained.scene67_folders(src, tmp_path / "scene67")
    classes, tr, va, te = pretrained.load_given(folder, crop=24, val_fraction=0.2)
    assert classes == ["bar", "kitchen"] and tr.images.shape[1:] == (3, 24, 24)
    assert torch.bincount(tr.labels).tolist() == [4, 4] and torch.bincount(va.labels).tolist() == [1, 1]
    assert torch.bincount(te.labels).tolist() == [2, 1]
    (src / "TestImages.txt").write_text("bar/99.jpg\n")
    with pytest.raises(FileNotFoundError, match="99.jpg"):
        pretrained.scene67_folders(src, tmp_path / "other")
    _images(tmp_path / "no_test" / "train" / "bar", 3)
    with pytest.raises(Exception, match="test/<class>"):
        pretrained.load_given(tmp_path / "no_test", crop=24)


def test_protocol_reads_a_given_split_folder(tmp_path, monkeypatch) -> None:
    import lib
    from lib.papers.quality_resilient import protocol

    monkeypatch.setenv("REPRO_CACHE", str(tmp_path / "cache"))
    for k, name in enumerate(("ant", "bee")):
        _images(tmp_path / "folder" / "train" / name, 10, seed=k)
        _images(tmp_path / "folder" / "test" / name, 3, seed=10 + k)
    cfg = lib.config.resolve("quality_resilient", {
        "PROFILE": "paper", "DATA": f"imagefolder:{tmp_path / 'folder'}", "SPLIT": "given", "CROP": 32,
        "VAL_FRACTION": 0.3, "DEVICE": "cpu"}, verbose=False)
    sp = protocol.splits(cfg)
    assert (len(sp.train), len(sp.val), len(sp.test)) == (14, 6, 6) and sp.fingerprint.startswith("given-")
    assert sp.test.images.shape[1:] == (3, 32, 32)


def test_imagenet_subset_links_seeded_classes_with_val_as_test(tmp_path) -> None:
    from lib.papers.quality_resilient import pretrained

    src = tmp_path / "imagenet"
    wnids = [f"n{i:08d}" for i in range(6)]
    for w in wnids:
        (src / "train" / w).mkdir(parents=True)
        (src / "val" / w).mkdir(parents=True)
    chosen = pretrained.imagenet_subset(src, tmp_path / "in3", n_classes=3, seed=0)
    assert len(chosen) == 3 and set(chosen) <= set(wnids) and chosen == sorted(chosen)
    assert sorted(p.name for p in (tmp_path / "in3" / "test").iterdir()) == chosen
    assert (tmp_path / "in3" / "test" / chosen[0]).resolve() == (src / "val" / chosen[0]).resolve()
    assert pretrained.imagenet_subset(src, tmp_path / "again", n_classes=3, seed=0) == chosen
    with pytest.raises(FileNotFoundError, match="at least 7"):
        pretrained.imagenet_subset(src, tmp_path / "x", n_classes=7)


@pytest.mark.filterwarnings("ignore:Eq. 4. SLSQP and EM")   # tiny untrained experts: a flat optimum
def test_paper_profile_runs_on_a_tiny_image_folder_and_fake_checkpoint(tmp_path, monkeypatch) -> None:
    """The paper profile's path (per-class split of an image folder of mixed sizes, torchvision VGG-16
    weights with a new fc8 fine-tuned at 10× lr) end to end, on fakes small enough for a CPU."""
    from PIL import Image

    import lib
    from lib.papers.quality_resilient import protocol, render

    monkeypatch.setenv("REPRO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("REPRO_OUT", str(tmp_path / "out"))
    rng = np.random.default_rng(1)
    for k, name in enumerate(("ant", "bee", "cat")):
        folder = tmp_path / "folder" / "train" / name
        folder.mkdir(parents=True)
        for i in range(10):
            img = np.full((36 + i, 40, 3), 60 * k, dtype=np.uint8) + rng.integers(0, 40, (36 + i, 40, 3), dtype=np.uint8)
            Image.fromarray(img).save(folder / f"{i}.png")
    ckpt = tmp_path / "vgg16-397923af.pth"
    state = _fake_checkpoint(ckpt, widths=(2, 2, 3, 3, 4), fc=8)
    cfg = lib.config.resolve("quality_resilient", {
        "PROFILE": "paper", "DATA": f"imagefolder:{tmp_path / 'folder'}", "WEIGHTS": str(ckpt), "CROP": 32,
        "PER_CLASS": [5, 2, 3], "SEEDS": [0], "NO_CACHE": True, "LEVELS": 3, "CLEAN_EPOCHS": 1, "EXPERT_EPOCHS": 1,
        "GATE_EPOCHS": 1, "TREE_EPOCHS": 1, "TREE_BRANCHES": ["fc7"], "INVERTED_BRANCHES": ["fc6"], "BLUR_MAX": 1.0,
        "EXPERT_BATCH": 5, "FIG3_STEPS": 2, "FIG3_CHANNELS": 2, "DEVICE": "cpu"}, verbose=False)
    sp = protocol.splits(cfg)
    assert (len(sp.train), len(sp.val), len(sp.test)) == (15, 6, 9) and sp.classes == ["ant", "bee", "cat"]
    clean, info = protocol.m_clean(cfg, 0)
    assert clean.config["widths"] == (2, 2, 3, 3, 4) and clean.layers["fc8"].linear.out_features == 3
    assert "ImageNet VGG-16" in info["source"] and info["history"]["total_steps"] == 3
    assert not torch.equal(clean.layers["conv1_1"].conv.weight, state["features.0.weight"])   # fine-tuned
    curves = protocol.run_curves(cfg)
    assert set(curves.auc.model) == set(paper.MODELS)
    trees = protocol.run_trees(cfg)
    assert set(trees.rows.structure) == {"mix", "tree", "inverted"}
    rec = render.tables2_5(cfg, curves)
    assert any("ImageNet VGG-16" in n for n in rec.notes)
