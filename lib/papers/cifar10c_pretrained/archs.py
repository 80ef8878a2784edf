"""torchvision's ResNet-18/50/101, VGG-16/19 and AlexNet with a width multiplier, same module names.

`torchvision_arch(name, width=1.0, num_classes=10)` builds the network with torchvision's topology, module
names and initialisation; every channel count and hidden width is multiplied by `width` (rounded, at least
1). At `width=1` and `num_classes=1000` its `state_dict()` keys and shapes equal torchvision's, so the
IMAGENET1K_V1 checkpoints load strictly (`pretrained.load_imagenet_weights`).

Input: `[N, 3, H, W]` float (already normalised); ResNets and VGG run from 32×32 on, AlexNet needs at
least 63×63 (its last max-pool). Output: logits `[N, num_classes]` float32.

The ResNets reuse torchvision's `BasicBlock`/`Bottleneck` and its `ResNet.forward`/`_make_layer`; VGG and
AlexNet are written out because torchvision hard-codes their classifier widths (4096) and the 512·7·7 /
256·6·6 inputs.
"""
from __future__ import annotations

import torch
import torchvision.models as tvm
from torch import nn
from torchvision.models.resnet import BasicBlock, Bottleneck

ARCHS = ("resnet18", "resnet50", "resnet101", "vgg16", "vgg19", "alexnet")
MIN_INPUT = {"alexnet": 63}   # smaller inputs make AlexNet's last max-pool fail (1×1 map)
_RESNET = {"resnet18": (BasicBlock, [2, 2, 2, 2]), "resnet50": (Bottleneck, [3, 4, 6, 3]),
           "resnet101": (Bottleneck, [3, 4, 23, 3])}
_VGG = {"vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
        "vgg19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
                  512, 512, 512, 512, "M"]}


def scaled(channels: int, width: float) -> int:
    """`round(channels * width)`, at least 1."""
    return max(1, int(round(channels * width)))


class WideResNet(tvm.ResNet):
    """torchvision's `ResNet` with stem and stage widths 64·w, 128·w, 256·w, 512·w (`forward` inherited)."""

    def __init__(self, block: type[BasicBlock] | type[Bottleneck], layers: list[int], width: float,
                 num_classes: int):
        nn.Module.__init__(self)
        self._norm_layer = nn.BatchNorm2d
        self.inplanes = scaled(64, width)
        self.dilation, self.groups, self.base_width = 1, 1, 64
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, scaled(64, width), layers[0])
        self.layer2 = self._make_layer(block, scaled(128, width), layers[1], stride=2)
        self.layer3 = self._make_layer(block, scaled(256, width), layers[2], stride=2)
        self.layer4 = self._make_layer(block, scaled(512, width), layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(scaled(512, width) * block.expansion, num_classes)
        for m in self.modules():   # torchvision's initialisation
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)


class WideVGG(nn.Module):
    """torchvision's `VGG` (no BN): features, AdaptiveAvgPool2d(7), classifier of hidden width 4096·w."""

    def __init__(self, cfg: list, width: float, num_classes: int, dropout: float = 0.5):
        super().__init__()
        layers: list[nn.Module] = []
        c_in = 3
        for v in cfg:
            if v == "M":
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            else:
                c_out = scaled(v, width)
                layers += [nn.Conv2d(c_in, c_out, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
                c_in = c_out
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        hidden = scaled(4096, width)
        self.classifier = nn.Sequential(
            nn.Linear(c_in * 7 * 7, hidden), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(hidden, hidden), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(hidden, num_classes))
        for m in self.modules():   # torchvision's initialisation (init_weights=True)
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.constant_(m.bias, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


class WideAlexNet(nn.Module):
    """torchvision's `AlexNet` (PyTorch default initialisation) with every width multiplied by `width`."""

    def __init__(self, width: float, num_classes: int, dropout: float = 0.5):
        super().__init__()
        c = [scaled(v, width) for v in (64, 192, 384, 256, 256)]
        self.features = nn.Sequential(
            nn.Conv2d(3, c[0], kernel_size=11, stride=4, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(c[0], c[1], kernel_size=5, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(c[1], c[2], kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(c[2], c[3], kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(c[3], c[4], kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2))
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        hidden = scaled(4096, width)
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout), nn.Linear(c[4] * 6 * 6, hidden), nn.ReLU(inplace=True),
            nn.Dropout(p=dropout), nn.Linear(hidden, hidden), nn.ReLU(inplace=True),
            nn.Linear(hidden, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


def torchvision_arch(name: str, width: float = 1.0, num_classes: int = 10) -> nn.Module:
    """One of `ARCHS` with torchvision's topology and module names, widths multiplied by `width`.

    Args:
        name: resnet18 | resnet50 | resnet101 | vgg16 | vgg19 | alexnet.
        width: channel / hidden-width multiplier (> 0); 1.0 is torchvision's network.
        num_classes: outputs of the last linear layer (`fc` or `classifier[6]`).

    Returns:
        The network (train mode, CPU, float32); seed the global RNG first for a reproducible init.

    Raises:
        KeyError: unknown name. ValueError: width ≤ 0 or num_classes < 1.
    """
    if name not in ARCHS:
        raise KeyError(f"unknown architecture {name!r}; expected one of {', '.join(ARCHS)}")
    if not width > 0 or num_classes < 1:
        raise ValueError(f"need width > 0 and num_classes >= 1, got width={width}, num_classes={num_classes}")
    if name in _RESNET:
        block, layers = _RESNET[name]
        return WideResNet(block, layers, width, num_classes)
    if name in _VGG:
        return WideVGG(_VGG[name], width, num_classes)
    return WideAlexNet(width, num_classes)


def head(net: nn.Module) -> nn.Linear:
    """The last linear layer (`fc` for ResNets, `classifier[6]` for VGG/AlexNet): the layer the paper replaces."""
    return net.fc if isinstance(net, tvm.ResNet) else net.classifier[6]


def set_head(net: nn.Module, layer: nn.Linear) -> None:
    """Replace the last linear layer in place (`head`)."""
    if isinstance(net, tvm.ResNet):
        net.fc = layer
    else:
        net.classifier[6] = layer


def parameter_count(net: nn.Module) -> int:
    """Number of parameters (all, trainable or not)."""
    return sum(p.numel() for p in net.parameters())
