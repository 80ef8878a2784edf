"""Rojas-Alvarez et al. (cifar10c_pretrained): architectures, Table 2 from Table 3, ImageNet weights from files,
the probe split, determinism and the claims' verdict logic on fixed inputs."""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
import torch
import torchvision.models as tvm
from torch import nn

from lib import claims as C
from lib.papers.cifar10c_pretrained import archs, method, paper, pretrained, render

TORCHVISION_PARAMS = {"resnet18": 11_689_512, "resnet50": 25_557_032, "resnet101": 44_549_160,
                      "vgg16": 138_357_544, "vgg19": 143_667_240, "alexnet": 61_100_840}
TINY = 1 / 16


# ---------------------------------------------------------------------------------------------
# Architectures


@pytest.mark.parametrize("name", archs.ARCHS)
def test_width_one_equals_torchvision(name):
    with torch.device("meta"):   # shapes only: no memory, no init cost
        ours, theirs = archs.torchvision_arch(name, 1.0, 1000), getattr(tvm, name)()
    assert archs.parameter_count(ours) == TORCHVISION_PARAMS[name] == archs.parameter_count(theirs)
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in theirs.state_dict().items()}


@pytest.mark.parametrize("name", archs.ARCHS)
def test_width_quarter_is_about_16x_smaller_and_runs(name):
    with torch.device("meta"):
        quarter = archs.torchvision_arch(name, 0.25, 10)
    ratio = TORCHVISION_PARAMS[name] / archs.parameter_count(quarter)
    assert 10 < ratio < 20, ratio
    net = archs.torchvision_arch(name, TINY, 10).eval()
    size = 64 if name == "alexnet" else 32
    assert net(torch.randn(2, 3, size, size)).shape == (2, 10)
    assert archs.head(net).out_features == 10


def test_alexnet_needs_63_pixels_and_bad_arguments_are_refused():
    net = archs.torchvision_arch("alexnet", TINY).eval()
    net(torch.randn(1, 3, 63, 63))
    with pytest.raises(RuntimeError):
        net(torch.randn(1, 3, 32, 32))
    with pytest.raises(KeyError, match="resnet18"):
        archs.torchvision_arch("resnet34")
    with pytest.raises(ValueError):
        archs.torchvision_arch("vgg16", 0.0)


# ---------------------------------------------------------------------------------------------
# Table 2 from Table 3


def test_relative_drop_reproduces_table2_from_table3():
    t = paper.TABLE3
    for arch in archs.ARCHS:
        for arm in ("np", "p"):
            clean = t[(t.arch == arch) & (t.arm == arm) & (t.test == "clean")].acc.iloc[0]
            c = t[(t.arch == arch) & (t.arm == arm) & (t.test == "c")].acc.iloc[0]
            assert round(method.relative_drop(clean, c)) == paper.TABLE2[arm][arch], (arch, arm)
    assert method.relative_drop(50.0, 40.0) == pytest.approx(20.0)
    np.testing.assert_allclose(method.relative_drop(np.array([0.5, 0.8]), np.array([0.5, 0.2])), [0.0, 75.0])
    with pytest.raises(ValueError):
        method.relative_drop(0.0, 0.1)


# ---------------------------------------------------------------------------------------------
# ImageNet weights from user-supplied files (tiny fakes)


def _fake_checkpoint(folder, arch: str, monkeypatch, source_arch: str | None = None, seed: int = 0) -> tuple:
    """Save a random tiny-width state dict under `<arch>-<sha256[:8]>.pth` and point CHECKPOINTS at it."""
    torch.manual_seed(seed)
    state = archs.torchvision_arch(source_arch or arch, TINY, 1000).state_dict()
    tmp = folder / "tmp.pth"
    torch.save(state, tmp)
    digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
    path = folder / f"{arch}-{digest[:8]}.pth"
    tmp.rename(path)
    monkeypatch.setitem(pretrained.CHECKPOINTS, arch, path.name)
    return path, state


def test_fake_checkpoint_loads_strictly_with_new_frozen_head(tmp_path, monkeypatch):
    path, state = _fake_checkpoint(tmp_path, "resnet18", monkeypatch)
    net = pretrained.load_imagenet_backbone("resnet18", tmp_path, width=TINY)
    assert torch.equal(net.conv1.weight, state["conv1.weight"])
    assert torch.equal(net.layer4[1].bn2.running_var, state["layer4.1.bn2.running_var"])
    assert isinstance(net.fc, nn.Linear) and net.fc.out_features == 10
    trainable = {n for n, p in net.named_parameters() if p.requires_grad}
    assert trainable == {"fc.weight", "fc.bias"}


def test_corrupt_and_foreign_checkpoints_are_refused(tmp_path, monkeypatch):
    path, _ = _fake_checkpoint(tmp_path, "vgg16", monkeypatch)
    blob = bytearray(path.read_bytes())
    blob[-10] ^= 0xFF
    path.write_bytes(bytes(blob))
    with pytest.raises(pretrained.WeightsMissing, match="corrupt"):
        pretrained.load_imagenet_backbone("vgg16", tmp_path, width=TINY)
    other = tmp_path / "other"
    other.mkdir()
    _fake_checkpoint(other, "resnet18", monkeypatch, source_arch="alexnet")   # AlexNet's tensors, ResNet's name
    with pytest.raises(pretrained.WeightsMissing, match="does not fit resnet18"):
        pretrained.load_imagenet_backbone("resnet18", other, width=TINY)


def test_missing_weights_name_every_expected_file(tmp_path):
    with pytest.raises(pretrained.WeightsMissing) as err:
        pretrained.checkpoint_file("alexnet", tmp_path)
    msg = str(err.value)
    for name in ("resnet18-f37072fd.pth", "resnet50-0676ba61.pth", "resnet101-63fe2227.pth", "vgg16-397923af.pth",
                 "vgg19-dcbb9e9d.pth", "alexnet-owt-7be5be79.pth"):
        assert name in msg
    assert str(tmp_path) in msg and "proxy" in msg


def test_study_with_imagenet_arm_fails_before_compute_naming_files(tmp_path):
    import lib
    from lib.papers.cifar10c_pretrained import protocol

    ns = {"PROFILE": "smoke", "PRETRAINED": "imagenet", "WIDTH": 1.0, "WEIGHTS_DIR": str(tmp_path),
          "ARCHS": ["resnet18", "vgg16"]}
    cfg = lib.config.resolve("cifar10c_pretrained", ns, verbose=False)
    with pytest.raises(pretrained.WeightsMissing, match=r"resnet18-f37072fd\.pth, vgg16-397923af\.pth"):
        protocol.run_study(cfg)


def test_imagenet_normalisation_and_unscaled_emulation():
    white = torch.full((1, 3, 32, 32), 255, dtype=torch.uint8)
    x = method.prepare(white, 64)
    assert x.shape == (1, 3, 64, 64)
    expected = (1 - torch.tensor(pretrained.IMAGENET_MEAN)) / torch.tensor(pretrained.IMAGENET_STD)
    torch.testing.assert_close(x[0, :, 5, 5], expected)
    raw = method.prepare(white, 32, unscaled=True)
    expected_raw = (255 - torch.tensor(pretrained.IMAGENET_MEAN)) / torch.tensor(pretrained.IMAGENET_STD)
    torch.testing.assert_close(raw[0, :, 0, 0], expected_raw)
    with pytest.raises(TypeError):
        method.prepare(white.float(), 32)


# ---------------------------------------------------------------------------------------------
# Probe split, BatchNorm recalibration, determinism


@pytest.mark.parametrize("name", archs.ARCHS)
def test_probe_split_composes_to_the_network(name):
    net = method.build_random(name, TINY, seed=1)
    size = 64 if name == "alexnet" else 32
    x = torch.randint(0, 256, (4, 3, 32, 32), dtype=torch.uint8)
    probe = method.split(net)
    assert not any(isinstance(m, nn.Dropout) for m in probe.prefix.modules())
    if name.startswith(("vgg", "alexnet")):
        assert sum(isinstance(m, nn.Dropout) for m in probe.rest.modules()) == 2
    with torch.no_grad():
        direct = net(method.prepare(x, size))
        feats = method.features(probe, x, size, through_rest=True)
    torch.testing.assert_close(probe.head(feats), direct, rtol=1e-4, atol=1e-5)


def test_bn_recalibration_sets_the_running_mean_of_the_data():
    net = method.build_random("resnet18", TINY, seed=0)
    x = torch.randint(0, 256, (40, 3, 32, 32), dtype=torch.uint8)
    n_bn = method.recalibrate_bn(net, x, 32, batch=16)   # three batches, cumulative average
    assert n_bn == 20 and not net.training
    with torch.no_grad():
        pre = net.conv1(method.prepare(x, 32))
    means = [pre[s:s + 16].mean((0, 2, 3)) for s in range(0, 40, 16)]
    torch.testing.assert_close(net.bn1.running_mean, torch.stack(means).mean(0), rtol=1e-4, atol=1e-6)


def test_random_backbones_and_head_training_are_deterministic_under_a_seed():
    a, b, c = (method.build_random("vgg16", TINY, seed=s) for s in (3, 3, 4))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not torch.equal(a.features[0].weight, c.features[0].weight)
    g = torch.Generator().manual_seed(0)
    feats, labels = torch.randn(300, 16, generator=g), torch.randint(0, 10, (300,), generator=g)
    evals = {"clean": (torch.randn(50, 16, generator=g), torch.randint(0, 10, (50,), generator=g))}
    rest = nn.Sequential(nn.Dropout(0.5))
    runs = [method.train_head(feats, labels, rest, method.new_head(16, 10, seed=7), evals, 3, 1e-2, 64, seed=5)
            for _ in range(2)]
    assert runs[0] == runs[1]
    other = method.train_head(feats, labels, rest, method.new_head(16, 10, seed=7), evals, 3, 1e-2, 64, seed=6)
    assert other != runs[0]
    assert [r["epoch"] for r in runs[0]] == [1, 2, 3] and 0 <= runs[0][-1]["clean_acc"] <= 1


def test_smoke_study_is_deterministic(tmp_path, monkeypatch):
    import lib
    from lib.papers.cifar10c_pretrained import protocol

    monkeypatch.setenv("REPRO_CACHE", str(tmp_path / "cache"))
    ns = {"PROFILE": "smoke", "ARCHS": ["resnet18"], "NO_CACHE": True, "EPOCHS": 2}
    runs = []
    for _ in range(2):
        cfg = lib.config.resolve("cifar10c_pretrained", dict(ns), verbose=False)
        runs.append(protocol.run_study(cfg))
    pd.testing.assert_frame_equal(runs[0].curves, runs[1].curves)
    pd.testing.assert_frame_equal(runs[0].cells, runs[1].cells)
    assert set(runs[0].curves.arm) == {"np", "p"} and runs[0].proxy
    assert len(runs[0].cells) == 2 * 2 * 19 * 5   # arms × seeds × corruptions × severities
    backbones = runs[0].backbones.set_index("arm").backbones
    assert backbones["np"] == 2 and backbones["p"] == 2   # PROXY_REPLICATES: one proxy backbone per seed


def test_proxy_replicates_decide_what_the_seeds_vary(tmp_path, monkeypatch):
    import lib
    from lib.papers.cifar10c_pretrained import protocol

    monkeypatch.setenv("REPRO_CACHE", str(tmp_path / "cache"))
    ns = {"PROFILE": "smoke", "ARCHS": ["alexnet"], "NO_CACHE": True, "EPOCHS": 1, "PROXY_SEED": 5}
    one = lib.config.resolve("cifar10c_pretrained", ns | {"PROXY_REPLICATES": False}, verbose=False)
    each = lib.config.resolve("cifar10c_pretrained", dict(ns), verbose=False)
    assert [protocol.proxy_seed(one, s) for s in (0, 1)] == [5, 5]
    assert [protocol.proxy_seed(each, s) for s in (0, 1)] == [5, 6]
    a, _ = protocol.proxy_backbone(each, "alexnet", 0)
    b, _ = protocol.proxy_backbone(each, "alexnet", 1)
    assert not torch.equal(next(a.parameters()), next(b.parameters()))
    res = protocol.run_study(one)
    assert res.backbones.set_index("arm").backbones["p"] == 1
    note = render._seeds_note(one, res)
    assert "one replicate of the pretraining" in note and "replicate the pretraining as well" in render._seeds_note(
        each, res)


# ---------------------------------------------------------------------------------------------
# Claims on fixed inputs


def _curves(values: dict[tuple[str, str], tuple[float, float, float, float]], noise: float = 0.0) -> pd.DataFrame:
    """Final-epoch curves (one epoch) from (arch, arm) -> (clean_acc %, c_acc %, clean_loss, c_loss), 3 seeds."""
    rows = []
    for (arch, arm), (clean, c, lc, lcc) in values.items():
        for seed, e in zip(range(3), (-noise, 0.0, noise)):
            e = e if arm == "np" else -e   # opposite per arm: paired differences scatter by ±2·noise
            rows.append({"arch": arch, "arm": arm, "seed": seed, "epoch": 1, "train_loss": 1.0,
                         "clean_acc": (clean + e + 0.1 * seed) / 100, "c_acc": (c + 0.05 * seed) / 100,
                         "clean_loss": lc, "c_loss": lcc + 0.01 * seed})
    return pd.DataFrame(rows)


def _verdict(cid: str, curves: pd.DataFrame) -> C.Verdict:
    fin = render.final_table(curves)
    ours, pap = render.with_aggregates(fin), render.with_aggregates(render.paper_final())
    return render._claim(cid, render.claim_parts(cid, render._archs(fin)), ours, pap, proxy_arm=True).verdict


def test_claim_logic_on_fixed_inputs():
    base = {(a, "np"): (30.0, 20.0, 2.0, 2.5) for a in archs.ARCHS}
    base |= {(a, "p"): (70.0, 25.0, 1.0, 4.0) for a in archs.ARCHS}
    curves = _curves(base)
    assert _verdict("cc.cc1", curves) is C.Verdict.HOLDS          # P clean 70 > NP clean 30 everywhere
    assert _verdict("cc.cc2", curves) is C.Verdict.HOLDS          # drop 64% (P) > 33% (NP)
    flipped = _curves({k: (v[0], v[1], v[2], v[3]) if k[1] == "p" else (90.0, 10.0, v[2], v[3])
                       for k, v in base.items()})
    assert _verdict("cc.cc1", flipped) is C.Verdict.FAILS
    noisy = _curves({k: (50.0 if k[1] == "p" else 49.0, v[1], v[2], v[3]) for k, v in base.items()}, noise=5.0)
    assert _verdict("cc.cc1", noisy) is C.Verdict.INCONCLUSIVE     # 1-point difference inside ±5 seed noise
    assert _verdict("cc.cc8", curves) is C.Verdict.FAILS          # AlexNet NP gap 10 points > 1
    assert _verdict("cc.cc11", curves) is C.Verdict.HOLDS         # identical ResNets: spread ≈ 0 ≤ 10
    # CC-7: VGG NP gap 5 ≤ 8 and P gap 55 ≥ 50
    vgg = dict(base) | {("vgg16", "np"): (30.0, 25.0, 2.0, 2.0), ("vgg19", "np"): (30.0, 25.0, 2.0, 2.0),
                        ("vgg16", "p"): (70.0, 15.0, 1.0, 3.0), ("vgg19", "p"): (70.0, 15.0, 1.0, 3.0)}
    assert _verdict("cc.cc7", _curves(vgg)) is C.Verdict.HOLDS
    # a claim over architectures that were not run
    only_vgg = _curves({k: v for k, v in base.items() if k[0] == "vgg16"})
    assert _verdict("cc.cc3", only_vgg) is C.Verdict.NOT_RUN


def test_paper_numbers_evidence_and_cc5_contradiction():
    fin = render.final_table(_curves({(a, arm): (50.0, 20.0, 1.0, 2.0) for a in archs.ARCHS for arm in ("np", "p")}))
    pap = render.with_aggregates(render.paper_final())
    c5 = render._claim("cc.cc5", render.claim_parts("cc.cc5", archs.ARCHS), render.with_aggregates(fin), pap, True)
    assert "satisfy 2 of 3" in c5.evidence            # ResNet18: 13.28% -> 11.24% in the paper's own table
    assert c5.text.startswith("[P arm = stand-in")
    c3 = render._claim("cc.cc3", render.claim_parts("cc.cc3", archs.ARCHS), render.with_aggregates(fin), pap, False)
    assert "satisfy 3 of 3" in c3.evidence and not c3.text.startswith("[P arm")


def test_spearman_aggregate_and_diagnosis_verdict():
    drops = {"alexnet": 5.0, "vgg16": 10.0, "resnet18": 20.0, "vgg19": 30.0, "resnet50": 40.0, "resnet101": 50.0}
    fin = pd.DataFrame([{"arch": a, "arm": "np", "seed": s, "clean_acc": 50.0, "c_acc": 50.0 * (1 - d / 100),
                         "clean_loss": 1.0, "c_loss": 1.0, "gap": 0.0, "abs_gap": 0.0, "drop": d}
                        for a, d in drops.items() for s in range(3)])
    agg = render.with_aggregates(fin)
    rho = agg[agg.arch == "_spearman"]["drop"]
    assert np.allclose(rho, 1.0)
    diag = pd.DataFrame([{"arch": a, "arm": arm, "seed": s, "scaled_acc": 0.5, "scaled_loss": 1.5,
                          "unscaled_acc": 0.1 + 0.01 * s, "unscaled_loss": 1e4 * (s + 1), "clean_acc": 0.6,
                          "clean_loss": 1.2} for a in paper.RESNETS for arm in ("np", "p") for s in range(3)])
    verdict, parts = render.diagnosis_verdict(diag)
    assert verdict is C.Verdict.HOLDS and len(parts) == 12
    diag["unscaled_acc"] = 0.6 + 0.01 * diag.seed
    assert render.diagnosis_verdict(diag)[0] is C.Verdict.FAILS


def test_lib_exposes_the_names_other_tests_rely_on() -> None:
    import lib
    from lib import corruptions
    from lib.papers.cifar10c_pretrained import archs

    assert lib.corrupt is corruptions.corrupt and lib.torchvision_arch is archs.torchvision_arch
    x = np.zeros((2, 32, 32, 3), dtype=np.uint8) + 128
    out = lib.corrupt(x, "brightness", 3, seed=0)
    assert out.dtype == np.uint8 and out.shape == x.shape and out.mean() > x.mean()


def test_proxy_scale_note_states_the_measured_gap_to_the_paper():
    """The note quotes our stand-in arm's clean accuracy range (mean over seeds) against the paper's 64.98–76.25%."""
    fin = render.final_table(_curves({("resnet18", "p"): (40.0, 38.0, 1.5, 1.6), ("vgg19", "p"): (22.0, 24.0, 1.9, 1.9),
                                      ("resnet18", "np"): (90.0, 80.0, 0.5, 0.9)}))
    note = render.proxy_scale_note(fin)
    assert "reach 22.1–40.1% clean accuracy" in note and "lowest VGG19" in note
    assert "64.98–76.25%" in note and "CC-2" in note and "CC-3," not in note and "CC-8" not in note
