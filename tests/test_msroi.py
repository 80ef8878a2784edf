"""Prakash thesis ch. 2 (msroi): composite scenes, the MS-ROI network and its rank-weighted map, the baselines,
the held-out separation, and the paper profile's loading of real image folders (tiny fakes)."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch
from PIL import Image

import lib
from lib.papers.msroi import method, protocol

pytestmark = pytest.mark.usefixtures("single_thread")


def _pool(colours: list[tuple[int, int, int]], size: int = 32) -> torch.Tensor:
    """uint8 `[len(colours), 3, size, size]`, each image one constant colour."""
    return torch.tensor(colours, dtype=torch.uint8)[:, :, None, None].expand(-1, -1, size, size).contiguous()


# ---------------------------------------------------------------------------------------------
# Scenes


def test_masks_match_pasted_pixels():
    objects = _pool([(200, 0, 0), (0, 200, 0), (0, 0, 200), (200, 200, 0), (0, 200, 200)])
    background = _pool([(60, 60, 60)])
    labels = torch.arange(5)
    lay = method.make_layouts(24, labels, 1, torch.Generator().manual_seed(3), objects=(2, 4), size_frac=(0.3, 0.5),
                              jitter=0.1, texture=0.0)
    images, inst = method.render_scenes(lay, objects, background, 96)
    assert images.shape == (24, 3, 96, 96) and images.dtype == torch.uint8 and inst.shape == (24, 96, 96)
    assert bool((inst > 0).any(dim=(1, 2)).all()), "every scene shows an object"
    for k in range(4):
        colour = objects[lay["obj"][:, k].clamp(min=0), :, 0, 0]                         # [n, 3]
        where = inst == k + 1
        expected = colour[:, :, None, None].expand(-1, -1, 96, 96)
        assert torch.equal(images.permute(1, 0, 2, 3)[:, where], expected.permute(1, 0, 2, 3)[:, where]), \
            f"slot {k}: pixels under the mask are not the pasted object's"
        assert not bool((where & ~lay["active"][:, k, None, None]).any()), "an inactive slot has pixels"
    bg = inst == 0
    assert bool((images.permute(1, 0, 2, 3)[:, bg] == 60).all()), "pixels outside every mask are not background"
    # the same layout at another size keeps the objects in place (resolution-free layouts)
    _, small = method.render_scenes(lay, objects, background, 48)
    agree = (small > 0) == (inst[:, 1::2, 1::2] > 0)
    assert agree.float().mean() > 0.97


def test_layouts_are_deterministic_under_the_seed_and_respect_the_options():
    labels = torch.arange(40) % 10
    a = method.make_layouts(50, labels, 40, torch.Generator().manual_seed(7))
    b = method.make_layouts(50, labels, 40, torch.Generator().manual_seed(7))
    c = method.make_layouts(50, labels, 40, torch.Generator().manual_seed(8))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["obj"], c["obj"])
    count = a["active"].sum(1)
    assert int(count.min()) >= 1 and int(count.max()) <= 4
    assert bool(((a["side"] >= 0.25) & (a["side"] <= 0.5)).all())
    forced = method.make_layouts(30, labels, 40, torch.Generator().manual_seed(1), objects=(2, 4), force_class=3)
    assert bool((labels[forced["obj"][:, 0]] == 3).all())
    assert torch.equal(method.largest_class(forced, labels), torch.full((30,), 3))
    pattern = method.make_layouts(5, labels, 40, torch.Generator().manual_seed(1), objects=(0, 0))
    assert not bool(pattern["active"].any())
    hot = method.multi_hot(a, labels, 10)
    assert torch.equal(hot.sum(1) > 0, a["active"].any(1)) and float(hot.max()) == 1.0
    with pytest.raises(ValueError, match="objects"):
        method.make_layouts(2, labels, 40, torch.Generator(), objects=(3, 5))
    with pytest.raises(ValueError, match="size_frac"):
        method.make_layouts(2, labels, 40, torch.Generator(), size_frac=(0.3, 0.7))


def test_soft_oracle_and_object_recall():
    inst = torch.zeros(3, 40, 40, dtype=torch.uint8)
    inst[0, 10:20, 10:20] = 1
    inst[1, 0:5, 30:40] = 2
    soft = method.soft_oracle(inst, decay=4.0)
    assert bool((soft[0][inst[0] > 0] == 1).all()) and float(soft[0][inst[0] == 0].max()) < 1
    assert float(soft[0, 10, 25]) == pytest.approx(np.exp(-6 / 4.0), rel=1e-6)      # 6 px from the square
    assert float(soft[2].abs().max()) == 0.0, "a scene without objects gets an all-zero map"
    maps = torch.zeros(3, 40, 40)
    maps[0, 10:20, 10:20] = 0.9
    mean, hit = method.object_recall(maps, inst.long(), 0.5)
    assert bool(hit[0, 0]) and not bool(hit[1, 1]) and torch.isnan(mean[2]).all()


def test_evaluation_scenes_use_held_out_images_only():
    cfg = lib.config.resolve("msroi", {"PROFILE": "smoke", "NO_CACHE": True, "N_MAP_EVAL": 6}, verbose=False)
    p = protocol.pools(cfg)

    def digests(images: torch.Tensor) -> set[str]:
        return {hashlib.sha256(x.cpu().numpy().tobytes()).hexdigest() for x in images}

    assert not digests(p["train"].images) & digests(p["heldout"].images), "an image is in both pools"
    scenes = protocol.map_eval_scenes(cfg)
    again, _ = method.render_scenes(scenes["layouts"], p["heldout"].images.cpu(), p["heldout"].images.cpu(),
                                    cfg.eval_size)
    assert torch.equal(again, scenes["images"]), "evaluation scenes were not drawn from the held-out pool"
    wrong, _ = method.render_scenes(scenes["layouts"], p["train"].images.cpu(), p["train"].images.cpu(), cfg.eval_size)
    assert not torch.equal(wrong, scenes["images"])


# ---------------------------------------------------------------------------------------------
# The map network and its map


def test_msroi_network_shapes_and_non_negative_class_maps():
    net = method.build_msroi(classes=10, per_class=3, widths=[4, 8, 8], pools=2, seed=0)
    x = torch.randint(0, 256, (2, 3, 32, 32), dtype=torch.uint8)
    f = net.class_maps(x)
    assert f.shape == (2, 10, 3, 8, 8) and float(f.detach().min()) >= 0
    z, per_class = net.scores(x)
    assert z.shape == (2, 10) and per_class.shape == (2, 10, 8, 8)
    assert torch.allclose(z, f.sum(2).mean((-2, -1)))
    assert net(x).shape == (2, 10)
    cam = method.build_cam(10, 6, [4, 8], 1, seed=0)
    assert cam(x).shape == (2, 10) and cam.feature_maps(x).shape == (2, 6, 16, 16)
    with pytest.raises(ValueError, match="pools"):
        method.trunk([4, 8], 3)


def test_rank_weighted_map_takes_the_top_classes_by_rank():
    per_class = torch.zeros(1, 6, 8, 8)
    per_class[0, 4, 1, 1] = 5.0       # the top class (largest Z) peaks at (1, 1)
    per_class[0, 2, 6, 6] = 3.0       # the second at (6, 6)
    per_class[0, 0, 3, 5] = 1.0       # the third at (3, 5)
    per_class[0, 5] = 0.01            # a flat low class: its normalised map is 0
    z = per_class.mean((-2, -1))
    m, top = method.rank_weighted(per_class, z, [0.5, 0.25, 0.125])
    assert top.tolist() == [[4, 2, 0]]
    assert float(m[0, 1, 1]) == pytest.approx(0.5) and float(m[0, 6, 6]) == pytest.approx(0.25)
    assert float(m[0, 3, 5]) == pytest.approx(0.125) and float(m[0, 0, 0]) == 0.0
    with pytest.raises(ValueError, match="weights"):
        method.rank_weighted(per_class, z, [0.1] * 7)
    net = method.build_msroi(6, 2, [4, 8], 1, seed=1)
    images = torch.randint(0, 256, (3, 3, 40, 24), dtype=torch.uint8)
    maps, tops = method.msroi_map(net, images, 16, method.CODE_RANK_WEIGHTS)
    assert maps.shape == (3, 40, 24) and tops.shape == (3, 5)
    assert float(maps.min()) >= 0 and float(maps.max()) <= 1
    z, _ = net.scores(method.resize_for_map(images, 16))
    assert torch.equal(tops, z.argsort(1, descending=True)[:, :5])


def test_spectral_residual_finds_a_salient_blob():
    yy, xx = torch.meshgrid(torch.arange(128.0), torch.arange(128.0), indexing="ij")
    smooth = 100 + 20 * torch.sin(xx / 20) + 20 * torch.cos(yy / 25)
    blob = ((yy - 90) ** 2 + (xx - 35) ** 2 < 8 ** 2).float() * 120
    image = (smooth + blob).clamp(0, 255).to(torch.uint8)[None, None].expand(1, 3, 128, 128)
    sal = method.spectral_residual(image, side=64, sigma=2.5)
    assert sal.shape == (1, 128, 128) and float(sal.min()) >= 0 and float(sal.max()) == pytest.approx(1.0)
    peak = divmod(int(sal[0].argmax()), 128)
    assert abs(peak[0] - 90) <= 12 and abs(peak[1] - 35) <= 12, f"peak at {peak}, blob at (90, 35)"
    inside = blob[None] > 0
    assert float(sal[inside].mean()) > 3 * float(sal[~inside].mean())


def test_training_reduces_the_multi_label_loss():
    labels = torch.arange(4)
    objects = _pool([(220, 30, 30), (30, 220, 30), (30, 30, 220), (220, 220, 30)], 8)
    lay = method.make_layouts(128, labels, 4, torch.Generator().manual_seed(0), objects=(1, 2), texture=0.02)
    images, _ = method.render_scenes(lay, objects, _pool([(90, 90, 90)] * 4, 8), 16)
    y = method.multi_hot(lay, labels, 4)
    p = y.mean(0)
    prior = float(-(p * p.log() + (1 - p) * (1 - p).log()).mean())    # BCE of the best constant prediction
    net = method.build_msroi(4, 2, [8, 8], 1, seed=0)
    hist = method.train(net, images, y, "bce", epochs=30, batch=32, lr=0.01, seed=0)
    assert hist[-1]["loss"] < 0.9 * prior < hist[0]["loss"]
    with pytest.raises(ValueError, match="loss"):
        method.train(net, images, y, "mse", epochs=1, batch=32, lr=0.01, seed=0)


# ---------------------------------------------------------------------------------------------
# Paper profile: real image folders (tiny fakes)


def _write(path, size, colour):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)


def test_paper_profile_reads_image_folders(tmp_path, monkeypatch):
    monkeypatch.setenv("REPRO_CACHE", str(tmp_path / "cache"))
    caltech = tmp_path / "caltech"
    for c, colour in enumerate([(200, 10, 10), (10, 200, 10), (10, 10, 200)]):
        for i in range(5):
            _write(caltech / "train" / f"{c:03d}.class{c}" / f"{i}.jpg", (40 + 7 * i, 30 + 5 * c), colour)
    cfg = lib.config.resolve("msroi", {"PROFILE": "paper", "MAP_FOLDER": str(caltech), "MAP_SIZE": 32,
                                       "MAP_WIDTHS": [4, 4], "MAP_POOLS": 2, "MAP_EPOCHS": 1, "MAP_BATCH": 4,
                                       "DEVICE": "cpu", "MAP_RANK_WEIGHTS": [0.5, 0.25, 0.25]}, verbose=False)
    p = protocol.pools(cfg)
    assert p["classes"] == ["000.class0", "001.class1", "002.class2"]
    assert p["train"].images.shape[1:] == (3, 32, 32) and len(p["train"]) + len(p["heldout"]) == 15
    assert len(p["heldout"]) == 3
    net, info = protocol.map_network(cfg)
    assert info["n"] == 12 and isinstance(net, method.MSROINet)
    maps = protocol.learned_maps(cfg, torch.randint(0, 256, (1, 3, 48, 64), dtype=torch.uint8))
    assert maps.shape == (1, 48, 64)
    # Kodak-style folder: images of different orientation; CAT2000-style: category folders
    kodak = tmp_path / "kodak"
    _write(kodak / "kodim01.png", (48, 32), (100, 120, 140))
    _write(kodak / "kodim02.png", (32, 48), (140, 120, 100))
    items = protocol._read_folder_images(str(kodak))
    assert [(n, im.shape) for n, _, im in items] == [("kodim01.png", (32, 48, 3)), ("kodim02.png", (48, 32, 3))]
    cat = tmp_path / "cat2000"
    _write(cat / "Pattern" / "001.jpg", (32, 32), (1, 2, 3))
    _write(cat / "Action" / "001.jpg", (32, 32), (1, 2, 3))
    assert sorted(g for _, g, _ in protocol._read_folder_images(str(cat))) == ["Action", "Pattern"]
    with pytest.raises(lib.data.DataError, match="does not exist"):
        protocol._read_folder_images(str(tmp_path / "missing"))
    bad = lib.config.resolve("msroi", {"PROFILE": "paper", "MAP_FOLDER": None, "DEVICE": "cpu"}, verbose=False)
    with pytest.raises(ValueError, match="MAP_FOLDER"):
        protocol.pools(bad)


def test_fig2_4_sizes_are_geometric_multiples_of_16():
    sizes = protocol.fig2_4_sizes(20, 176, 2048)
    assert sizes[0] == 176 and sizes[-1] == 2048 and all(s % 16 == 0 for s in sizes)
    assert sizes == sorted(set(sizes)) and len(sizes) >= 15
    with pytest.raises(ValueError, match="SIZES"):
        protocol.fig2_4_sizes(3, 8, 100)
