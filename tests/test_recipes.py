"""lib.recipes: the batched augmentation, the one-cycle schedule, the allocator setting, and `train_model`'s
determinism under a seed and its early stopping (a small net on a synthetic stand-in, a few seconds)."""
from __future__ import annotations

import sys

import pytest
import torch
import torch.nn.functional as F

from lib import data, models, recipes


def test_augment_crops_windows_of_the_padded_image_and_flips_half() -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (256, 3, 8, 8), dtype=torch.uint8, generator=g)
    a = recipes.augment(x, g, pad=0)
    same, flipped = (a == x).flatten(1).all(1), (a == x.flip(-1)).flatten(1).all(1)
    assert bool((same | flipped).all()) and 90 < int(flipped.sum()) < 166
    a = recipes.augment(x, torch.Generator().manual_seed(1), pad=2)
    for i in range(0, 256, 37):
        windows = [src[:, dy:dy + 8, dx:dx + 8] for src in (F.pad(x[i], (2,) * 4), F.pad(x[i].flip(-1), (2,) * 4))
                   for dy in range(5) for dx in range(5)]
        assert any(bool((w == a[i]).all()) for w in windows)
    assert torch.equal(recipes.augment(x, torch.Generator().manual_seed(3)), recipes.augment(x, torch.Generator().manual_seed(3)))


def test_onecycle_warms_up_then_decays_to_zero() -> None:
    lrs = [recipes.onecycle_lr(s, 100, 0.1, 0.2) for s in range(100)]
    assert lrs[19] == pytest.approx(0.1) and lrs[0] == pytest.approx(0.005)
    assert all(a <= b for a, b in zip(lrs[:20], lrs[1:20])) and all(a >= b for a, b in zip(lrs[20:], lrs[21:]))
    assert lrs[-1] < 1e-3


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt is glibc's")
def test_keep_freed_memory_sets_the_allocator_once() -> None:
    assert recipes.keep_freed_memory() is True
    assert recipes._allocator_tuned is True
    assert recipes.keep_freed_memory() is True


def _trained(recipe: recipes.Recipe, seed: int) -> tuple[dict, recipes.Curve, int]:
    ds = data.load("synthetic:n=400,test=100")
    torch.manual_seed(123)   # the initial weights are seeded by train_model, not by this
    model = models.build("cifar10_net", ds.num_classes)
    curve, kept = recipes.train_model(model, ds.train, ds.val, recipe, seed, log=lambda m: None)
    return {k: v.clone() for k, v in model.state_dict().items()}, curve, kept


def test_train_model_is_deterministic_under_a_seed() -> None:
    recipe = recipes.Recipe(epochs=2, batch_size=32)
    a, curve_a, _ = _trained(recipe, seed=0)
    b, curve_b, _ = _trained(recipe, seed=0)
    c, _, _ = _trained(recipe, seed=1)
    assert all(torch.equal(a[k], b[k]) for k in a) and curve_a == curve_b
    assert not all(torch.equal(a[k], c[k]) for k in a if a[k].is_floating_point())
    assert curve_a.epoch == [1, 2] and curve_a.lr[-1] < 0.01 * recipe.lr   # one-cycle ends near zero


def test_early_stop_keeps_the_epoch_of_the_lowest_validation_loss() -> None:
    recipe = recipes.Recipe(optimizer="adam", schedule="early_stop", epochs=6, lr=3e-3, batch_size=32,
                            weight_decay=0.0, label_smoothing=0.0, augment=False, patience=2)
    _, curve, kept = _trained(recipe, seed=0)
    assert kept == curve.epoch[curve.val_loss.index(min(curve.val_loss))]
    assert len(curve.epoch) == 6 or len(curve.epoch) - kept == recipe.patience


def test_compiled_training_matches_eager_up_to_rounding() -> None:
    """compile=True trains the given model in place, to the eager weights up to float rounding (which a
    few SGD steps amplify from ~1e-7 to ~1e-4 here), while training moves the weights by far more."""
    recipe = recipes.Recipe(epochs=1, batch_size=32, lr=0.01)
    ds = data.load("synthetic:n=300,test=100")
    states = []
    for compile in (False, True):
        torch.manual_seed(0)   # the same initial weights; vgg_gap has no dropout (whose RNG compiling changes)
        model = models.build("vgg_gap", ds.num_classes, 8)
        init = {k: v.clone() for k, v in model.state_dict().items()}
        recipes.train_model(model, ds.train, ds.val, recipe, 0, log=lambda m: None, compile=compile)
        states.append(model.state_dict())
    eager, compiled = states
    moved = max((eager[k] - init[k]).abs().max().item() for k in eager if eager[k].is_floating_point())
    apart = max((eager[k] - compiled[k]).abs().max().item() for k in eager if eager[k].is_floating_point())
    assert apart < 2e-3 < moved
