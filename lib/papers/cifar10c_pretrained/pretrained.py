"""ImageNet weights for the six architectures from user-supplied torchvision checkpoint files (never downloaded).

The paper profile's "with pretraining" arm loads torchvision's IMAGENET1K_V1 checkpoints
(`resnet18-f37072fd.pth`, `resnet50-0676ba61.pth`, `resnet101-63fe2227.pth`, `vgg16-397923af.pth`,
`vgg19-dcbb9e9d.pth`, `alexnet-owt-7be5be79.pth`) from a folder: `WEIGHTS_DIR`, or by default the folder
torchvision itself reads, `torch.hub.get_dir()/checkpoints` (as `lib.papers.pixel_deflection.pretrained`).
The 8 hex digits in each file name are the start of the file's SHA-256 (torch.hub's convention); a file
whose digest does not start with them is refused as corrupt. A missing file raises `WeightsMissing`
naming every expected file, the folder and the download URL.
"""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from urllib.parse import urlparse

import torch
import torchvision.models as tvm
from torch import nn

from lib.papers.cifar10c_pretrained import archs
from lib.papers.pixel_deflection.pretrained import IMAGENET_MEAN, IMAGENET_STD, WeightsMissing

__all__ = ["CHECKPOINTS", "IMAGENET_MEAN", "IMAGENET_STD", "WeightsMissing", "checkpoint_file",
           "load_imagenet_backbone", "weights_folder"]

_ENUMS = {"resnet18": tvm.ResNet18_Weights, "resnet50": tvm.ResNet50_Weights, "resnet101": tvm.ResNet101_Weights,
          "vgg16": tvm.VGG16_Weights, "vgg19": tvm.VGG19_Weights, "alexnet": tvm.AlexNet_Weights}
URLS = {name: e.IMAGENET1K_V1.url for name, e in _ENUMS.items()}
# arch -> expected file name (torchvision's), e.g. "resnet18-f37072fd.pth"
CHECKPOINTS = {name: os.path.basename(urlparse(url).path) for name, url in URLS.items()}
_HASH = re.compile(r"-([0-9a-f]{8,})\.pth$")


def weights_folder(folder: str | Path | None = None) -> Path:
    """`folder`, or torch.hub's checkpoint folder (`$TORCH_HOME/hub/checkpoints`) when None."""
    return Path(folder).expanduser() if folder else Path(torch.hub.get_dir()) / "checkpoints"


def checkpoint_file(arch: str, folder: str | Path | None = None) -> Path:
    """The checkpoint of `arch` in `folder`, checked to exist and to match its name's SHA-256 prefix.

    Raises:
        KeyError: unknown arch. WeightsMissing: file absent (names every expected file) or its digest does
        not start with the hex digits in its name.
    """
    if arch not in CHECKPOINTS:
        raise KeyError(f"unknown architecture {arch!r}; expected one of {', '.join(CHECKPOINTS)}")
    where = weights_folder(folder)
    path = where / CHECKPOINTS[arch]
    if not path.is_file():
        present = sorted(p.name for p in where.glob("*.pth")) if where.is_dir() else []
        raise WeightsMissing(
            f"ImageNet weights for {arch} not found: {path.name} is not in {where}. This suite never downloads "
            f"weights; put torchvision's IMAGENET1K_V1 files there ({', '.join(CHECKPOINTS.values())}; "
            f"{arch}: {URLS[arch]}), or point WEIGHTS_DIR at the folder holding them, or run PRETRAINED='proxy' "
            f"(a CIFAR-pretrained stand-in, not ImageNet). Folder holds: {', '.join(present) or 'no .pth file'}.")
    match = _HASH.search(path.name)
    if match:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        if not h.hexdigest().startswith(match.group(1)):
            raise WeightsMissing(f"{path} is corrupt: its SHA-256 {h.hexdigest()[:16]}… does not start with "
                                 f"{match.group(1)} as its name says; replace it with {URLS[arch]}")
    return path


def load_imagenet_backbone(arch: str, folder: str | Path | None = None, width: float = 1.0,
                           num_classes: int = 10) -> nn.Module:
    """`archs.torchvision_arch(arch, width)` with the ImageNet checkpoint loaded strictly and a new head.

    The checkpoint's 1000-way head is loaded too (strict load), then replaced by a fresh
    `Linear(features, num_classes)`; every other parameter gets `requires_grad=False` (the paper's frozen
    backbone). `width` is 1 for the real files (tests use a reduced width with a matching fake file).

    Raises:
        WeightsMissing: file absent or corrupt, or its tensors do not fit the architecture (another network's
        file under this name).
    """
    path = checkpoint_file(arch, folder)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:   # truncated or not a state dict
        raise WeightsMissing(f"{path} cannot be read as a state dict ({type(exc).__name__}: {exc})") from exc
    net = archs.torchvision_arch(arch, width, 1000)
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise WeightsMissing(f"{path} does not fit {arch} at width {width:g} (another architecture's file?): "
                             f"{str(exc).splitlines()[0]} …") from exc
    old = archs.head(net)
    archs.set_head(net, nn.Linear(old.in_features, num_classes))
    freeze_backbone(net)
    return net


def freeze_backbone(net: nn.Module) -> nn.Module:
    """Set `requires_grad=False` on every parameter except the head's (`archs.head`), in place."""
    keep = {id(p) for p in archs.head(net).parameters()}
    for p in net.parameters():
        p.requires_grad_(id(p) in keep)
    return net
