"""Thesis ch. 3 (`aug_msroi`): the GA attack, Aug-MSROI maps, the JPEG defences and their image-quality numbers,
and the paper profile's ImageNet ResNet-50 path on a tiny fake ImageNet (random weights; no download)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from lib import attacks
from lib.papers.aug_msroi import method
from lib.papers.msroi import method as msroi_method


def _toy_model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 16 * 16, 10)).eval()


def _images(n: int = 6, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 3, 16, 16, generator=g)
    x[0] = (x[0] > 0.5).float()          # saturated pixels: clipping binds, the step must be stretched
    return x


# ------------------------------------------------------------------------------------------ GA


def test_ga_meets_the_rmse_budget_exactly_even_when_clipping_binds():
    model, x = _toy_model(), _images()
    y = model(x).argmax(1)
    for budget in (0.005, 0.02, 0.05):
        adv = method.gradient_attack(model, x, y, budget)
        assert adv.shape == x.shape and adv.dtype == torch.float32
        assert float(adv.min()) >= 0 and float(adv.max()) <= 1
        assert torch.allclose(attacks.rmse(x, adv), torch.full((len(x),), budget), rtol=1e-4, atol=1e-7)


def test_ga_steps_along_the_gradient_and_raises_the_loss():
    model, x = _toy_model(1), _images(8, 1)
    y = model(x).argmax(1)
    adv = method.gradient_attack(model, x, y, 0.02)
    before = F.cross_entropy(model(x), y, reduction="none")
    after = F.cross_entropy(model(adv), y, reduction="none")
    assert (after > before).all()
    # a random direction of the same size raises the loss far less on average
    noise = attacks.scale_to_budget(x, (x + 0.01 * torch.randn_like(x)).clamp(0, 1), 0.02)
    assert (after - before).mean() > 2 * (F.cross_entropy(model(noise), y, reduction="none") - before).mean()


def test_ga_rejects_bad_input():
    model, x = _toy_model(), _images(2)
    y = torch.zeros(2, dtype=torch.long)
    with pytest.raises(ValueError, match="budget"):
        method.gradient_attack(model, x, y, 0.0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        method.gradient_attack(model, x * 2, y, 0.02)
    with pytest.raises(ValueError, match="labels"):
        method.gradient_attack(model, x, y[:1], 0.02)


# ------------------------------------------------------------------------------------------ Aug-MSROI maps


@pytest.fixture(scope="module")
def map_net():
    return msroi_method.build_msroi(10, 3, [8, 12], 2, seed=0).eval()


def test_aug_msroi_reduces_to_the_plain_map_at_zero_perturbation(map_net):
    x8 = torch.randint(0, 256, (4, 3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(3))
    plain, _ = msroi_method.msroi_map(map_net, x8, 48, msroi_method.CODE_RANK_WEIGHTS)
    for n in (1, 4):
        aug, _ = method.aug_msroi_maps(map_net, x8.float() / 255, 48, msroi_method.CODE_RANK_WEIGHTS, n=n)
        assert aug.shape == (4, 32, 32)
        torch.testing.assert_close(aug, plain, atol=1e-5, rtol=0)


def test_aug_msroi_is_deterministic_under_a_seed_and_perturbs_otherwise(map_net):
    x = torch.rand(3, 3, 32, 32, generator=torch.Generator().manual_seed(4))
    kw = dict(n=5, sigma_in=0.05, act_scale=0.2, shift=1)

    def run(seed: int):
        return method.aug_msroi_maps(map_net, x, 48, msroi_method.CODE_RANK_WEIGHTS,
                                     generator=torch.Generator().manual_seed(seed), keep_each=True, **kw)

    (a, ea), (b, eb), (c, _) = run(7), run(7), run(8)
    assert torch.equal(a, b) and torch.equal(ea, eb)
    assert not torch.equal(a, c)
    assert ea.shape == (5, 3, 32, 32)
    assert not torch.equal(ea[0], ea[1])                    # the passes differ from each other
    assert float(a.min()) >= 0 and float(a.max()) <= 1
    # the average of the passes (before the final min-max) is what is returned
    plain, _ = method.aug_msroi_maps(map_net, x, 48, msroi_method.CODE_RANK_WEIGHTS, n=1)
    assert not torch.allclose(a, plain, atol=1e-3)


def test_aug_msroi_rejects_bad_settings(map_net):
    x = torch.rand(1, 3, 32, 32)
    with pytest.raises(ValueError, match="n must be"):
        method.aug_msroi_maps(map_net, x, 48, [1.0], n=0)
    with pytest.raises(ValueError, match=">= 0"):
        method.aug_msroi_maps(map_net, x, 48, [1.0], sigma_in=-0.1)


def test_translate_moves_content_and_is_undone_inside():
    x = torch.arange(64.0).view(1, 8, 8)
    y = method.translate(x, 1, -2)
    assert torch.equal(y[0, 1:, :6], x[0, :7, 2:])
    back = method.translate(y, -1, 2)
    assert torch.equal(back[0, :7, 2:], x[0, :7, 2:])


# ------------------------------------------------------------------------------------------ defences


def _scene(n: int = 3) -> torch.Tensor:
    g = torch.Generator().manual_seed(5)
    base = torch.rand(n, 3, 4, 4, generator=g)
    x = F.interpolate(base, size=(32, 32), mode="bilinear", align_corners=False)
    return (x + 0.1 * torch.rand(n, 3, 32, 32, generator=g)).clamp(0, 1)


def test_defences_return_images_of_the_right_shape_dtype_and_range():
    x = _scene()
    out = method.standard_jpeg(x, 50)
    assert out.shape == x.shape and out.dtype == torch.float32
    assert float(out.min()) >= 0 and float(out.max()) <= 1
    assert torch.equal(out * 255, (out * 255).round())       # decoded 8-bit pixels
    sal = torch.rand(3, 32, 32, generator=torch.Generator().manual_seed(6))
    sem, top = method.semantic_jpeg(x, sal, method.level_set(5, 30, 70, 0))
    assert sem.shape == x.shape and sem.dtype == torch.float32
    assert float(sem.min()) >= 0 and float(sem.max()) <= 1
    assert top.shape == (3,) and ((top >= 0) & (top <= 1)).all()


def test_semantic_jpeg_quantises_salient_blocks_weakly():
    x = _scene()
    levels = method.level_set(5, 10, 90, 0)
    hi, top_hi = method.semantic_jpeg(x, torch.ones(3, 32, 32), levels)
    lo, top_lo = method.semantic_jpeg(x, torch.zeros(3, 32, 32), levels)
    assert (top_hi == 1).all() and (top_lo == 0).all()
    q_hi, q_lo = method.quality_numbers(x, hi), method.quality_numbers(x, lo)
    assert (q_hi["psnr"] > q_lo["psnr"]).all()
    # a half-salient map: the salient half is closer to the original than the other half
    sal = torch.zeros(3, 32, 32)
    sal[:, :, :16] = 1
    mixed, _ = method.semantic_jpeg(x, sal, levels)
    err = (mixed - x).pow(2).mean((0, 1, 2))
    assert err[:16].mean() < err[16:].mean()


def test_level_set_shifts_and_clips():
    np.testing.assert_allclose(method.level_set(5, 30, 70, 0), [30, 40, 50, 60, 70])
    np.testing.assert_allclose(method.level_set(5, 30, 70, -35), [1, 5, 15, 25, 35])
    with pytest.raises(ValueError):
        method.semantic_jpeg(_scene(1), torch.zeros(1, 32, 32), [0.0, 50.0])


def test_quality_numbers_on_known_differences():
    x = torch.full((2, 3, 16, 16), 100 / 255)
    q = method.quality_numbers(x, x.clone())
    assert (q["rmse255"] == 0).all() and np.isinf(q["psnr"]).all() and np.allclose(q["ssim"], 1)
    q = method.quality_numbers(x, x + 2 / 255)
    np.testing.assert_allclose(q["rmse255"], 2.0, rtol=1e-6)
    np.testing.assert_allclose(q["psnr"], 20 * np.log10(255 / 2), rtol=1e-6)


def test_map_correlation():
    a = torch.rand(2, 8, 8, generator=torch.Generator().manual_seed(9))
    torch.testing.assert_close(method.map_correlation(a, 3 * a + 1), torch.ones(2))
    torch.testing.assert_close(method.map_correlation(a, -a), -torch.ones(2))
    assert float(method.map_correlation(a, torch.zeros_like(a))[0]) == 0


# ------------------------------------------------------------------------------------------ paper profile


def _fake_imagenet(root: Path) -> Path:
    from PIL import Image

    for k, wnid in enumerate(("n01000001", "n02000002", "n03000003")):
        for i in range(3):
            arr = np.full((300, 340, 3), 40 * k + 10 * i, dtype=np.uint8)
            arr[:, 170:, 1] = 200
            path = root / "val" / wnid / f"ILSVRC2012_val_{k}{i}.JPEG"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(arr).save(path, quality=90)
    return root


def test_paper_profile_loads_resnet50_and_splits_fake_imagenet(tmp_path, monkeypatch):
    import lib
    from lib.papers.aug_msroi import protocol
    from lib.papers.pixel_deflection.pretrained import WeightsMissing

    monkeypatch.setenv("REPRO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    root = _fake_imagenet(tmp_path / "inet")
    ns = {"PROFILE": "paper", "DATA": f"imagenet:{root}", "DEVICE": "cpu", "WEIGHTS": "random", "N_IMAGES": 3,
          "N_SEARCH": 2}
    cfg = lib.config.resolve("aug_msroi", ns, verbose=False)
    model, info = protocol.classifier(cfg)
    assert info["spec"]["model"] == "resnet50"
    test, search = protocol.image_set(cfg, "test"), protocol.image_set(cfg, "search")
    assert test.images.shape[:2] == (3, 3) and search.images.shape[:2] == (2, 3)
    assert not set(test.index.tolist()) & set(search.index.tolist())      # disjoint ends of one order
    assert int(test.clean_pred.max()) < 1000
    missing = lib.config.resolve("aug_msroi", ns | {"WEIGHTS": "pretrained"}, verbose=False)
    with pytest.raises(WeightsMissing):
        protocol.classifier(missing)


@pytest.mark.parametrize("profile", ["smoke", "quick", "paper"])
def test_the_map_network_is_msroi_s_under_every_profile(profile: str) -> None:
    """aug_msroi reads the MS-ROI map network from msroi's cache entry: the two papers must resolve to the
    same network spec (a diverging quick value would silently train a second, different network)."""
    from lib.papers.aug_msroi.params import PARAMS as AUG
    from lib.papers.msroi.params import PARAMS as MSROI
    from lib.papers.msroi.protocol import MapNetSpec

    aug, msroi = AUG.resolve(profile), MSROI.resolve(profile)
    assert MapNetSpec.from_params(aug) == MapNetSpec.from_params(msroi)
    assert aug["MAP_DATA"] == msroi["DATA"]
