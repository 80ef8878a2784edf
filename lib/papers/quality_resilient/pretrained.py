"""The paper profile's inputs: torchvision's ImageNet VGG-16 in our `method.VGG16` layout, and the
Caltech per-class split (25 train / 5 validation / at most 50 test images per class).

Weights are never downloaded: `load_vgg16_imagenet` reads torchvision's IMAGENET1K_V1 checkpoint
`vgg16-397923af.pth` from a local path (default `torch.hub.get_dir()/checkpoints/`) and raises
`WeightsMissing` naming the file when it is absent. fc8 is the paper's new last layer: one unit per
class, Xavier-initialised; every other layer takes the checkpoint's weights.

`load_per_class` reads an image folder of any image sizes at 224² and splits it per class.
Not yet used by `protocol` (the paper profile is not wired in this session); tested on tiny fakes.
"""
from __future__ import annotations

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
