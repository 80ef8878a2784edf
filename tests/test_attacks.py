"""Tests of lib.attacks: the thesis's six untargeted white-box attacks and their |L2| budget.

Budget = normalised RMSE sqrt(mean((x − x')²)) per image on [0, 1] pixels. The problem is a tiny
GAP CNN (centring inside, like the suite's models) trained here for a few hundred steps on
synthetic 16×16 images of 4 classes (class = orientation and colour of a faint grating on noise),
which it classifies perfectly; attacks are run on correctly classified test images.
"""
from __future__ import annotations

import copy
import importlib.util

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from lib import attacks as A
from lib.attacks import Attack

HAS_ART = importlib.util.find_spec("art") is not None
needs_art = pytest.mark.skipif(not HAS_ART, reason="needs adversarial-robustness-toolbox (ART)")

# Cheaper settings for the slow optimisers; everything else runs with its defaults.
FAST: dict[str, dict] = {
    "fgsm": {}, "igsm": {}, "deepfool": {}, "jsma": {},
    "lbfgs": {"max_iter": 60, "binary_search_steps": 5},
    "cw": {"max_iter": 60, "binary_search_steps": 4, "initial_const": 0.1, "learning_rate": 0.01},
}
ALL = [pytest.param(k.value, marks=needs_art) if k is Attack.JSMA else k.value for k in Attack]


pytestmark = pytest.mark.usefixtures("single_thread")   # tests/conftest.py


class TinyNet(nn.Module):
    """conv3×3(16)+BN+ReLU -> conv3×3(32, stride 2)+ReLU -> global average pool -> linear. [0,1] input."""

    def __init__(self, classes: int = 4, width: int = 16):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, 2 * width, 3, padding=1, stride=2)
        self.fc = nn.Linear(2 * width, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - 0.5) / 0.25
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.conv2(x))
        return self.fc(x.mean((2, 3)))


def synthetic(n: int, seed: int, classes: int = 4, size: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
    """Noise around grey plus a faint class grating (orientation + colour per class), in [0, 1]."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, classes, (n,), generator=g)
    yy, xx = torch.meshgrid(torch.arange(size).float(), torch.arange(size).float(), indexing="ij")
    colours = torch.eye(3).repeat(2, 1)
    patterns = []
    for c in range(classes):
        angle = torch.tensor(c * np.pi / classes)
        wave = torch.sin(1.2 * (xx * torch.cos(angle) + yy * torch.sin(angle)))
        patterns.append(colours[c][:, None, None] * wave)
    x = 0.5 + 0.12 * torch.randn(n, 3, size, size, generator=g) + 0.15 * torch.stack(patterns)[y]
    return x.clamp(0, 1), y


@pytest.fixture(scope="module")
def problem() -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    model = TinyNet()
    x, y = synthetic(2048, seed=0)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(1)
    for _ in range(300):
        idx = torch.randint(0, len(x), (64,), generator=gen)
        loss = F.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    xt, yt = synthetic(48, seed=1)
    with torch.no_grad():
        correct = model(xt).argmax(1) == yt
    assert correct.float().mean() >= 0.95, "the test problem itself must be solved"
    model.zero_grad(set_to_none=True)
    return model, xt[correct][:24], yt[correct][:24]


def _pred(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return model(x).argmax(1)


# ---------------------------------------------------------------------------------------- rmse / scaling


def test_rmse_matches_direct_computation() -> None:
    g = torch.Generator().manual_seed(0)
    x, x2 = torch.rand(5, 3, 8, 8, generator=g), torch.rand(5, 3, 8, 8, generator=g)
    expected = np.sqrt(((x.numpy().astype(np.float64) - x2.numpy()) ** 2).mean(axis=(1, 2, 3)))
    got = A.rmse(x, x2)
    assert got.shape == (5,)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-6)
    # a uniform shift by 0.02 is an RMSE of exactly 0.02 (the reading of the thesis's |L2|)
    np.testing.assert_allclose(A.rmse(x * 0.5, x * 0.5 + 0.02).numpy(), 0.02, rtol=1e-5)
    with pytest.raises(ValueError):
        A.rmse(x, x2[:, :, :4])


@pytest.mark.parametrize("size", [0.005, 0.2])   # perturbation smaller / larger than the budget
def test_scale_to_budget_is_exact_without_clipping(size: float) -> None:
    g = torch.Generator().manual_seed(1)
    x = 0.3 + 0.4 * torch.rand(6, 3, 8, 8, generator=g)                 # room ≥ 0.3 on both sides
    delta = (torch.rand(6, 3, 8, 8, generator=g) - 0.5) * size
    out = A.scale_to_budget(x, x + delta, 0.03)
    np.testing.assert_allclose(A.rmse(x, out).numpy(), 0.03, rtol=1e-5)
    new = (out - x).flatten(1).double()
    cos = F.cosine_similarity(new, delta.flatten(1).double(), dim=1)
    assert torch.all(cos > 1 - 1e-6)                                       # same direction, only rescaled


def test_scale_to_budget_still_hits_target_when_clipping_binds() -> None:
    x = torch.full((2, 3, 8, 8), 0.95)
    x[:, :, :4] = 0.2                                                     # half the pixels have room 0.05
    delta = torch.full_like(x, 0.01)
    out = A.scale_to_budget(x, x + delta, 0.1)                            # naive scaling would clip at 1.0
    assert out.max() <= 1.0 and out.min() >= 0.0
    naive = (x + delta * (0.1 / 0.01)).clamp(0, 1)
    assert A.rmse(x, naive).max() < 0.09                                  # the case really clips
    np.testing.assert_allclose(A.rmse(x, out).numpy(), 0.1, rtol=1e-5)
    # zero perturbation: returned unchanged; unattainable budget: saturated, below target
    assert torch.equal(A.scale_to_budget(x, x.clone(), 0.05), x)
    ones = torch.ones(1, 3, 4, 4)
    sat = A.scale_to_budget(ones * 0.99, ones, 0.5)
    assert torch.allclose(sat, ones)
    with pytest.raises(ValueError):
        A.scale_to_budget(x, x + delta, 0.0)


# ---------------------------------------------------------------------------------------- every attack


GENEROUS = {"fgsm": 0.1, "igsm": 0.1, "deepfool": 0.25, "jsma": 0.4, "lbfgs": 0.25, "cw": 0.25}


@pytest.mark.parametrize("kind", ALL)
def test_attack_fools_undefended_model_and_reports_consistently(problem, kind: str) -> None:
    model, x, y = problem
    res = A.attack(model, x, y, kind, GENEROUS[kind], **FAST[kind])
    assert res.images.shape == x.shape and res.images.dtype == torch.float32
    assert res.images.min() >= 0.0 and res.images.max() <= 1.0
    assert res.success.dtype == torch.bool and res.success.shape == (len(x),)
    assert res.success_rate >= 0.8, f"{kind}: success {res.success_rate:.2f}"
    # success is the model's verdict on the returned images; rmse is the direct computation
    assert torch.equal(res.success, _pred(model, res.images) != y)
    direct = ((res.images.double() - x.double()) ** 2).mean((1, 2, 3)).sqrt()
    np.testing.assert_allclose(res.rmse.numpy(), direct.numpy(), rtol=1e-5, atol=1e-7)
    assert torch.all(res.rmse <= GENEROUS[kind] + 1e-6)
    p = res.params
    assert p["attack"] == kind and p["budget"] == GENEROUS[kind] and p["library"] and "torch" in p["versions"]
    assert p["non_paper_defaults"] and set(p["options"]) == set(A.DEFAULTS[kind])


@pytest.mark.parametrize("kind", ALL)
def test_deterministic_under_the_same_seed(problem, kind: str) -> None:
    model, x, y = problem
    x, y = x[:8], y[:8]
    a = A.attack(model, x, y, kind, 0.1, seed=3, **FAST[kind])
    b = A.attack(model, x, y, kind, 0.1, seed=3, **FAST[kind])
    assert torch.equal(a.images, b.images) and torch.equal(a.success, b.success)


@pytest.mark.parametrize("kind", ALL)
def test_model_parameters_buffers_mode_and_grads_untouched(problem, kind: str) -> None:
    model = copy.deepcopy(problem[0])
    _, x, y = problem
    model.train()                                       # BatchNorm would update its running stats in train mode
    model.fc.weight.grad = torch.full_like(model.fc.weight, 0.5)
    model.conv1.bias.requires_grad_(False)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    A.attack(model, x[:6], y[:6], kind, 0.05, **FAST[kind])
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before), "parameters or buffers changed"
    assert all(m.training for m in model.modules()), "training mode not restored"
    assert torch.equal(model.fc.weight.grad, torch.full_like(model.fc.weight, 0.5))
    assert all(p.grad is None for n, p in model.named_parameters() if n != "fc.weight"), "gradient leaked"
    assert not model.conv1.bias.requires_grad and model.conv1.weight.requires_grad


# ---------------------------------------------------------------------------------------- budgets


@pytest.mark.parametrize("budget", [0.02, 0.04])
def test_fgsm_hits_the_budget_per_image(problem, budget: float) -> None:
    model, x, y = problem
    x = x.clone()
    x[:4, :, :8] = 1.0                                   # saturated pixels: clipping bites, eps must grow
    res = A.attack(model, x, y, "fgsm", budget)
    # eps is solved by bisection in float64; only float32 rounding of the pixels remains (~1e-8)
    np.testing.assert_allclose(res.rmse.numpy(), budget, rtol=1e-5)
    eps = torch.tensor(res.params["eps"])
    assert torch.all(eps[:4] > budget * 1.05) and torch.allclose(eps[8:], torch.tensor(budget, dtype=eps.dtype),
                                                                 rtol=1e-3)
    delta = res.images - x                               # a sign step: every moved pixel moves by eps or clips
    assert torch.all(delta.abs().flatten(1).amax(1) <= eps.float() + 1e-6)


def test_fgsm_fixed_eps_is_an_linf_step(problem) -> None:
    model, x, y = problem
    res = A.attack(model, x, y, "fgsm", eps=0.03)
    d = (res.images - x).abs()
    assert d.max() <= 0.03 + 1e-6
    inside = (x > 0.03) & (x < 0.97)
    assert torch.allclose(d[inside], torch.tensor(0.03), atol=1e-6)
    assert res.params["eps"] == pytest.approx([0.03] * len(x))


def test_igsm_stays_within_budget_and_stops_early(problem) -> None:
    model, x, y = problem
    budget = 0.04
    res = A.attack(model, x, y, "igsm", budget)
    assert torch.all(res.rmse <= budget + 1e-6)
    steps, used = res.params["steps"], torch.tensor(res.params["steps_used"])
    assert steps == 13                                   # Kurakin's rule: ceil(min(255·0.04 + 4, 1.25·255·0.04))
    assert (used < steps).any() and torch.all(used[~res.success] == steps)
    # Without early stopping every pixel ends in the eps-ball and most sit on its surface: the
    # RMSE is eps·sqrt(fraction saturated) -> close to the budget (pixels whose gradient sign keeps
    # flipping stay inside; measured ~0.95·budget here), never above it.
    full = A.attack(model, x, y, "igsm", budget, early_stop=False)
    assert torch.all(full.rmse <= budget + 1e-6)
    assert full.rmse.mean() >= 0.85 * budget
    assert full.success_rate >= res.success_rate - 1e-9


def test_minimal_attack_budget_caps_and_rescales(problem) -> None:
    model, x, y = problem
    free = A.attack(model, x, y, "deepfool")
    r = torch.tensor(free.params["min_rmse"])
    assert free.success.all() and torch.isfinite(r).all()
    budget = float(r.median())
    capped = A.attack(model, x, y, "deepfool", budget)
    over = torch.tensor(capped.params["over_budget"])
    assert torch.equal(over, r > budget) and over.any() and (~over).any()
    np.testing.assert_allclose(capped.rmse[over].numpy(), budget, rtol=1e-5)      # scaled onto the budget
    assert torch.equal(capped.images[~over], free.images[~over])                  # kept as found
    assert capped.success_rate < free.success_rate                                # minimal: shrinking fails
    assert torch.equal(capped.success, _pred(model, capped.images) != y)


def test_minimal_attacks_find_small_perturbations(problem) -> None:
    """DeepFool, C&W and L-BFGS minimise L2: their RMSEs are well below FGSM's at equal success."""
    model, x, y = problem
    fg = A.attack(model, x, y, "fgsm", 0.1)
    for kind in ("deepfool", "cw", "lbfgs"):
        res = A.attack(model, x, y, kind, **FAST[kind])
        assert res.success_rate >= 0.9
        assert res.rmse[res.success].mean() < 0.6 * fg.rmse.mean(), kind


@pytest.mark.parametrize("kind", ["cw", "lbfgs"])
def test_search_over_c_shrinks_the_perturbation(problem, kind: str) -> None:
    """From a too-large c (10: immediate success, big perturbation) the binary search must lower c.

    This is what ART 1.20.1's CarliniL2Method gets wrong (c never decreases after a success).
    Measured here: C&W mean RMSE 0.042 (1 step) -> 0.026 (5 steps); L-BFGS 0.039 -> 0.030.
    """
    model, x, y = problem
    opts = {k: v for k, v in FAST[kind].items() if k not in ("initial_const", "binary_search_steps")}
    one = A.attack(model, x, y, kind, initial_const=10.0, binary_search_steps=1, **opts)
    five = A.attack(model, x, y, kind, initial_const=10.0, binary_search_steps=5, **opts)
    assert one.success.all() and five.success.all()
    assert five.rmse.mean() < 0.85 * one.rmse.mean()
    assert np.nanmax(five.params["const"]) < 10.0


# ---------------------------------------------------------------------------------------- specifics


def test_misclassified_images_are_left_alone(problem) -> None:
    model, x, y = problem
    wrong = (y + 1) % 4
    for kind in ("deepfool", "cw", "lbfgs"):
        res = A.attack(model, x[:4], wrong[:4], kind, **FAST[kind])
        assert torch.equal(res.images, x[:4]) and res.success.all()


@needs_art
def test_jsma_targets_are_seeded_and_exclude_the_label(problem) -> None:
    model, x, y = problem
    a = A.attack(model, x, y, "jsma", seed=0)
    b = A.attack(model, x, y, "jsma", seed=1)
    ta, tb = torch.tensor(a.params["targets"]), torch.tensor(b.params["targets"])
    assert torch.all(ta != y) and torch.all(tb != y) and not torch.equal(ta, tb)
    # theta = 1: every changed feature was pushed to the maximum, and few features change (L0 attack)
    changed = a.images != x
    assert torch.all(a.images[changed] == 1.0)
    assert changed.flatten(1).float().mean(1).max() < 0.25
    reached = _pred(model, a.images) == ta
    assert reached.float().mean() >= 0.8               # a JSMA run stops when its target is reached
    ru = A.attack(model, x, y, "jsma", target="runner_up")
    assert ru.success_rate >= 0.8


@needs_art
@pytest.mark.parametrize("gamma", [1.0, 0.05])
def test_jsma_own_equals_art(problem, gamma) -> None:
    """The batched JSMA reproduces ART's SaliencyMapMethod (same targets, same features, same stops)."""
    model, x, y = problem
    own = A.attack(model, x, y, "jsma", seed=3, gamma=gamma)
    art = A.attack(model, x, y, "jsma", seed=3, gamma=gamma, impl="art")
    assert "adversarial-robustness-toolbox" in art.params["versions"]
    assert own.params["targets"] == art.params["targets"]
    same = (own.images - art.images).flatten(1).abs().amax(1) < 1e-6
    assert same.float().mean() >= 0.9           # gradient ties may pick another feature on a rare image
    assert torch.equal(own.success, art.success) or (own.success != art.success).float().mean() <= 0.1


def test_lbfgs_options(problem) -> None:
    model, x, y = problem
    res = A.attack(model, x[:6], y[:6], "lbfgs", loss="true_class", max_iter=30, binary_search_steps=4)
    assert res.images.min() >= 0 and res.images.max() <= 1 and res.params["targets"] is None
    ru = A.attack(model, x[:6], y[:6], "lbfgs", **FAST["lbfgs"])
    assert all(t != int(lab) for t, lab in zip(ru.params["targets"], y[:6]))
    assert "scipy" in ru.params["versions"]


@needs_art
def test_cw_art_backend_runs(problem) -> None:
    model, x, y = problem
    res = A.attack(model, x[:4], y[:4], "cw", impl="art", max_iter=5, binary_search_steps=2)
    assert res.images.shape == (4, 3, 16, 16) and res.images.min() >= 0 and res.images.max() <= 1
    assert res.params["library"] == "ART CarliniL2Method"


def test_enum_and_string_are_equivalent(problem) -> None:
    model, x, y = problem
    a = A.attack(model, x[:4], y[:4], Attack.FGSM, 0.03)
    b = A.attack(model, x[:4], y[:4], "fgsm", 0.03)
    assert torch.equal(a.images, b.images)


def test_every_attack_documents_defaults_and_non_paper_choices() -> None:
    for k in Attack:
        assert k.value in A.DEFAULTS and k.value in A.LIBRARIES
        assert A.NON_PAPER_DEFAULTS[k.value], k
    assert "budget reading" in A.NON_PAPER_DEFAULTS["all"]
    rows = A.non_paper_defaults_rows("cw")
    assert {r[0] for r in rows} == {"all", "cw"} and all(len(r) == 3 and r[2] for r in rows)
    assert len(A.non_paper_defaults_rows()) == sum(len(v) for v in A.NON_PAPER_DEFAULTS.values())
    assert "sqrt(mean" in A.__doc__


# ---------------------------------------------------------------------------------------- bad inputs


def test_bad_inputs_raise(problem) -> None:
    model, x, y = problem
    with pytest.raises(ValueError, match="fgsm, igsm, deepfool, jsma, lbfgs, cw"):
        A.attack(model, x, y, "pgd", 0.03)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        A.attack(model, x * 255, y, "fgsm", 0.03)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        A.attack(model, x - 0.5, y, "deepfool")
    with pytest.raises(ValueError):
        A.attack(model, x[0], y, "fgsm", 0.03)                  # not [N, C, H, W]
    with pytest.raises(ValueError):
        A.attack(model, x, y[:-1], "fgsm", 0.03)                # label count
    with pytest.raises(ValueError):
        A.attack(model, x, y.float(), "fgsm", 0.03)             # labels must be class indices
    with pytest.raises(ValueError, match="unknown option"):
        A.attack(model, x, y, "deepfool", steps=3)
    with pytest.raises(ValueError, match="exactly one"):
        A.attack(model, x, y, "fgsm")                           # neither budget nor eps
    with pytest.raises(ValueError, match="exactly one"):
        A.attack(model, x, y, "igsm", 0.03, eps=0.03)
    for bad in (0.0, -0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="budget"):
            A.attack(model, x, y, "deepfool", bad)
    with pytest.raises(ValueError):
        A.attack(model, x, y, "cw", impl="foolbox")
    with pytest.raises(ValueError):
        A.attack(model, x, y, "lbfgs", loss="hinge")


def test_bpda_eot_stays_in_budget_and_breaks_a_randomised_defence(problem) -> None:
    """BPDA+EOT: every image within the RMSE budget and [0, 1]; against a noisy-input defence it fools
    the model far more often than the defence's own noise does; seeded defences make it deterministic."""
    model, x, y = problem
    budget = 0.08

    def defence_factory(seed: int):
        g = torch.Generator().manual_seed(seed)
        return lambda z: (z + 0.05 * torch.randn(z.shape, generator=g)).clamp(0, 1)

    adv = A.bpda_eot(model, x, y, defence_factory(0), budget, steps=10, eot=3)
    assert adv.shape == x.shape and adv.min() >= 0 and adv.max() <= 1
    assert float(A.rmse(x, adv).max()) <= budget * (1 + 1e-4)
    defended = defence_factory(9)
    clean_acc = (_pred(model, defended(x)) == y).float().mean()
    adv_acc = (_pred(model, defended(adv)) == y).float().mean()
    assert clean_acc >= 0.8 and adv_acc <= clean_acc - 0.5
    again = A.bpda_eot(model, x, y, defence_factory(0), budget, steps=10, eot=3)
    assert torch.equal(adv, again)
    with pytest.raises(ValueError, match="budget"):
        A.bpda_eot(model, x, y, defence_factory(0), 0.0)


def test_jsma_budget_is_an_l0_bound(problem) -> None:
    """With a budget, JSMA stops before the step that would pass it (L0 reading), never scaled."""
    model, x, y = problem
    free = A.attack(model, x, y, "jsma", seed=0)
    r = free.rmse
    budget = float(r[free.success].median())
    bounded = A.attack(model, x, y, "jsma", budget, seed=0)
    assert torch.all(bounded.rmse <= budget + 1e-6) and not any(bounded.params["over_budget"])
    changed = (bounded.images != x).flatten(1)
    assert torch.all(changed.sum(1) <= (free.images != x).flatten(1).sum(1))      # a prefix of the free path
    # an image that reached its target within the budget is exactly the unconstrained result
    within = free.success & (r < budget * 0.999)
    assert within.any() and torch.equal(bounded.images[within], free.images[within])
    assert 0 < bounded.success_rate < free.success_rate
    scaled = A.attack(model, x, y, "jsma", budget, seed=0, budget_reading="scaled")
    over = torch.tensor(scaled.params["over_budget"])
    assert over.any() and torch.all(scaled.rmse[over] - budget < 1e-5)            # the old reading: scaled
    with pytest.raises(ValueError, match="needs impl='own'"):
        A.attack(model, x, y, "jsma", budget, impl="art")
