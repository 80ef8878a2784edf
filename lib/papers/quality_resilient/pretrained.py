"""The paper profile's inputs: torchvision's ImageNet VGG-16 in our `method.VGG16` layout, and the
paper's four datasets as image folders with their splits (Section 2):

    Caltech-101, Caltech-256  `SPLIT=per_class`: 25 train / 5 validation / at most 50 test images per class,
                              drawn at random (`load_per_class`)
    Scene-67                  `SPLIT=given`: the dataset's own train/test lists, 20% of each class's
                              training images held out for validation (`load_given`); `scene67_folders`
                              turns `TrainImages.txt` / `TestImages.txt` into the train/ and test/ folders
    ImageNet-50               `SPLIT=given`: 50 classes drawn at random (seeded), ImageNet's validation
                              images as the test set, 20% of training held out (`imagenet_subset` builds
                              the folder of symlinks)

Weights are never downloaded: `load_vgg16_imagenet` reads torchvision's IMAGENET1K_V1 checkpoint
`vgg16-397923af.pth` from a local path (default `torch.hub.get_dir()/checkpoints/`) and raises
`WeightsMissing` naming the file when it is absent. fc8 is the paper's new last layer: one unit per
class, Xavier-initialised; every other layer takes the checkpoint's weights.

Image folders may hold images of any size: they are read at CROP² (shorter side to CROP·8/7, centre
crop). Everything here is tested on tiny fakes; nothing is downloaded.
"""
from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import Tensor

from lib import data as data_module
from lib.data import ImageSet
from lib.papers.quality_resilient.method import CONV_LAYERS, VGG16

CHECKPOINT = "vgg16-397923af.pth"
_TV_CONV_INDEX = (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)     # torchvision vgg16().features indices
TORCHVISION_KEYS: dict[str, str] = (
    {f"layers.{n}.conv": f"features.{i}" for n, i in zip(CONV_LAYERS, _TV_CONV_INDEX)}
    | {"layers.fc6.linear": "classifier.0", "layers.fc7.linear": "classifier.3", "layers.fc8.linear": "classifier.6"})


class WeightsMissing(FileNotFoundError):
    """The VGG-16 checkpoint is not on disk or does not have VGG-16's layout (the message says which)."""


def default_checkpoint() -> Path:
    """`torch.hub.get_dir()/checkpoints/vgg16-397923af.pth`, where torchvision keeps it."""
    return Path(torch.hub.get_dir()) / "checkpoints" / CHECKPOINT


def vgg16_from_torchvision(state: dict[str, Tensor], num_classes: int, input_size: int = 224) -> VGG16:
    """Our `VGG16` (no BN) with a torchvision VGG-16 state dict's conv, fc6 and fc7 weights; fc8 new.

    Block widths and fc size are read from the checkpoint's shapes, so width-reduced fakes load too.

    Raises:
        WeightsMissing: a key is missing or a shape does not fit VGG-16's topology.
    """
    missing = [f"{v}.{p}" for v in TORCHVISION_KEYS.values() if not v.startswith("classifier.6")
               for p in ("weight", "bias") if f"{v}.{p}" not in state]
    if missing:
        raise WeightsMissing(f"not a torchvision VGG-16 state dict: missing {missing[:4]}{' …' if len(missing) > 4 else ''}")
    widths = tuple(int(state[f"features.{_TV_CONV_INDEX[i]}.weight"].shape[0]) for i in (1, 3, 6, 9, 12))
    fc = int(state["classifier.0.weight"].shape[0])
    net = VGG16(num_classes, widths, fc, bn=False, input_size=input_size)
    ours = net.state_dict()
    for our, theirs in TORCHVISION_KEYS.items():
        if our.endswith("fc8.linear"):
            continue                        # the new last layer keeps its Xavier initialisation
        for p in ("weight", "bias"):
            src = state[f"{theirs}.{p}"]
            if tuple(src.shape) != tuple(ours[f"{our}.{p}"].shape):
                raise WeightsMissing(f"{theirs}.{p} has shape {tuple(src.shape)}; VGG-16 at {input_size}² needs "
                                     f"{tuple(ours[f'{our}.{p}'].shape)}")
            ours[f"{our}.{p}"] = src.detach().float()
    net.load_state_dict(ours)
    return net


def load_vgg16_imagenet(num_classes: int, path: str | Path | None = None, input_size: int = 224) -> VGG16:
    """torchvision's ImageNet VGG-16 from a local file, fc8 replaced by `num_classes` new units.

    Raises:
        WeightsMissing: the file is absent or unreadable (the message names it), or not VGG-16.
    """
    path = Path(path) if path else default_checkpoint()
    if not path.is_file():
        raise WeightsMissing(f"VGG-16 ImageNet weights not found: {path} (torchvision's IMAGENET1K_V1 file "
                             f"{CHECKPOINT}; put it there or pass its path; nothing is downloaded)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a corrupt or foreign file: say which
        raise WeightsMissing(f"cannot read {path}: {type(exc).__name__}: {exc}") from exc
    return vgg16_from_torchvision(state, num_classes, input_size)


def per_class_split(labels: Tensor, n_train: int = 25, n_val: int = 5, max_test: int = 50, seed: int = 0
                    ) -> tuple[Tensor, Tensor, Tensor]:
    """Caltech's protocol: per class, `n_train` training, `n_val` validation and up to `max_test` test
    images, drawn at random (seeded) without overlap; classes with fewer images give what is left to test.

    Args:
        labels: `[N]` int64 class of each image.

    Returns:
        (train, val, test) int64 index tensors, each sorted.
    """
    if labels.ndim != 1:
        raise ValueError(f"labels must be [N], got {tuple(labels.shape)}")
    g = torch.Generator().manual_seed(int(seed))
    order = torch.randperm(len(labels), generator=g)
    lab = labels.cpu()[order]
    by_class = torch.sort(lab, stable=True)
    perm = order[by_class.indices]                        # random order within each class, classes ascending
    sorted_labels = by_class.values
    first = torch.searchsorted(sorted_labels, sorted_labels, side="left")
    rank = torch.arange(len(lab)) - first                 # position of each image within its class
    train = perm[rank < n_train]
    val = perm[(rank >= n_train) & (rank < n_train + n_val)]
    test = perm[(rank >= n_train + n_val) & (rank < n_train + n_val + max_test)]
    return train.sort().values, val.sort().values, test.sort().values



def load_per_class(path: str | Path, crop: int = 224, n_train: int = 25, n_val: int = 5, max_test: int = 50,
                   seed: int = 0) -> tuple[list[str], ImageSet, ImageSet, ImageSet]:
    """An image folder (`train/<class>/*`, any image sizes; a `test/` folder is pooled with it) resized
    (shorter side round(crop·8/7), centre crop `crop`², as torchvision's ImageNet presets) and split
    per class by `per_class_split` (Caltech-101/256: 25 / 5 / ≤ 50).

    Returns:
        (class names, train, val, test) with uint8 `[N, 3, crop, crop]` images on the CPU.
    """
    raw = data_module.read_image_folder(Path(path), resize=crop)
    images, labels = raw["train"]
    if raw["test"] is not None:
        images, labels = torch.cat([images, raw["test"][0]]), torch.cat([labels, raw["test"][1]])
    tr, va, te = per_class_split(labels, n_train, n_val, max_test, seed)
    return raw["classes"], ImageSet(images[tr], labels[tr]), ImageSet(images[va], labels[va]), \
        ImageSet(images[te], labels[te])


def given_split(labels: Tensor, val_fraction: float = 0.2, seed: int = 0) -> tuple[Tensor, Tensor]:
    """Hold out `val_fraction` of each class's training images (at random, seeded) for validation.

    Per class, round(val_fraction · count) images go to validation, at least one when the class has two
    or more images (Scene-67, ImageNet-50: 20%).

    Args:
        labels: `[N]` int64 class of each training image.

    Returns:
        (train, val) int64 index tensors, each sorted, disjoint, covering all N images.
    """
    if labels.ndim != 1:
        raise ValueError(f"labels must be [N], got {tuple(labels.shape)}")
    if not 0 <= val_fraction < 1:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    g = torch.Generator().manual_seed(int(seed))
    order = torch.randperm(len(labels), generator=g)
    by_class = torch.sort(labels.cpu()[order], stable=True)
    perm = order[by_class.indices]
    first = torch.searchsorted(by_class.values, by_class.values, side="left")
    rank = torch.arange(len(labels)) - first
    counts = torch.bincount(labels.cpu())[by_class.values]
    n_val = torch.round(counts * val_fraction).to(torch.int64)
    n_val = torch.where((counts >= 2) & (n_val == 0) & (val_fraction > 0), torch.ones_like(n_val), n_val)
    val = rank < n_val
    return perm[~val].sort().values, perm[val].sort().values


def load_given(path: str | Path, crop: int = 224, val_fraction: float = 0.2, seed: int = 0
               ) -> tuple[list[str], ImageSet, ImageSet, ImageSet]:
    """An image folder with the dataset's own split (`train/<class>/*`, `test/<class>/*`, any image sizes)
    read at `crop`², `val_fraction` of each class's training images held out by `given_split`.

    Returns:
        (class names, train, val, test) with uint8 `[N, 3, crop, crop]` images on the CPU.
    """
    raw = data_module.read_image_folder(Path(path), resize=crop)
    if raw["test"] is None:
        raise data_module.DataError(f"{path}: SPLIT='given' needs the dataset's test images under 'test/<class>/' "
                                    "beside 'train/<class>/' (Scene-67: scene67_folders; ImageNet-50: imagenet_subset)")
    images, labels = raw["train"]
    tr, va = given_split(labels, val_fraction, seed)
    return raw["classes"], ImageSet(images[tr], labels[tr]), ImageSet(images[va], labels[va]), ImageSet(*raw["test"])


def _link(target: Path, link: Path) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.is_symlink():
        os.symlink(target.resolve(), link)


def scene67_folders(src: str | Path, dst: str | Path) -> Path:
    """MIT Indoor Scene-67 as `dst/train/<class>/…` and `dst/test/<class>/…` symlinks, from the dataset's
    `TrainImages.txt` / `TestImages.txt` (lines `class/file.jpg`, relative to `src/Images/`).

    Raises:
        FileNotFoundError: a list or an image it names is missing (the message names it).
    """
    src, dst = Path(src), Path(dst)
    for split, listing in (("train", "TrainImages.txt"), ("test", "TestImages.txt")):
        lst = src / listing
        if not lst.is_file():
            raise FileNotFoundError(f"Scene-67 split list not found: {lst} (the dataset's {listing}, beside Images/)")
        for line in filter(None, (x.strip() for x in lst.read_text().splitlines())):
            image = src / "Images" / line
            if not image.is_file():
                raise FileNotFoundError(f"{lst} names {line}, but {image} does not exist")
            _link(image, dst / split / line)
    return dst


def imagenet_subset(src: str | Path, dst: str | Path, n_classes: int = 50, seed: int = 0) -> list[str]:
    """ImageNet-50: `n_classes` classes of an ImageNet folder (`src/train/<wnid>/`, `src/val/<wnid>/`) drawn
    at random (seeded; the paper's 50 are unlisted), linked as `dst/train/<wnid>` and `dst/test/<wnid>`
    (ImageNet's validation images are the paper's test set).

    Returns:
        The chosen wnids, sorted.
    """
    src, dst = Path(src), Path(dst)
    train = sorted(d.name for d in (src / "train").iterdir() if d.is_dir()) if (src / "train").is_dir() else []
    if len(train) < n_classes:
        raise FileNotFoundError(f"{src / 'train'}: needs at least {n_classes} class folders, found {len(train)}")
    g = torch.Generator().manual_seed(int(seed))
    chosen = sorted(train[i] for i in torch.randperm(len(train), generator=g)[:n_classes].tolist())
    for wnid in chosen:
        if not (src / "val" / wnid).is_dir():
            raise FileNotFoundError(f"{src / 'val' / wnid} missing: sort ImageNet's validation images into "
                                    "val/<wnid>/ folders first")
        _link(src / "train" / wnid, dst / "train" / wnid)
        _link(src / "val" / wnid, dst / "test" / wnid)
    return chosen
