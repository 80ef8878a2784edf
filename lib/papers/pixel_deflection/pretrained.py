"""torchvision's ImageNet classifiers (ResNet-50, VGG-19, Inception-v3) behind one input convention.

Pixel Deflection's `paper` profile (thesis ch. 4) attacks and defends these three networks on ImageNet
validation images (`lib.data`'s `imagenet:PATH`, 299×299 for all three, as in the thesis).

`load_imagenet_model(name)` returns an `ImageNetClassifier`:
    input   `[N, 3, H, W]` float in [0, 1], any H, W (e.g. 299). It is resized (bilinear, no antialias,
            differentiable) to the network's native size (224 for ResNet-50 and VGG-19, 299 for
            Inception-v3), then normalised inside the model.
    output  logits `[N, 1000]` float32, classes in torchvision's order = sorted ImageNet wnids
            (`lib.data`'s `imagenet:` labels when all 1000 `val/<wnid>/` folders are present).
    CAM     `features(x) -> [N, K, h, w]` (last conv maps, after the last ReLU, before pooling) and, for
            the GAP + one-linear networks (ResNet-50: `fc`; Inception-v3: `fc`, aux logits off),
            `classifier: nn.Linear`: the protocol of `lib.papers.pixel_deflection.method.cam_parts`, so
            `robust_cam(model, images, top_k)` works. VGG-19 ends in a 3-layer MLP, so it has no CAM
            (`cam_parts` raises TypeError); the thesis's R-CAM is one map from one network, so the
            R-CAM used to defend VGG-19 is ResNet-50's.

Weights are never downloaded: `weights="pretrained"` needs torchvision's IMAGENET1K_V1 checkpoint at
`torch.hub.get_dir()/checkpoints/<file>` (`$TORCH_HOME/hub/checkpoints/`, default
`~/.cache/torch/hub/checkpoints/`) and raises `WeightsMissing` (file, URL, folder) when it is absent.
`weights="random"` builds the same architecture with torchvision's initialisation (seed first), except
Inception-v3, whose convolutions get He-normal weights: with fresh BatchNorm statistics in eval mode its
default init makes the logits all but independent of the input, and its truncnorm init overflows.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from urllib.parse import urlparse

import torch
import torch.nn.functional as F
import torchvision.models as tvm
from torch import Tensor, nn

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class ImageNetModel(str, Enum):
    RESNET50 = "resnet50"
    VGG19 = "vgg19"
    INCEPTION_V3 = "inception_v3"


class WeightsMissing(RuntimeError):
    """A pretrained checkpoint is not on disk (or unreadable); the message says which file and where."""


@dataclass(frozen=True)
class _Arch:
    builder: Callable[..., nn.Module]
    weights: tvm.WeightsEnum
    size: int                 # native input size (square)
    options: dict             # builder keyword arguments (both weight modes)


_ARCHS: dict[ImageNetModel, _Arch] = {
    ImageNetModel.RESNET50: _Arch(tvm.resnet50, tvm.ResNet50_Weights.IMAGENET1K_V1, 224, {}),
    ImageNetModel.VGG19: _Arch(tvm.vgg19, tvm.VGG19_Weights.IMAGENET1K_V1, 224, {}),
    # Google's weights expect [-1, 1] inputs: torchvision maps ImageNet-normalised input there
    # (transform_input, set for pretrained weights). init_weights=False: torchvision's own choice before
    # loading; random weights get `_he_init` instead (torchvision's truncnorm init explodes in eval mode).
    ImageNetModel.INCEPTION_V3: _Arch(tvm.inception_v3, tvm.Inception_V3_Weights.IMAGENET1K_V1, 299,
                                      {"aux_logits": False, "transform_input": True, "init_weights": False}),
}


def checkpoint_path(name: ImageNetModel | str) -> Path:
    """Where torchvision reads `name`'s IMAGENET1K_V1 checkpoint: `torch.hub.get_dir()/checkpoints/<file>`."""
    url = _ARCHS[ImageNetModel(name)].weights.url
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(urlparse(url).path)


def _require_checkpoint(name: ImageNetModel) -> Path:
    path, url = checkpoint_path(name), _ARCHS[name].weights.url
    if not path.is_file():
        raise WeightsMissing(
            f"pretrained {name.value} weights not found: {path.name} is not in {path.parent}. This machine does "
            f"not download them: fetch {url} and put it at {path} (or set TORCH_HOME to a folder holding "
            f"hub/checkpoints/{path.name}); weights='random' builds the untrained network.")
    return path


def _he_init(net: nn.Module) -> nn.Module:
    """He-normal (fan-in, ReLU gain) weights for every convolution, in place: eval-mode activations keep
    their scale through the depth (features ~O(1)), so random logits still depend on the input."""
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
    return net


def build_torchvision(name: ImageNetModel | str, weights: str = "pretrained") -> nn.Module:
    """The plain torchvision network (CPU, eval mode; Inception-v3 without aux logits).

    Args:
        name: an `ImageNetModel` value.
        weights: "pretrained" (IMAGENET1K_V1, read from disk only) or "random" (seed first).

    Raises:
        WeightsMissing: pretrained checkpoint absent or unreadable.
        ValueError: unknown name or weights.
    """
    name = ImageNetModel(name)
    arch = _ARCHS[name]
    if weights == "random":
        net = arch.builder(weights=None, **arch.options)
        return (_he_init(net) if name is ImageNetModel.INCEPTION_V3 else net).eval()
    if weights != "pretrained":
        raise ValueError(f"weights must be 'pretrained' or 'random', got {weights!r}")
    path = _require_checkpoint(name)
    try:
        return arch.builder(weights=arch.weights, progress=False, **arch.options).eval()
    except Exception as exc:  # truncated or foreign file: torchvision only hash-checks while downloading
        raise WeightsMissing(f"{path} exists but cannot be loaded ({type(exc).__name__}: {exc}); "
                             f"replace it with {arch.weights.url}") from exc


def _split(name: ImageNetModel, net: nn.Module) -> tuple[nn.Module, nn.Module, nn.Module]:
    """(trunk, pool, head) with `net(x) == head(pool(trunk(x)))` in eval mode for normalised x."""
    flatten = nn.Flatten(1)
    if name is ImageNetModel.RESNET50:
        trunk = nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool, net.layer1, net.layer2, net.layer3,
                              net.layer4)
        return trunk, nn.Sequential(net.avgpool, flatten), net.fc
    if name is ImageNetModel.VGG19:   # last conv + ReLU, then max-pool 2×2 -> avg-pool 7×7 -> MLP
        return net.features[:-1], nn.Sequential(net.features[-1], net.avgpool, flatten), net.classifier
    blocks = ["Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1", "Conv2d_3b_1x1", "Conv2d_4a_3x3",
              "maxpool2", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d",
              "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c"]
    return nn.Sequential(*(getattr(net, b) for b in blocks)), nn.Sequential(net.avgpool, net.dropout, flatten), net.fc


class ImageNetClassifier(nn.Module):
    """A torchvision ImageNet network taking `[N, 3, H, W]` float in [0, 1] (module docstring).

    Attributes:
        name: the `ImageNetModel`.
        size: native input size (224 or 299); inputs of another size are resized to it.
        trunk, pool, head: the network's parts (`head` is `nn.Linear` for ResNet-50 / Inception-v3,
            the MLP for VGG-19). Modules are shared with the torchvision net passed in.
    """

    def __init__(self, name: ImageNetModel | str, net: nn.Module):
        super().__init__()
        self.name = ImageNetModel(name)
        self.size = _ARCHS[self.name].size
        self.trunk, self.pool, self.head = _split(self.name, net)
        # Inception-v3: ImageNet normalisation followed by torchvision's transform_input is (x - 0.5) / 0.5.
        mean, std = ((0.5,) * 3, (0.5,) * 3) if self.name is ImageNetModel.INCEPTION_V3 else (IMAGENET_MEAN, IMAGENET_STD)
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1), persistent=False)

    @property
    def classifier(self) -> nn.Linear:
        """The final linear layer on globally pooled features (absent for VGG-19: AttributeError)."""
        if not isinstance(self.head, nn.Linear):
            raise AttributeError(f"{self.name.value} has an MLP head, not GAP + one linear layer")
        return self.head

    def normalise(self, x: Tensor) -> Tensor:
        """`[N, 3, H, W]` float in [0, 1] -> `[N, 3, size, size]`, resized and normalised for the network."""
        if not x.is_floating_point() or x.dim() != 4 or x.shape[1] != 3:
            raise TypeError(f"expected [N, 3, H, W] float in [0, 1], got {x.dtype} {tuple(x.shape)}")
        if x.shape[-2:] != (self.size, self.size):
            x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False, antialias=False)
        return (x - self.mean) / self.std

    def features(self, x: Tensor) -> Tensor:
        """`[N, 3, H, W]` float in [0, 1] -> last conv maps `[N, K, h, w]` (ResNet-50 2048×7×7,
        VGG-19 512×14×14, Inception-v3 2048×8×8), after the last ReLU, before pooling."""
        return self.trunk(self.normalise(x))

    def forward(self, x: Tensor) -> Tensor:
        """`[N, 3, H, W]` float in [0, 1] -> logits `[N, 1000]`."""
        return self.head(self.pool(self.features(x)))


def load_imagenet_model(name: ImageNetModel | str, weights: str = "pretrained",
                        device: torch.device | str = "cpu") -> ImageNetClassifier:
    """An ImageNet classifier in eval mode on `device` (module docstring for inputs and outputs).

    Args:
        name: "resnet50", "vgg19" or "inception_v3".
        weights: "pretrained" (torchvision IMAGENET1K_V1, from disk only) or "random" (seed first).
        device: where the parameters live.

    Raises:
        WeightsMissing: pretrained checkpoint absent or unreadable (the message names file, URL, folder).
        ValueError: unknown name or weights.
    """
    name = ImageNetModel(name)
    return ImageNetClassifier(name, build_torchvision(name, weights)).to(device).eval()
