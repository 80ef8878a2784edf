"""Pixel-deflection experiment plumbing: GAP classifiers for CAM, defences, attack budgets, claims helpers."""
from __future__ import annotations

import pytest
import torch

from lib import attacks, config, models
from lib.papers.pixel_deflection import method as PD
from lib.papers.pixel_deflection import paper
from lib.papers.pixel_deflection import protocol as ex
from lib.papers.pixel_deflection import render as figs

SMOKE = {"PROFILE": "smoke", "DATA": "synthetic", "DEVICE": "cpu", "MODELS": ["vgg_gap"], "WIDTHS": {"vgg_gap": 8},
         "WEIGHTS": "random", "TRAIN_SIZE": 0, "TRAIN_EPOCHS": 1, "LR": 0.002, "MODEL_SEED": 0, "N_IMAGES": 12,
         "N_SEARCH": 8, "CHUNK": 100, "ATTACKS": ["fgsm", "deepfool"], "BUDGETS": {"fgsm": 0.05, "deepfool": 0.002},
         "LARGE_BUDGETS": {"fgsm": 0.12, "deepfool": 0.08}, "ATTACK_OPTIONS": {}, "ATTACK_SEED": 0,
         "DEFENCE_SEED": 0, "RUNS": 3, "TOP_K": 2, "TUNE": False, "ADAPTIVE": {}, "NO_CACHE": True}


@pytest.fixture(scope="module")
def cfg():
    return config.resolve("pixel_deflection", dict(SMOKE), verbose=False)


def test_vgg_gap_is_a_cam_classifier() -> None:
    torch.manual_seed(0)
    net = models.build("vgg_gap", 10, 8).eval()
    with torch.no_grad():
        net.classifier.weight.abs_()     # positive class weights: non-negative features give positive maps
    x = torch.rand(3, 3, 32, 32)
    feats = net.features(x)
    assert feats.shape == (3, 32, 8, 8) and feats.min() >= 0
    assert torch.allclose(net(x), net.classifier(feats.mean((2, 3))), atol=1e-6)
    cam = PD.robust_cam(net, x, 2)
    assert cam.shape == (3, 32, 32) and cam.min() >= 0 and torch.allclose(cam.amax((1, 2)), torch.ones(3))
    with pytest.raises(ValueError):
        models.build("resnet20", 10, 8)


def test_allconv_linear_cam_reproduces_the_logits() -> None:
    torch.manual_seed(0)
    net = models.build("allconv_bn", 10, 8).eval()
    x = torch.rand(2, 3, 32, 32)
    view = ex.LinearCam(net)
    assert torch.allclose(view.classifier(view.features(x).mean((2, 3))), net(x), atol=1e-6)
    top = net(x).argmax(1)
    cam1 = PD.robust_cam(view, x, 1)   # top-1 R-CAM = the predicted class's own map, up-sampled and normalised
    maps = view.features(x)[torch.arange(2), top][:, None]
    up = torch.nn.functional.interpolate(maps, size=(32, 32), mode="bilinear", align_corners=False)[:, 0].clamp(min=0)
    assert torch.allclose(cam1, up / up.amax((1, 2), keepdim=True), atol=1e-5)


def test_defence_pipeline_order_and_randomness() -> None:
    x = torch.rand(4, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    g = lambda s: torch.Generator().manual_seed(s)
    assert torch.equal(ex.defend(ex.NONE, x, g(0)), x) and not ex.NONE.stochastic
    bits = ex.Defence("bits", pre=("bitdepth2",))
    assert not bits.stochastic and torch.equal(ex.defend(bits, x, g(0)), ex.defend(bits, x, g(1)))
    d = ex.Defence("PD+WD", deflections=20, window=2, post=("wavelet",))
    assert d.stochastic
    a, b = ex.defend(d, x, g(0)), ex.defend(d, x, g(0))
    assert torch.equal(a, b) and not torch.equal(a, ex.defend(d, x, g(1)))
    expected = PD.wavelet_denoise(PD.deflect(x, 20, 2, None, g(0)), 0.04)
    assert torch.allclose(a, expected)
    with pytest.raises(ValueError, match="unknown defence step"):
        ex.defend(ex.Defence("bad", post=("nope",)), x, g(0))


def test_budgets_cap_normal_and_stretch_large(cfg) -> None:
    """Minimal attacks: at the normal budget perturbations are capped; at the large one they are exactly it."""
    batch = ex.correct_images(cfg, "vgg_gap", "test", cfg.n_images)
    assert len(batch.labels) > 0
    model, _ = ex.classifier(cfg, "vgg_gap")
    assert torch.equal(ex.predict(model, batch.images), batch.labels)
    normal = ex.adversarial(cfg, "vgg_gap", batch, "deepfool", "normal")
    large = ex.adversarial(cfg, "vgg_gap", batch, "deepfool", "large")
    raw = attacks.rmse(batch.images, ex._raw_attack(cfg, "vgg_gap", batch, "deepfool", None)["images"])
    assert torch.all(normal.rmse <= 0.002 * (1 + 1e-3))
    assert torch.allclose(normal.rmse, torch.minimum(raw, torch.tensor(0.002)), atol=1e-5)
    moved = raw > 0
    assert torch.allclose(large.rmse[moved], torch.full_like(large.rmse[moved], 0.08), atol=1e-4)
    fgsm = ex.adversarial(cfg, "vgg_gap", batch, "fgsm", "normal")
    assert torch.allclose(fgsm.rmse, torch.full_like(fgsm.rmse, 0.05), atol=1e-4)


def test_outcome_counts_and_destruction_rate(cfg) -> None:
    d = ex.Defence("PD", deflections=10, window=2)
    o = ex.outcome(cfg, "vgg_gap", "fgsm", d)
    assert o.correct.shape == (3, len(o.nodef)) and o.ens.shape == o.nodef.shape
    s = o.summary()
    broken = ~o.nodef
    if broken.any():
        from lib import metrics
        rates = [metrics.destruction_rate(torch.ones_like(o.nodef), o.nodef, o.correct[r]) for r in range(3)]
        assert s["destruction"] == pytest.approx(sum(rates) / 3)
    clean = ex.outcome(cfg, "vgg_gap", "clean", ex.NONE)
    assert clean.nodef.all() and clean.correct.shape[0] == 1 and clean.summary()["no_defence"] == 100


def test_interior_peak_verdicts() -> None:
    """`_interior_peak` holds for a clear interior maximum and fails when the best is at the grid's end."""
    n = 40
    ok = torch.ones(n, dtype=torch.bool)

    def out(p: float) -> ex.Outcome:
        correct = (torch.arange(n) < int(p * n))[None]
        return ex.Outcome(correct, correct[0], ok, torch.zeros(n))

    peak = {("fgsm", "K=1"): out(0.2), ("fgsm", "K=10"): out(0.9), ("fgsm", "K=100"): out(0.3)}
    assert figs._interior_peak(peak, ["K=1", "K=10", "K=100"], ["fgsm"])[0] is figs.C.Verdict.HOLDS
    edge = {("fgsm", "K=1"): out(0.2), ("fgsm", "K=10"): out(0.5), ("fgsm", "K=100"): out(0.9)}
    assert figs._interior_peak(edge, ["K=1", "K=10", "K=100"], ["fgsm"])[0] is figs.C.Verdict.FAILS


def test_scale_line_names_each_classifiers_source() -> None:
    """The scale line says what ran: zoo entries as zoo, classifiers trained here with their epoch count."""
    c = config.resolve("pixel_deflection", dict(SMOKE, MODELS=["resnet20", "vgg_gap"], TRAIN_EPOCHS=2),
                       verbose=False)
    c.note_model("ResNet-20: model zoo checkpoint resnet20 (80 epochs, onecycle, sha256 6517e1a35609), "
                 "clean test accuracy 86.8%")
    c.note_model("VGG-style (GAP): trained here (Adam), clean test accuracy 54.8%")
    line = figs.baseline_accuracies(c)
    assert "ResNet-20 86.8% (zoo)" in line and "VGG-style (GAP) 54.8% (trained here, 2 epochs)" in line
    assert "trained here" not in paper.SCALE and "zoo" not in paper.SCALE   # the sources come from the notes


def test_jsma_scale_note_only_when_jsma_leaves_most_images_correct() -> None:
    c = config.resolve("pixel_deflection", dict(SMOKE, ATTACKS=["fgsm", "jsma"], BUDGETS={"fgsm": 0.05, "jsma": 0.02},
                                                LARGE_BUDGETS={"fgsm": 0.12, "jsma": 0.05}), verbose=False)
    note = figs.jsma_scale_note(c, {"ResNet-20": 93.0, "All-Conv+BN": 94.3}, 63.7)
    assert "Our scale decides the JSMA rows" in note and "ResNet-20 93.0%, All-Conv+BN 94.3%" in note
    assert "RMSE 0.02" in note and "(thesis: 25.5%)" in note and "RMSE 0.05) 63.7% stay correct (thesis: 22.1%)" in note
    assert figs.jsma_scale_note(c, {"ResNet-20": 30.0}) is None
