"""Real-data checks on ../shared/data/cifar10-train-jpeg.tar.gz (50,000 CIFAR-10 training JPEGs).

The first run decodes the archive (~7 s on 2 cores) into the default cache (<repo>/cache/datasets);
later runs load the cached tensors. Skipped when the archive is absent.
"""
from __future__ import annotations

import pytest
import torch

from lib import data, models, paths, train

CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

pytestmark = [
    pytest.mark.realdata,
    pytest.mark.skipif(not paths.CIFAR10_JPEG_ARCHIVE.exists(),
                       reason=f"real CIFAR-10 archive not found at {paths.CIFAR10_JPEG_ARCHIVE}"),
]


@pytest.fixture(scope="module")
def realdata_cifar10():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)          # faster than 2 threads on a busy 2-core machine
    yield data.load(f"imagefolder:{paths.CIFAR10_JPEG_ARCHIVE}")
    torch.set_num_threads(threads)


def test_cifar10_archive_contents(realdata_cifar10) -> None:
    ds = realdata_cifar10
    assert ds.source == "real" and ds.banner is None
    assert ds.classes == CIFAR10_CLASSES
    assert (len(ds.train), len(ds.val), len(ds.test)) == (32000, 8000, 10000)
    for part, per_class in ((ds.train, 3200), (ds.val, 800), (ds.test, 1000)):
        assert part.images.shape[1:] == (3, 32, 32) and part.images.dtype == torch.uint8
        assert torch.bincount(part.labels, minlength=10).tolist() == [per_class] * 10
    assert len(ds.notes) == 1 and "test set" in ds.notes[0]          # carved test split is recorded
    total = sum(p.images.double().sum().item() for p in (ds.train, ds.val, ds.test))
    mean = total / (50000 * 3 * 32 * 32)
    assert mean == pytest.approx(120.7, abs=1.5)


def test_cifar10_net_learns_in_one_epoch(realdata_cifar10) -> None:
    ds = realdata_cifar10
    train_set = data.stratified_subset(ds.train, 8000, seed=0)
    val_set = data.stratified_subset(ds.val, 1000, seed=0)           # smaller val set: one eval only
    test_set = data.stratified_subset(ds.test, 2000, seed=0)
    assert len(train_set) == 8000 and len(test_set) == 2000
    torch.manual_seed(0)
    model = models.build("cifar10_net", 10)
    hist = train.fit(model, train_set, val_set, train.TrainConfig(max_epochs=1, batch_size=128), seed=0)
    assert hist.steps == [0, 62]                                       # before training; 8000 // 128 full batches
    acc = train.accuracy(model, test_set.images, test_set.labels)
    assert acc > 0.30, f"test accuracy {acc:.3f} after one epoch (chance 0.10)"
