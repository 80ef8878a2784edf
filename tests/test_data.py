"""Tests of lib.data: stratified splits, the synthetic stand-in, image folders, `auto`, errors.

Everything is offline and small: image folders are a few 8×8 PNGs written to tmp_path, the decoded
cache goes to tmp_path (REPRO_CACHE), and the default-size synthetic generator is replaced by a
cheap stand-in where only the split arithmetic is under test.
"""
from __future__ import annotations

import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

import lib.data
import lib.paths
from lib.data import DataError, ImageSet, load, stratified_split, stratified_subset, synthetic_images

pytestmark = pytest.mark.usefixtures("single_thread")   # tests/conftest.py


# ------------------------------------------------------------------------------------ helpers

# creation order differs from sorted order, so label = index in the *sorted* class list is pinned
DATA_TEST_CLASSES = {"zebra": 200, "ant": 40, "moth": 120}   # class -> red value of its images


def _png(path: Path, red: int, green: int, size: tuple[int, int] = (8, 8)) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    arr = np.zeros((size[1], size[0], 3), dtype=np.uint8)
    arr[..., 0], arr[..., 1], arr[..., 2] = red, green, 7
    Image.fromarray(arr).save(path)


def _write_folder(root: Path, per_class: int = 10, test_per_class: int = 0, size=(8, 8)) -> Path:
    for cls, red in DATA_TEST_CLASSES.items():
        for i in range(per_class):
            _png(root / "train" / cls / f"{i:03d}.png", red, 3 * i, size)
        for i in range(test_per_class):
            _png(root / "test" / cls / f"t{i:03d}.png", red, 250 - i, size)
    return root


def _targz(folder: Path, archive: Path, top: str = "myset") -> Path:
    """Pack under a top folder, members in class *creation* order (zebra first), not sorted."""
    with tarfile.open(archive, "w:gz") as tar:
        for split in ("train", "test"):
            for cls in DATA_TEST_CLASSES:
                for f in sorted((folder / split / cls).glob("*")):
                    tar.add(f, arcname=f"{top}/{split}/{cls}/{f.name}")
    return archive


def _check_labels(ds, sets=("train", "val", "test")) -> None:
    """Every image's red value identifies its class: labels must agree with sorted class names."""
    red_to_index = {red: ds.classes.index(cls) for cls, red in DATA_TEST_CLASSES.items()}
    for name in sets:
        part = getattr(ds, name)
        assert part.images.dtype == torch.uint8 and part.labels.dtype == torch.int64
        reds = part.images[:, 0, 0, 0].tolist()
        assert [red_to_index[r] for r in reds] == part.labels.tolist()


@pytest.fixture
def data_test_cache(tmp_path, monkeypatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("REPRO_CACHE", str(cache))
    return cache


def _cheap_synthetic(calls: list):
    """A stand-in for `synthetic_images`: balanced shuffled labels, images encode (label, index)."""
    def fake(n: int, classes: int, seed: int, size: int = 32) -> ImageSet:
        calls.append((n, classes, seed, size))
        g = torch.Generator().manual_seed(seed)
        labels = (torch.arange(n) % classes)[torch.randperm(n, generator=g)]
        images = torch.zeros(n, 3, size, size, dtype=torch.uint8)
        images[:, 0] = labels[:, None, None].to(torch.uint8)
        images[:, 1] = (torch.arange(n) % 256)[:, None, None].to(torch.uint8)
        images[:, 2] = (torch.arange(n) // 256)[:, None, None].to(torch.uint8)
        return ImageSet(images, labels.long())
    return fake


# ------------------------------------------------------------------------------------ splits


def _uneven_labels() -> torch.Tensor:
    labels = torch.cat([torch.full((c,), i) for i, c in enumerate([10, 23, 7, 50, 1])])
    return labels[torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))]


@pytest.mark.parametrize("fractions", [[0.8], [0.2], [0.5, 0.3], [0.1, 0.2, 0.3]])
def test_stratified_split_partitions_every_class(fractions: list[float]) -> None:
    labels = _uneven_labels()
    parts = stratified_split(labels, fractions, seed=3)
    assert len(parts) == len(fractions) + 1
    allidx = torch.cat(parts)
    assert sorted(allidx.tolist()) == list(range(len(labels)))            # disjoint and covering
    shares = [*fractions, 1 - sum(fractions)]
    for part, share in zip(parts, shares):
        assert part.dtype == torch.int64 and torch.equal(part, part.sort().values)
        for c in range(int(labels.max()) + 1):
            total = int((labels == c).sum())
            got = int((labels[part] == c).sum())
            assert abs(got - share * total) <= 1, (c, got, share * total)


def test_stratified_split_deterministic_and_seeded() -> None:
    labels = _uneven_labels()
    a = stratified_split(labels, [0.5], seed=1)
    b = stratified_split(labels, [0.5], seed=1)
    c = stratified_split(labels, [0.5], seed=2)
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert not torch.equal(a[0], c[0])


def test_stratified_subset_is_balanced() -> None:
    labels = torch.arange(200) % 10
    images = ImageSet(torch.zeros(200, 3, 2, 2, dtype=torch.uint8), labels)
    sub = stratified_subset(images, 50, seed=0)
    assert len(sub) == 50 and torch.bincount(sub.labels).tolist() == [5] * 10
    assert stratified_subset(images, 500, seed=0) is images
    odd = stratified_subset(images, 55, seed=0)                        # exactly n, classes within 1
    counts = torch.bincount(odd.labels, minlength=10)
    assert len(odd) == 55 and int(counts.max() - counts.min()) <= 1
    assert torch.equal(stratified_subset(images, 55, seed=0).labels, odd.labels)


# ------------------------------------------------------------------------------------ synthetic


def test_synthetic_images_shape_balance_determinism() -> None:
    a = synthetic_images(60, 10, seed=5)
    assert a.images.shape == (60, 3, 32, 32) and a.images.dtype == torch.uint8
    assert a.labels.shape == (60,) and a.labels.dtype == torch.int64
    assert torch.bincount(a.labels, minlength=10).tolist() == [6] * 10
    b = synthetic_images(60, 10, seed=5)
    assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)
    c = synthetic_images(60, 10, seed=6)
    assert not torch.equal(a.images, c.images)
    assert a.images.float().std() > 10                                  # not a constant image
    assert synthetic_images(20, 10, seed=5, size=16).images.shape == (20, 3, 16, 16)


def test_synthetic_small_spec_real_generator() -> None:
    ds = load("synthetic:n=200,test=50")
    assert (len(ds.train), len(ds.val), len(ds.test)) == (160, 40, 50)
    assert ds.source == "synthetic" and ds.banner is None and ds.num_classes == 10
    assert ds.spec == "synthetic:classes=10,n=200,test=50"
    for part, per_class in ((ds.train, 16), (ds.val, 4), (ds.test, 5)):
        assert torch.bincount(part.labels, minlength=10).tolist() == [per_class] * 10
    seen = [{bytes(im.numpy()) for im in part.images} for part in (ds.train, ds.val, ds.test)]
    assert not (seen[0] & seen[1]) and not (seen[0] & seen[2]) and not (seen[1] & seen[2])
    again = load("synthetic:n=200,test=50")
    assert torch.equal(again.train.images, ds.train.images)
    other = load("synthetic:n=200,test=50", split_seed=1)
    assert not torch.equal(other.train.labels, ds.train.labels) or not torch.equal(other.train.images, ds.train.images)


def test_synthetic_default_split_sizes(monkeypatch) -> None:
    calls: list = []
    monkeypatch.setattr(lib.data, "synthetic_images", _cheap_synthetic(calls))
    ds = load("synthetic")
    assert calls == [(2500, 10, 1234 + 10, 32)]
    assert (len(ds.train), len(ds.val), len(ds.test)) == (1600, 400, 500)
    assert ds.classes == [f"class{i:02d}" for i in range(10)]
    assert ds.spec == "synthetic:classes=10,n=2000,test=500"
    for part in (ds.train, ds.val, ds.test):                  # pairs (image, label) kept together
        assert torch.equal(part.images[:, 0, 0, 0].long(), part.labels)
    ids = [set((p.images[:, 1, 0, 0].long() + 256 * p.images[:, 2, 0, 0].long()).tolist())
           for p in (ds.train, ds.val, ds.test)]
    assert sum(map(len, ids)) == 2500 and len(set.union(*ids)) == 2500


def test_synthetic_100_classes(monkeypatch) -> None:
    calls: list = []
    monkeypatch.setattr(lib.data, "synthetic_images", _cheap_synthetic(calls))
    ds = load("synthetic:classes=100,n=2000")
    assert calls == [(2500, 100, 1234 + 100, 32)]
    assert ds.num_classes == 100 and len(ds.classes) == 100
    assert (len(ds.train), len(ds.val), len(ds.test)) == (1600, 400, 500)
    assert torch.bincount(ds.test.labels, minlength=100).tolist() == [5] * 100
    assert int(ds.train.labels.max()) == 99


@pytest.mark.parametrize("spec,match", [("synthetic:classes=7", "classes must be 10 or 100"),
                                        ("synthetic:class=100", "bad option"),
                                        ("synthetic:classes", "bad option"),
                                        ("synthetic:n=lots", "bad option")])
def test_synthetic_bad_options(spec: str, match: str) -> None:
    with pytest.raises(DataError, match=match):
        load(spec)


# ------------------------------------------------------------------------------------ image folders


@pytest.mark.parametrize("as_tar", [False, True])
def test_imagefolder_with_test_split(tmp_path, data_test_cache, as_tar: bool) -> None:
    folder = _write_folder(tmp_path / "set", per_class=10, test_per_class=3)
    path = _targz(folder, tmp_path / "set.tar.gz") if as_tar else folder
    ds = load(f"imagefolder:{path}")
    assert ds.classes == ["ant", "moth", "zebra"] and ds.source == "real" and ds.banner is None
    assert ds.spec == f"imagefolder:{path}"
    assert len(ds.test) == 9 and ds.notes == []
    assert set(ds.test.images[:, 1, 0, 0].tolist()) == {250, 249, 248}   # the test/ images themselves
    assert (len(ds.train), len(ds.val)) == (24, 6)
    assert ds.train.images.shape[1:] == (3, 8, 8)
    _check_labels(ds)
    assert list(data_test_cache.glob("datasets/*.pt"))                       # decoded cache in tmp


@pytest.mark.parametrize("as_tar", [False, True])
def test_imagefolder_without_test_split_carves_one(tmp_path, data_test_cache, as_tar: bool) -> None:
    folder = _write_folder(tmp_path / "set", per_class=10)
    path = _targz(folder, tmp_path / "set.tar.gz") if as_tar else folder
    ds = load(f"imagefolder:{path}", test_fraction=0.2)
    assert len(ds.test) == 6 and len(ds.train) + len(ds.val) == 24
    assert torch.bincount(ds.test.labels).tolist() == [2, 2, 2]
    assert len(ds.notes) == 1 and "test" in ds.notes[0] and "20%" in ds.notes[0]
    assert "split seed 0" in ds.notes[0]
    _check_labels(ds)
    # no image in two splits (within a class the green value identifies the image)
    keys = [set(zip(p.labels.tolist(), p.images[:, 1, 0, 0].tolist())) for p in (ds.train, ds.val, ds.test)]
    assert sum(map(len, keys)) == 30 and len(set.union(*keys)) == 30


def test_imagefolder_cache_follows_file_changes(tmp_path, data_test_cache) -> None:
    folder = _write_folder(tmp_path / "set", per_class=6, test_per_class=2)
    first = load(f"imagefolder:{folder}")
    assert len(first.train) + len(first.val) == 18
    _png(folder / "train" / "ant" / "extra.png", DATA_TEST_CLASSES["ant"], 99)
    second = load(f"imagefolder:{folder}")
    assert len(second.train) + len(second.val) == 19                     # not the stale cache
    _check_labels(second)


def test_imagefolder_errors(tmp_path, data_test_cache) -> None:
    with pytest.raises(DataError, match="does not exist"):
        load(f"imagefolder:{tmp_path / 'nowhere'}")
    with pytest.raises(DataError, match="needs a path"):
        load("imagefolder:")
    with pytest.raises(DataError, match="unknown dataset spec"):
        load("mnist")
    empty = tmp_path / "empty"
    (empty / "other").mkdir(parents=True)
    with pytest.raises(DataError, match="no images under 'train/"):
        load(f"imagefolder:{empty}")


def test_imagefolder_test_class_not_in_train(tmp_path, data_test_cache) -> None:
    folder = _write_folder(tmp_path / "set", per_class=6, test_per_class=1)
    _png(folder / "test" / "whale" / "0.png", 10, 10)
    with pytest.raises(DataError, match=r"'test/' has classes absent from 'train/'.*whale"):
        load(f"imagefolder:{folder}")


def test_imagefolder_corrupt_image(tmp_path, data_test_cache) -> None:
    folder = _write_folder(tmp_path / "set", per_class=6)
    (folder / "train" / "moth" / "x.png").write_bytes(b"this is not a png \x00\x01\x02")
    with pytest.raises(DataError, match=r"corrupt image .*x\.png"):
        load(f"imagefolder:{folder}")


def test_imagefolder_class_with_too_few_images(tmp_path, data_test_cache) -> None:
    folder = _write_folder(tmp_path / "set", per_class=6)
    for i in range(4):
        _png(folder / "train" / "bee" / f"{i}.png", 1, i)
    with pytest.raises(DataError, match="class 'bee' has 4 training images; need at least 5"):
        load(f"imagefolder:{folder}")


def test_imagefolder_mixed_sizes(tmp_path, data_test_cache) -> None:
    folder = _write_folder(tmp_path / "set", per_class=6)
    _png(folder / "train" / "ant" / "big.png", DATA_TEST_CLASSES["ant"], 0, size=(12, 8))
    with pytest.raises(DataError, match="different sizes"):
        load(f"imagefolder:{folder}")


def test_imagefolder_test_size_differs_from_train(tmp_path, data_test_cache) -> None:
    folder = _write_folder(tmp_path / "set", per_class=6)
    for cls, red in DATA_TEST_CLASSES.items():
        _png(folder / "test" / cls / "0.png", red, 0, size=(16, 16))
    with pytest.raises(DataError, match="resize them first"):
        load(f"imagefolder:{folder}")


# ------------------------------------------------------------------------------------ auto, cifar10


def test_auto_uses_repro_data(tmp_path, data_test_cache, monkeypatch) -> None:
    folder = _write_folder(tmp_path / "set", per_class=6, test_per_class=1)
    monkeypatch.setenv("REPRO_DATA", str(folder))
    assert lib.data.resolve_auto() == f"imagefolder:{folder}"
    ds = load("auto")
    assert ds.source == "real" and ds.banner is None and ds.spec == f"imagefolder:{folder}"
    assert ds.classes == ["ant", "moth", "zebra"]
    monkeypatch.setenv("REPRO_DATA", "synthetic:n=200,test=50")
    assert lib.data.resolve_auto() == "synthetic:n=200,test=50"


def test_auto_falls_back_to_synthetic_with_banner(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("REPRO_DATA", raising=False)
    monkeypatch.setattr(lib.paths, "CIFAR10_JPEG_ARCHIVE", tmp_path / "missing.tar.gz")
    cifar_calls: list = []

    def no_cifar(name, split_seed):
        cifar_calls.append(name)
        raise DataError(f"{name} is not under {tmp_path} and could not be downloaded")

    monkeypatch.setattr(lib.data, "_cifar", no_cifar)
    monkeypatch.setattr(lib.data, "synthetic_images", _cheap_synthetic([]))
    assert lib.data.resolve_auto() == "cifar10"
    ds = load("auto")
    assert cifar_calls == ["cifar10"]
    assert ds.source == "synthetic"
    assert ds.banner and "SYNTHETIC" in ds.banner and "could not be downloaded" in ds.banner
    assert ds.record()["banner"] == ds.banner
    with pytest.raises(DataError, match="could not be downloaded"):
        load("auto", allow_fallback=False)


def test_cifar10_offline_without_data_says_where_to_put_it(tmp_path, monkeypatch) -> None:
    import torchvision

    root = tmp_path / "data_root"
    root.mkdir()
    monkeypatch.setenv("REPRO_DATA_ROOT", str(root))
    attempts: list = []

    def offline(self):
        attempts.append(self.root)
        raise OSError("network is unreachable")

    monkeypatch.setattr(torchvision.datasets.CIFAR10, "download", offline)
    with pytest.raises(DataError) as info:
        load("cifar10")
    message = str(info.value)
    assert attempts                                      # it did try to download (and failed fast)
    assert str(root) in message and "cifar-10-batches-py" in message
    assert "REPRO_DATA_ROOT" in message and "imagefolder:PATH" in message
    assert "network is unreachable" in message
    assert list(root.iterdir()) == []


# ------------------------------------------------------------------------------- cifar10c:PATH


def _tiny_cifar10c(folder: Path, names: tuple[str, ...] = ("fog", "snow"), n: int = 4) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    labels = np.tile(np.arange(n) % 10, 5).astype(np.int64)
    np.save(folder / "labels.npy", labels)
    for i, name in enumerate(names):
        x = rng.integers(0, 256, (5 * n, 32, 32, 3), dtype=np.uint8)
        x[:, 0, 0, 0] = np.repeat(np.arange(1, 6), n) + 10 * i     # severity (and corruption) stamped in a pixel
        np.save(folder / f"{name}.npy", x)


def test_cifar10c_spec_reads_blocks_in_order(tmp_path: Path) -> None:
    _tiny_cifar10c(tmp_path / "CIFAR-10-C")
    ds = load(f"cifar10c:{tmp_path}")                             # parent folder: RobustBench convention
    assert len(ds.train) == len(ds.val) == 0 and len(ds.test) == 2 * 5 * 4
    assert ds.test.images.shape[1:] == (3, 32, 32) and ds.test.images.dtype == torch.uint8
    assert ds.test.images[:, 0, 0, 0].tolist()[::4] == [11, 12, 13, 14, 15, 1, 2, 3, 4, 5]   # snow, fog: CORRUPTIONS order
    one = load(f"cifar10c:{tmp_path / 'CIFAR-10-C'},corruption=snow,severity=3,n=2")
    assert one.test.images[:, 0, 0, 0].tolist() == [13, 13] and one.test.labels.tolist() == [0, 1]
    assert one.fingerprint != ds.fingerprint and ds.classes[0] == "airplane"


@pytest.mark.parametrize("suffix, match", [
    (",corruption=frost", "lacks frost.npy"), (",severity=6", "severity must be one of"),
    (",n=0", "n must be a positive"), (",colour=red", "bad option"), ("/nowhere", "does not exist")])
def test_cifar10c_spec_refuses_bad_input(tmp_path: Path, suffix: str, match: str) -> None:
    _tiny_cifar10c(tmp_path)
    with pytest.raises(DataError, match=match):
        load(f"cifar10c:{tmp_path}{suffix}")


def test_fingerprint_follows_content_not_place_or_time(tmp_path, data_test_cache) -> None:
    import os
    import shutil

    a = tmp_path / "a" / "set.tar"
    a.parent.mkdir()
    a.write_bytes(b"pixels" * 1000)
    first = lib.data._fingerprint(a)
    assert len(first) == 16 and list((data_test_cache / "fingerprints").iterdir())    # memoised
    b = tmp_path / "b" / "copy.tar"
    b.parent.mkdir()
    shutil.copy(a, b)
    os.utime(b, ns=(1, 1))                                        # another place, another modification time
    assert lib.data._fingerprint(b) == first
    b.write_bytes(b"pixelz" * 1000)                               # same size, other bytes
    os.utime(b, ns=(2, 2))
    assert lib.data._fingerprint(b) != first
    folder = tmp_path / "folder"
    (folder / "train" / "cat").mkdir(parents=True)
    (folder / "train" / "cat" / "0.png").write_bytes(b"x")
    one = lib.data._fingerprint(folder)
    (folder / "train" / "cat" / "0.png").rename(folder / "train" / "cat" / "1.png")  # a renamed file changes it
    assert lib.data._fingerprint(folder) != one
