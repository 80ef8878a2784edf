"""Tests of lib.train (fit, filter-level freezing, cached baselines) and lib.models (shapes, activations)."""
from __future__ import annotations

import pytest
import torch

from lib import models, train
from lib.data import load
from lib.train import TrainConfig, fit

pytestmark = pytest.mark.usefixtures("single_thread")   # tests/conftest.py


@pytest.fixture(scope="module")
def train_test_data():
    """80/20/50 train/val/test synthetic images (10 classes)."""
    import torch._dynamo  # noqa: F401  (the first torch.optim.Adam imports it: ~2 s, once per process)

    return load("synthetic:n=100,test=50")


def _state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _fresh(arch: str, width: int | None, seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return models.build(arch, 10, width)


SELECTIONS = [("cifar10_net", None, {"conv1": [0, 3, 17], "conv2": [1]}),
              ("allconv_bn", 8, {"conv1": [0, 5], "conv3": [2, 7]})]


# ------------------------------------------------------------------------------- filter freezing


@pytest.mark.parametrize("weight_decay", [0.0, 0.05])
@pytest.mark.parametrize("arch,width,selection", SELECTIONS)
def test_finetuning_changes_only_selected_filters(train_test_data, arch, width, selection, weight_decay) -> None:
    data = train_test_data
    model = _fresh(arch, width)
    with torch.no_grad():                      # non-trivial BN running statistics, as after training
        model.train()
        model(data.train.float()[:40])
    before = _state(model)
    fit(model, data.train, data.val, TrainConfig(max_epochs=1, batch_size=16, max_steps=4, lr=1e-2,
                                                 weight_decay=weight_decay, keep_best=False),
        seed=0, selection=selection)
    after = model.state_dict()
    assert after.keys() == before.keys()
    checked_rows = 0
    for key, old in before.items():
        new = after[key]
        block, _, rest = key.partition(".")
        part, leaf = rest.split(".")[0], key.rsplit(".", 1)[-1]
        if block in selection and part in ("conv", "bn") and leaf in ("weight", "bias"):
            chosen = torch.zeros(old.shape[0], dtype=torch.bool)
            chosen[selection[block]] = True
            assert torch.equal(new[~chosen], old[~chosen]), f"frozen rows of {key} moved"
            for row in selection[block]:
                assert not torch.equal(new[row], old[row]), f"selected row {row} of {key} did not train"
                checked_rows += 1
        else:                                  # other blocks, classifier, every BN buffer
            assert torch.equal(new, old), f"{key} changed"
    assert checked_rows == 4 * sum(map(len, selection.values()))
    assert all(p.requires_grad for p in model.parameters())      # fit leaves the model trainable


def test_baseline_training_moves_everything(train_test_data) -> None:
    """Contrast: without a selection all layers train and BatchNorm statistics update."""
    data = train_test_data
    model = _fresh("cifar10_net", None)
    before = _state(model)
    fit(model, data.train, data.val, TrainConfig(max_epochs=1, batch_size=16, max_steps=2), seed=0)
    after = model.state_dict()
    for key in ("conv1.conv.weight", "conv2.bn.running_mean", "classifier.4.weight"):
        assert not torch.equal(after[key], before[key]), key
    assert not model.training


def test_unknown_conv_block_in_selection(train_test_data) -> None:
    model = _fresh("cifar10_net", None)
    with pytest.raises(ValueError, match=r"unknown conv blocks \['conv3'\]"):
        fit(model, train_test_data.train, train_test_data.val, TrainConfig(max_steps=1), seed=0,
            selection={"conv1": [0], "conv3": [1]})


# ------------------------------------------------------------------------------- determinism, stopping


@pytest.mark.parametrize("arch,width", [("cifar10_net", None), ("allconv_bn", 8)])
def test_fit_is_deterministic_under_seed(train_test_data, arch, width) -> None:
    data = train_test_data
    cfg = TrainConfig(max_epochs=1, batch_size=16, max_steps=3)
    states = []
    for seed in (0, 0, 1):
        model = _fresh(arch, width, seed=0)             # same initial weights each time
        fit(model, data.train, data.val, cfg, seed=seed)
        states.append(_state(model))
    same, other = states[0], states[1]
    assert all(torch.equal(same[k], other[k]) for k in same)
    assert any(not torch.equal(same[k], states[2][k]) for k in same if same[k].is_floating_point())


def test_early_stopping_restores_best_weights(train_test_data) -> None:
    data = train_test_data
    model = _fresh("cifar10_net", None)
    patience, max_steps = 2, 60
    cfg = TrainConfig(max_epochs=100, batch_size=16, lr=0.05, eval_every=1, patience=patience, max_steps=max_steps)
    hist = fit(model, data.train, data.val, cfg, seed=0)
    assert len(hist.steps) == len(hist.val_loss) == len(hist.val_acc) == len(hist.train_loss)
    best = min(range(len(hist.val_loss)), key=hist.val_loss.__getitem__)
    assert hist.best_step == hist.steps[best]
    assert hist.val_loss[-1] > hist.val_loss[best] + 1e-3          # the restore actually matters here
    assert hist.steps[-1] < max_steps                               # it stopped early ...
    # ... `patience` (or patience + 1) evaluations after the best one
    assert patience <= len(hist.steps) - 1 - best <= patience + 1
    val_loss, val_acc = train.evaluate(model, data.val.images, data.val.labels)
    assert val_loss == pytest.approx(hist.val_loss[best], rel=1e-5)
    assert val_acc == pytest.approx(hist.val_acc[best])


# ------------------------------------------------------------------------------- cached baselines


def test_baseline_is_cached(train_test_data, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("REPRO_CACHE", str(tmp_path))
    data = train_test_data
    cfg = TrainConfig(max_epochs=1, batch_size=16, max_steps=2)
    m1, info1 = train.baseline("cifar10_net", data, cfg, seed=0)
    assert len(list((tmp_path / "baseline").glob("*.pt"))) == 1
    assert 0.0 <= info1["test_acc"] <= 1.0 and info1["train_images"] == len(data.train)

    def no_training(*args, **kwargs):
        raise AssertionError("baseline retrained although cached")

    monkeypatch.setattr(train, "fit", no_training)
    m2, info2 = train.baseline("cifar10_net", data, cfg, seed=0)
    s1, s2 = m1.state_dict(), m2.state_dict()
    assert all(torch.equal(s1[k], s2[k]) for k in s1)
    assert info2["test_acc"] == info1["test_acc"] and info2["history"] == info1["history"]
    assert not m2.training
    with pytest.raises(AssertionError, match="retrained"):       # another seed is another entry
        train.baseline("cifar10_net", data, cfg, seed=1)
    with pytest.raises(AssertionError, match="retrained"):       # NO_CACHE recomputes
        train.baseline("cifar10_net", data, cfg, seed=0, use_cache=False)


# ------------------------------------------------------------------------------- models


def test_cifar10_net_activations_and_logits() -> None:
    model = _fresh("cifar10_net", None)
    model.train()
    x = torch.rand(3, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    acts = models.activations(model, x, ["conv1", "conv2"], batch_size=2)
    assert acts["conv1"].shape == (3, 32, 32, 32) and acts["conv2"].shape == (3, 16, 16, 16)
    for a in acts.values():
        assert (a >= 0).all() and (a > 0).any() and (a == 0).any()
    assert model.training                                          # mode restored
    model.eval()
    with torch.no_grad():                                          # post-ReLU, before pooling
        ref1 = model.conv1(model.centre(x))
        ref2 = model.conv2(model.pool1(ref1))
        logits = model(x)
    torch.testing.assert_close(acts["conv1"], ref1)
    torch.testing.assert_close(acts["conv2"], ref2)
    assert logits.shape == (3, 10)
    assert list(models.conv_blocks(model)) == ["conv1", "conv2"]
    with pytest.raises(ValueError):
        models.build("cifar10_net", 10, width=8)


def test_allconv_activations_and_logits() -> None:
    model = _fresh("allconv_bn", None)                             # paper width 96
    x = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    acts = models.activations(model, x, ["conv1", "conv3"])
    assert acts["conv1"].shape == (2, 96, 32, 32) and acts["conv3"].shape == (2, 96, 16, 16)
    assert all((a >= 0).all() and (a > 0).any() for a in acts.values())
    assert list(models.conv_blocks(model)) == [f"conv{i}" for i in range(1, 10)]
    torch.manual_seed(0)
    small = models.build("allconv_bn", 100, width=8).eval()
    with torch.no_grad():
        assert small(x).shape == (2, 100)
        assert model.eval()(x).shape == (2, 10)


def test_describe_source_states_how_a_zoo_model_was_trained() -> None:
    card = {"name": "cifar10_net", "epoch_kept": 12, "weights": {"sha256": "0123456789abcdef"},
            "recipe": {"optimizer": "adam", "schedule": "early_stop", "epochs": 300}}
    info = {"source": "zoo:cifar10_net", "card": card, "test_acc": 0.6761}
    assert train.describe_source("CIFAR-10 net", info) == (
        "CIFAR-10 net: model zoo checkpoint cifar10_net (adam with early stopping, epoch 12 kept of at most 300, "
        "sha256 0123456789ab), clean test accuracy 67.6%")
    card["recipe"] = {"optimizer": "sgd", "schedule": "onecycle", "epochs": 40}
    assert "(40 epochs, onecycle, sha256" in train.describe_source("ResNet-20", info)
    assert train.describe_source("x", {"source": "trained here (zoo not requested)", "test_acc": 0.5}) == \
        "x: trained here (zoo not requested), clean test accuracy 50.0%"
