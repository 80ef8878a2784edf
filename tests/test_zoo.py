"""lib.zoo: cards, sha256-checked loading, refusal of corrupt or mismatched checkpoints; lib.zoo_page
renders the cards. Trains the small paper-000 net for one epoch on the
synthetic stand-in (a few seconds)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from lib import data, train, zoo, zoo_page


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("zoo")
    torch.set_num_threads(1)
    card = zoo.train_entry("cifar10_net", data_spec="synthetic:n=600,test=200", epochs=1, out_dir=out, compile=False)
    return out, card


def test_card_records_what_made_the_weights(trained: tuple[Path, dict]) -> None:
    out, card = trained
    assert card["arch"] == "cifar10_net" and card["recipe"]["epochs"] == 1 and card["recipe"]["optimizer"] == "adam"
    assert card["parameters"] == sum(p.numel() for p in zoo.models.build("cifar10_net", 10).parameters())
    assert card["data"]["sizes"] == {"train": 480, "val": 120, "test": 200}
    assert card["weights"]["sha256"] == zoo._sha256(out / "cifar10_net.pt")
    assert len(card["curve"]["epoch"]) == 1 and 0.0 <= card["test_acc"] <= 1.0
    state = torch.load(out / "cifar10_net.pt", weights_only=True)
    assert all(v.dtype == torch.float16 for v in state.values() if v.is_floating_point())


def test_load_checks_sha_architecture_and_data(trained: tuple[Path, dict], tmp_path: Path) -> None:
    out, card = trained
    ds = data.load("synthetic:n=600,test=200")
    model, info = zoo.load("cifar10_net", ds, zoo_dir=out, arch="cifar10_net", width=None)
    assert abs(train.accuracy(model, ds.test.images, ds.test.labels) - card["test_acc"]) < 1e-9
    with pytest.raises(zoo.ZooError, match="is cifar10_net width None, not resnet20"):
        zoo.load("cifar10_net", ds, zoo_dir=out, arch="resnet20", width=None)
    with pytest.raises(zoo.ZooError, match="was trained on data"):
        zoo.load("cifar10_net", data.load("synthetic:n=500,test=200"), zoo_dir=out)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "cifar10_net.json").write_text(json.dumps(card))
    raw = bytearray((out / "cifar10_net.pt").read_bytes())
    raw[-100] ^= 0xFF
    (bad / "cifar10_net.pt").write_bytes(bytes(raw))
    with pytest.raises(zoo.ZooError, match="corrupt or were changed"):
        zoo.load("cifar10_net", ds, zoo_dir=bad)


def test_lookup_serves_only_matching_entries(trained: tuple[Path, dict], monkeypatch: pytest.MonkeyPatch) -> None:
    out, _ = trained
    monkeypatch.setattr(zoo, "ZOO_DIR", out)
    ds = data.load("synthetic:n=600,test=200")
    model, card = zoo.lookup("cifar10_net", None, ds)
    assert model is not None and card["name"] == "cifar10_net"
    model, reason = zoo.lookup("cifar10_net", None, data.load("synthetic:n=500,test=200"))
    assert model is None and "trained on other data" in reason
    model, reason = zoo.lookup("vgg_gap", 48, ds)
    assert model is None and reason == "no zoo entry for vgg_gap width 48"
    model, info = train.reference_or_baseline("cifar10_net", ds, train.TrainConfig(max_epochs=1), 0)
    assert info["source"] == "zoo:cifar10_net"


def test_zoo_page_renders_every_card(trained: tuple[Path, dict], tmp_path: Path) -> None:
    out, card = trained
    folder = zoo_page.build(tmp_path / "reports", out)
    md = (folder / "index.md").read_text()
    assert "cifar10_net" in md and f"{100 * card['test_acc']:.2f}%" in md and "Adam" in md
    assert (folder / "cifar10_net_curve.png").stat().st_size > 1000
    assert (folder / "cifar10_net_curve.csv").read_text().startswith("epoch,train_loss,val_loss,val_acc,lr\n1,")


def test_zoo_page_says_how_far_an_entry_falls_short_of_its_target(trained: tuple[Path, dict], tmp_path: Path) -> None:
    import json
    import shutil

    out, card = trained
    short = tmp_path / "zoo"
    short.mkdir()
    shutil.copy(out / "cifar10_net.pt", short / "cifar10_net.pt")
    (short / "cifar10_net.json").write_text(json.dumps(card | {"target_test_acc": card["test_acc"] + 0.012}))
    md = (zoo_page.build(tmp_path / "reports", short) / "index.md").read_text()
    assert "1.2 points short" in md
    md = (zoo_page.build(tmp_path / "reports2", out) / "index.md").read_text()
    assert "points short" not in md


def test_zoo_page_refuses_an_unreadable_card(tmp_path: Path) -> None:
    """A corrupt card stops the page with its path named; it is never dropped from the table unnoticed."""
    broken = tmp_path / "zoo"
    broken.mkdir()
    (broken / "resnet20.json").write_text('{"name": "resnet20", ')    # cut off mid-write
    with pytest.raises(ValueError, match=r"resnet20\.json is unreadable.*lib\.zoo train resnet20"):
        zoo_page.build(tmp_path / "reports", broken)
    assert not (tmp_path / "reports" / "zoo").exists()
