"""RePr (thesis chapter 5): Ortho scores, global selection, orthogonal re-initialisation, dropped filters
held at exactly zero under every optimiser, the schedule, the Oracle, determinism and the models."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from lib import models
from lib.papers.repr import method as R


def _train_steps(model, opt, dropper, steps: int, seed: int = 0, size: int = 16) -> None:
    g = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        x = torch.rand(8, 3, size, size, generator=g)
        y = torch.randint(0, 10, (8,), generator=g)
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        dropper.mask_grads()
        opt.step()
        dropper.hold()


# ---------------------------------------------------------------------------------------------
# Ortho


def test_ortho_scores_hand_worked_example():
    # rows (flattened): a = (1, 0), b = (1, 1)/√2 direction, c = (0, 2)
    w = torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]]).view(3, 2, 1, 1)
    c = 1 / math.sqrt(2)
    # Ŵ Ŵᵀ − I off-diagonals: a·b = c, a·c = 0, b·c = c  ->  row sums / J
    expected = torch.tensor([c, 2 * c, c]) / 3
    assert torch.allclose(R.ortho_scores(w), expected, atol=1e-6)


def test_ortho_scores_orthogonal_and_identical_filters():
    q, _ = torch.linalg.qr(torch.randn(12, 12, dtype=torch.float64))
    ortho = q[:6].float().view(6, 3, 2, 2) * torch.arange(1, 7).view(6, 1, 1, 1)   # scale must not matter
    assert torch.allclose(R.ortho_scores(ortho), torch.zeros(6), atol=1e-6)
    same = torch.randn(1, 3, 3, 3).repeat(5, 1, 1, 1) * torch.tensor([1, 2, -1, 3, 0.5]).view(5, 1, 1, 1)
    assert torch.allclose(R.ortho_scores(same), torch.full((5,), 4 / 5), atol=1e-6)   # |cos| = 1 with 4 others


def test_ortho_public_variant_differs_and_is_named():
    w = torch.tensor([[1.0, 0.0], [-1.0, 1.0], [1.0, 1.0]]).view(3, 2, 1, 1)
    thesis, public = R.ortho_scores(w, "thesis"), R.ortho_scores(w, "public")
    # filter 0: overlaps −1/√2 and +1/√2 cancel in the public code's signed mean
    assert public[0] == pytest.approx(0.0, abs=1e-7) and thesis[0] > 0.4
    with pytest.raises(ValueError, match="thesis.*public"):
        R.ortho_scores(w, "other")


def test_ortho_loss_zero_for_orthonormal_rows_and_differentiable():
    model = models.VanillaConvNet(depth=1, width=4, size=8)
    q, _ = torch.linalg.qr(torch.randn(27, 27))
    with torch.no_grad():
        model.conv1.weight.copy_(q[:4].view(4, 3, 3, 3))
    assert R.ortho_loss(model).item() == pytest.approx(0.0, abs=1e-5)
    model.conv1.weight.data[1] = model.conv1.weight.data[0]
    loss = R.ortho_loss(model)
    loss.backward()
    assert loss.item() == pytest.approx(2.0, abs=1e-5) and model.conv1.weight.grad.abs().sum() > 0


# ---------------------------------------------------------------------------------------------
# Selection


def test_select_dropped_is_global_and_keeps_a_filter_per_layer():
    priority = {"a": torch.tensor([9.0, 8.0, 7.0]), "b": torch.tensor([1.0, 0.5, 6.0, 0.0])}
    masks = R.select_dropped(priority, 0.43)        # round(0.43 · 7) = 3
    assert masks["a"].tolist() == [True, True, False]   # a's third filter must stay
    assert masks["b"].tolist() == [False, False, True, False]
    assert sum(int(m.sum()) for m in masks.values()) == 3
    with pytest.raises(ValueError):
        R.select_dropped(priority, 1.0)


# ---------------------------------------------------------------------------------------------
# Re-initialisation


@pytest.mark.parametrize("j,c,dropped", [(8, 4, [1, 5]), (16, 8, list(range(0, 16, 3)))])
def test_reinit_orthogonal_to_kept_and_own_old_values(j, c, dropped):
    w = torch.randn(j, c, 3, 3)
    mask = torch.zeros(j, dtype=torch.bool)
    mask[dropped] = True
    new = R.reinit_orthogonal(w, mask, generator=torch.Generator().manual_seed(0))
    flat, old = new.flatten(1).double(), w.flatten(1).double()
    assert torch.equal(new[~mask], w[~mask])
    assert (flat[mask] @ flat[~mask].T).abs().max() < 1e-5          # ⊥ kept filters
    assert (flat[mask] @ old[mask].T).abs().max() < 1e-5            # ⊥ their own previous values
    gram = flat[mask] @ flat[mask].T
    assert (gram - torch.diag(torch.diag(gram))).abs().max() < 1e-5  # ⊥ each other
    d = c * 9
    assert torch.allclose(flat[mask].norm(dim=1), torch.full((len(dropped),), math.sqrt(2 / d) * math.sqrt(d), dtype=torch.float64))


def test_reinit_fallback_when_dimension_is_exhausted_still_writes_values():
    # first layer: 27-dim filters, 32 of them; 10 dropped -> only 27 − 22 = 5 can be orthogonal to the kept
    w = torch.randn(32, 3, 3, 3)
    mask = torch.zeros(32, dtype=torch.bool)
    mask[:10] = True
    zeroed = w.clone()
    zeroed[mask] = 0
    new = R.reinit_orthogonal(zeroed, mask, generator=torch.Generator().manual_seed(1))
    flat = new.flatten(1).double()
    assert (flat[mask].norm(dim=1) > 0.5).all()                     # nothing left at zero (the public port's bug)
    assert (flat[:5] @ flat[~mask].T).abs().max() < 1e-5            # the first d − r are orthogonal to the kept
    # the fallback between: kept + new fit, old values do not -> orthogonal to the kept only
    w2 = torch.randn(20, 3, 3, 3)
    m2 = torch.zeros(20, dtype=torch.bool)
    m2[:6] = True                                                   # 14 kept + 6 new = 20 <= 27 < 26 + 6
    new2 = R.reinit_orthogonal(w2, m2, generator=torch.Generator().manual_seed(2)).flatten(1).double()
    assert (new2[m2] @ new2[~m2].T).abs().max() < 1e-5


def test_reinit_accepts_indices_and_is_seeded():
    w = torch.randn(6, 2, 3, 3)
    a = R.reinit_orthogonal(w, torch.tensor([0, 3]), generator=torch.Generator().manual_seed(5))
    b = R.reinit_orthogonal(w, torch.tensor([True, False, False, True, False, False]),
                            generator=torch.Generator().manual_seed(5))
    assert torch.equal(a, b) and not torch.equal(a[0], w[0])


# ---------------------------------------------------------------------------------------------
# Dropped filters held at zero, optimiser state, re-adding


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam", "rmsprop"])
@pytest.mark.parametrize("weight_decay", [0.0, 5e-4])
def test_dropped_filters_stay_exactly_zero_with_every_optimizer(optimizer, weight_decay):
    torch.manual_seed(0)
    model = models.ResNetCifar(depth=8)
    opt = R.make_optimizer(optimizer, model.parameters(), 0.01, weight_decay)
    dropper = R.FilterDropper(model, opt)
    _train_steps(model, opt, dropper, 3)                             # optimiser state exists before the drop
    convs = models.prunable_convs(model)
    masks = {name: torch.arange(conv.out_channels) % 3 == 0 for name, (conv, _) in convs.items()}
    dropper.drop(masks)
    for p, m in dropper._entries():
        for value in opt.state[p].values():
            if torch.is_tensor(value) and value.shape == p.shape:
                assert (value[m.expand_as(value)] == 0).all()
    _train_steps(model, opt, dropper, 5, seed=1)
    for name, (conv, bn) in convs.items():
        m = masks[name]
        assert (conv.weight[m] == 0).all() and (bn.weight[m] == 0).all() and (bn.bias[m] == 0).all()
        assert (bn.running_mean[m] == 0).all() and (conv.weight[~m] != 0).any()
    dropper.readd(torch.Generator().manual_seed(0))
    for name, (conv, bn) in convs.items():
        m = masks[name]
        assert (conv.weight[m].flatten(1).norm(dim=1) > 0).all()
        assert (bn.weight[m] == 1).all() and (bn.bias[m] == 0).all()
    assert not dropper.active


def test_vanilla_bias_is_held_and_next_layer_sees_zero():
    torch.manual_seed(0)
    model = models.VanillaConvNet(depth=2, width=6, size=16)
    opt = R.make_optimizer("momentum", model.parameters(), 0.05)
    dropper = R.FilterDropper(model, opt)
    dropper.drop({"conv1": torch.tensor([True, False, False, True, False, False])})
    _train_steps(model, opt, dropper, 4)
    assert (model.conv1.bias[[0, 3]] == 0).all() and (model.conv1.weight[[0, 3]] == 0).all()
    out = {}
    model.conv1.register_forward_hook(lambda _m, _i, o: out.setdefault("a", o))
    model(torch.rand(2, 3, 16, 16))
    assert (out["a"][:, [0, 3]] == 0).all()


def test_dsd_weight_dropper_holds_smallest_weights_and_readds_at_zero():
    torch.manual_seed(0)
    model = models.VanillaConvNet(depth=2, width=6, size=16)
    opt = R.make_optimizer("sgd", model.parameters(), 0.05)
    dropper = R.WeightDropper(model, opt)
    small = model.conv2.weight.detach().abs() <= model.conv2.weight.detach().abs().flatten().kthvalue(97).values
    dropper.drop_smallest(0.3)                                      # 0.3 · 324 = 97 weights of conv2
    assert torch.equal(dropper.weight_masks["conv2"], small)
    _train_steps(model, opt, dropper, 3)
    assert (model.conv2.weight[small] == 0).all() and (model.conv2.weight[~small] != 0).all()
    dropper.readd()
    _train_steps(model, opt, dropper, 1)
    assert (model.conv2.weight[small] != 0).any()


# ---------------------------------------------------------------------------------------------
# Ranking criteria, Oracle, schedule, training


def test_oracle_equals_zeroing_the_filter_weights():
    torch.manual_seed(0)
    model = models.VanillaConvNet(depth=2, width=4, size=8).eval()
    x, y = torch.rand(64, 3, 8, 8), torch.randint(0, 10, (64,))
    drops = R.oracle_drops(model, x, y)
    base = (model(x).argmax(1) == y).float().mean()
    with torch.no_grad():
        model.conv2.weight[2] = 0
        model.conv2.bias[2] = 0
    direct = base - (model(x).argmax(1) == y).float().mean()
    assert drops["conv2"][2].item() == pytest.approx(direct.item())


@pytest.mark.parametrize("criterion", list(R.Criterion))
def test_every_criterion_gives_one_finite_priority_per_filter(criterion):
    torch.manual_seed(0)
    model = models.VanillaConvNet(depth=2, width=4, size=8)
    x, y = torch.rand(40, 3, 8, 8), torch.randint(0, 10, (40,))
    pr = R.rank_filters(model, criterion, x, y, generator=torch.Generator().manual_seed(0), batch_size=16)
    assert set(pr) == {"conv1", "conv2"} and all(v.shape == (4,) and torch.isfinite(v).all() for v in pr.values())


def test_data_driven_criteria_need_data():
    with pytest.raises(ValueError, match="validation images"):
        R.rank_filters(models.VanillaConvNet(2, 4, size=8), "taylor")


def test_schedule_epochs_and_learning_rates():
    s = R.Schedule(epochs=100, s1=20, s2=10, fraction=0.3, cycles=3)
    assert s.drop_epochs() == [20, 50, 80] and s.readd_epochs() == [30, 60, 90]
    assert s.sub_network(20) and s.sub_network(29) and not s.sub_network(30) and not s.sub_network(95)
    assert R.Schedule(epochs=10, fraction=0.0, s1=2, s2=1).standard
    with pytest.raises(ValueError, match="one more epoch"):
        R.Schedule(epochs=90, s1=20, s2=10, cycles=3)
    assert [R.learning_rate("step", 0.1, e, 100) for e in (0, 60, 80)] == pytest.approx([0.1, 0.01, 0.001])
    assert R.learning_rate("cyclic", 0.001, 25, 100, amplitude=0.005, period=50) == pytest.approx(0.006)
    assert R.learning_rate("cyclic", 0.001, 50, 100, amplitude=0.005, period=50) == pytest.approx(0.001)


def _tiny_run(seed: int, criterion: str = "ortho", rank_layers: str = "all") -> dict:
    torch.manual_seed(seed)
    model = models.VanillaConvNet(depth=2, width=6, size=16)
    g = torch.Generator().manual_seed(3)
    x = (torch.rand(96, 3, 16, 16, generator=g) * 255).to(torch.uint8)
    y = torch.randint(0, 10, (96,), generator=g)
    return R.train(model, x, y, x[:32], y[:32], R.Schedule(epochs=5, s1=1, s2=1, fraction=0.3, cycles=2),
                   R.TrainSpec(lr=0.05, batch_size=16, criterion=criterion, rank_layers=rank_layers), seed, x[:32], y[:32])


def test_training_is_deterministic_under_a_seed_and_records_the_schedule():
    a, b, c = _tiny_run(0), _tiny_run(0), _tiny_run(1)
    assert a["train_loss"] == b["train_loss"] and a["test_acc"] == b["test_acc"]
    assert a["train_loss"] != c["train_loss"]
    assert [e["kind"] for e in a["events"]] == ["drop", "readd", "drop", "readd"]
    assert a["sub_network"] == [False, True, False, True, False]
    assert sum(a["events"][0]["dropped"].values()) == round(0.3 * 12)


# ---------------------------------------------------------------------------------------------
# Models


def test_vanilla_parameter_counts_match_thesis_table_5_5():
    counts = {n: sum(p.numel() for name, p in models.VanillaConvNet(n, 32).named_parameters() if not name.startswith("fc"))
              for n in (3, 8, 13, 18)}
    # thesis (thousands, excluding the last FC): 20, 66, 113, 159 (3×3 kernels, biases included here)
    assert {n: round(c / 1000) for n, c in counts.items()} == {3: 19, 8: 66, 13: 112, 18: 158}


def test_resnet_sizes_and_prunable_layers():
    r20 = models.ResNetCifar(20)
    assert round(sum(p.numel() for p in r20.parameters()) / 1000) == 270
    convs = models.prunable_convs(r20)
    assert len(convs) == 19 and all(bn is not None for _, bn in convs.values())
    assert r20(torch.rand(2, 3, 32, 32)).shape == (2, 10)
    with pytest.raises(ValueError, match="6n\\+2"):
        models.ResNetCifar(21)
    assert models.VanillaConvNet(3, 8, pool="none")(torch.rand(2, 3, 32, 32)).shape == (2, 10)


def test_skip_first_never_drops_the_first_layer():
    run = _tiny_run(0, rank_layers="skip_first")
    drops = [e["dropped"] for e in run["events"] if e["kind"] == "drop"]
    assert all("conv1" not in d and sum(d.values()) == round(0.3 * 6) for d in drops)


def test_divergence_is_reported_clearly():
    torch.manual_seed(0)
    model = models.VanillaConvNet(depth=2, width=6, size=16)
    x = (torch.rand(64, 3, 16, 16) * 255).to(torch.uint8)
    y = torch.randint(0, 10, (64,))
    with pytest.raises(FloatingPointError, match="diverged"):
        R.train(model, x, y, x[:16], y[:16], R.Schedule(epochs=3, fraction=0.0), R.TrainSpec(lr=float("inf"), batch_size=16), 0)


# ---------------------------------------------------------------------------------------------
# Rendering helpers: one colour per scheme in every figure; one seed has no sd


def test_one_colour_per_scheme_and_no_sd_for_one_seed() -> None:
    import pandas as pd

    from lib.papers.repr import render

    assert render._colour("Standard") == render._colour("Standard + KD") == render._colour("dropout|standard") == "black"
    assert render._colour("RePr (Ortho)") == render._colour("RePr (Ortho) + KD") == render._colour("step|RePr")
    assert render._colour("RePr (Oracle) + KD") == render._colour("no dropout|RePr (Oracle)") != render._colour("RePr")
    assert render._mean_sd(pd.Series([8.4])) == "8.4 ± —"
    assert render._mean_sd(pd.Series([1.0, 3.0])) == "2.0 ± 1.4"
